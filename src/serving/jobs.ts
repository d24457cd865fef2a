/**
 * Index rebuild jobs: at most one runs at a time (the catalog refuses a second
 * unfinished job, so this holds across processes sharing it); each is a row
 * in the catalog with its status, progress and error, so `GET /admin/jobs/:id`
 * answers after a restart. The rebuild itself (embed the catalog with the
 * chosen model, build, verify) is the catalog's `rebuildIndex`; when it
 * succeeds the job swaps the new model and index in with one `activate`.
 */
import type { BuildStatus, CatalogStore, JobRecord } from '../catalog/store.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Serving, ServingInput, ServingSet } from './servedSet.ts';

export type JobStatus = BuildStatus;

/** A rebuild job as the API shows it (the `Job` schema of src/server/schemas.ts). */
export interface JobView {
  id: number;
  type: 'index-rebuild';
  status: JobStatus;
  model: string;
  model_version: string | null;
  build_id: number | null;
  progress: number;
  item_count: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface RebuildProgress {
  phase: 'embedding' | 'building' | 'verifying';
  done: number;
  total: number;
}

export interface RebuildRequest {
  /** Directory of the saved model to use, or null for the model now served. */
  modelDir: string | null;
  /** The set served when the job started (its embedder is reused when `modelDir` is null). */
  current: ServingSet;
  onStart: (info: { modelVersion: string; buildId: number }) => void;
  onProgress: (progress: RebuildProgress) => void;
  /**
   * Swaps the new model and index in. Called synchronously by the rebuild
   * right after its final catch-up with the catalog, so no item added or
   * deleted meanwhile is lost between catch-up and swap.
   */
  commit: (next: ServingInput) => void;
}

/** Runs a rebuild to completion, calling `commit` once on success. */
export type RebuildFn = (request: RebuildRequest) => Promise<void>;

export class JobConflictError extends ConflictError {
  constructor(readonly job: JobView) {
    super(`index rebuild job ${job.id} is still ${job.status}`, 'REBUILD_RUNNING');
  }
}

/** What a process that stopped mid-rebuild leaves behind: its job is failed on the next start. */
export const INTERRUPTED = 'interrupted: the server stopped before the job finished';

export function jobView(job: JobRecord): JobView {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    model: job.model,
    model_version: job.modelVersion,
    build_id: job.buildId,
    progress: job.progress,
    item_count: job.itemCount,
    error: job.error,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
  };
}

export class RebuildJobs {
  readonly #store: CatalogStore;
  readonly #rebuild: RebuildFn;
  readonly #serving: Serving;
  readonly #onFinished: (job: JobView) => void;

  constructor(
    store: CatalogStore,
    rebuild: RebuildFn,
    serving: Serving,
    onFinished: (job: JobView) => void = () => {},
  ) {
    this.#store = store;
    this.#rebuild = rebuild;
    this.#serving = serving;
    this.#onFinished = onFinished;
  }

  /**
   * Marks jobs a stopped process left unfinished as failed; call once at
   * start-up (their builds are failed when the index is loaded, and the old
   * index serves).
   */
  recoverInterrupted(): number {
    return this.#store.failUnfinishedJobs(INTERRUPTED);
  }

  /**
   * Starts a rebuild with the saved model `model` (name and directory), or the
   * served one when null; throws `JobConflictError` (409) while another runs.
   */
  start(model: { name: string; dir: string } | null): JobView {
    const current = this.#serving.require();
    let job: JobRecord;
    try {
      job = this.#store.createJob('index-rebuild', model?.name ?? current.modelVersion);
    } catch (err) {
      const running = this.#store.latestJob();
      if (err instanceof ConflictError && running) throw new JobConflictError(jobView(running));
      throw err;
    }
    void this.#run(job.id, model?.dir ?? null, current);
    return jobView(job);
  }

  /** The newest job, or null before the first. */
  latest(): JobView | null {
    const job = this.#store.latestJob();
    return job ? jobView(job) : null;
  }

  get(id: number): JobView {
    const job = this.#store.getJob(id);
    if (!job) throw new NotFoundError(`no job with id ${id}`, 'JOB_NOT_FOUND');
    return jobView(job);
  }

  async #run(id: number, modelDir: string | null, current: ServingSet): Promise<void> {
    const update = (patch: Parameters<CatalogStore['updateJob']>[1]) => this.#store.updateJob(id, patch);
    let committed: ServingInput | null = null;
    let finished: JobRecord;
    try {
      await this.#rebuild({
        modelDir,
        current,
        onStart: ({ modelVersion, buildId }) => update({ modelVersion, buildId }),
        onProgress: ({ phase, done, total }) =>
          update({
            status: phase,
            progress: total > 0 ? Math.min(1, done / total) : 0,
            ...(phase === 'building' ? { itemCount: total } : {}),
          }),
        commit: (next) => {
          this.#serving.activate(next);
          committed = next;
        },
      });
      const next = committed as ServingInput | null;
      if (!next) throw new Error('the rebuild finished without producing an index');
      finished = update({
        status: 'active',
        progress: 1,
        itemCount: next.index.size,
        buildId: next.buildId ?? undefined,
        modelVersion: next.embedder.modelVersion,
      });
    } catch (err) {
      finished = update({ status: 'failed', error: err instanceof Error ? err.message : String(err) });
    }
    this.#onFinished(jobView(finished));
  }
}
