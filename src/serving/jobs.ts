/**
 * Index rebuild jobs: at most one runs at a time (the catalog refuses a second
 * unfinished job, so this holds across processes sharing it); each is a row
 * in the catalog with its status, progress and error, so `GET /admin/jobs/:id`
 * answers after a restart. The rebuild itself (embed the catalog with the
 * chosen model, build, verify) is the catalog's `rebuildIndex`; when it
 * succeeds the job swaps the new model and index in with one `activate`.
 */
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import type { BuildStatus, JobRecord, JobUpdate } from '../catalog/store.ts';
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
   * Swaps the new model and index in, right after the rebuild's final
   * catch-up with the catalog; `next.changeSeq` (read before that catch-up)
   * lets the change feed apply to the new set whatever was written meanwhile.
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
  readonly #store: AsyncCatalogStore;
  readonly #rebuild: RebuildFn;
  readonly #serving: Serving;
  readonly #onFinished: (job: JobView) => void;

  constructor(
    store: AsyncCatalogStore,
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
   * index serves). Skipped (0) while another process sharing the catalog
   * holds the rebuild lock: its job is running, not interrupted.
   */
  async recoverInterrupted(): Promise<number> {
    let failed = 0;
    await this.#store.tryExclusive('rebuild', async () => {
      failed = await this.#store.failUnfinishedJobs(INTERRUPTED);
    });
    return failed;
  }

  /**
   * Starts a rebuild with the saved model `model` (name and directory), or the
   * served one when null; throws `JobConflictError` (409) while another runs.
   */
  async start(model: { name: string; dir: string } | null): Promise<JobView> {
    const current = this.#serving.require();
    let job: JobRecord;
    try {
      job = await this.#store.createJob('index-rebuild', model?.name ?? current.modelVersion);
    } catch (err) {
      const running = await this.#store.latestJob();
      if (err instanceof ConflictError && running) throw new JobConflictError(jobView(running));
      throw err;
    }
    void this.#run(job.id, model?.dir ?? null, current);
    return jobView(job);
  }

  /** The newest job, or null before the first. */
  async latest(): Promise<JobView | null> {
    const job = await this.#store.latestJob();
    return job ? jobView(job) : null;
  }

  async get(id: number): Promise<JobView> {
    const job = await this.#store.getJob(id);
    if (!job) throw new NotFoundError(`no job with id ${id}`, 'JOB_NOT_FOUND');
    return jobView(job);
  }

  async #run(id: number, modelDir: string | null, current: ServingSet): Promise<void> {
    const update = (patch: JobUpdate) => this.#store.updateJob(id, patch);
    // Progress is advisory: a lost update (the catalog briefly unreachable) must not fail the rebuild.
    // Chained, so updates land in order and none after the final one.
    let reported: Promise<unknown> = Promise.resolve();
    const report = (patch: JobUpdate) => {
      reported = reported.then(() => update(patch)).catch(() => {});
    };
    let committed: ServingInput | null = null;
    let finished: JobRecord | null = null;
    try {
      // One rebuild at a time across processes sharing the catalog; also tells a starting
      // replica that this job is running, not interrupted (see recoverInterrupted).
      await this.#store.exclusive('rebuild', () =>
        this.#rebuild({
          modelDir,
          current,
          onStart: ({ modelVersion, buildId }) => report({ modelVersion, buildId }),
          onProgress: ({ phase, done, total }) =>
            report({
              status: phase,
              progress: total > 0 ? Math.min(1, done / total) : 0,
              ...(phase === 'building' ? { itemCount: total } : {}),
            }),
          commit: (next) => {
            this.#serving.activate(next);
            committed = next;
          },
        }),
      );
      const next = committed as ServingInput | null;
      if (!next) throw new Error('the rebuild finished without producing an index');
      await reported;
      finished = await update({
        status: 'active',
        progress: 1,
        itemCount: next.index.size,
        buildId: next.buildId ?? undefined,
        modelVersion: next.embedder.modelVersion,
      });
    } catch (err) {
      await reported;
      finished = await update({
        status: 'failed',
        error: err instanceof Error ? err.message : String(err),
      }).catch(() => null);
    }
    // Unrecorded (the catalog unreachable): the next start fails the job as interrupted.
    if (finished) this.#onFinished(jobView(finished));
  }
}
