/**
 * Index rebuild jobs: at most one runs at a time; its progress is kept in
 * memory for `GET /admin/jobs/:id`. The rebuild itself (embed the catalog with
 * the chosen model, build, verify) is the catalog's `rebuildIndex`; when it
 * succeeds the job swaps the new model and index in with one `activate`.
 */
import type { BuildStatus } from '../catalog/store.ts';
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

const FINISHED: ReadonlySet<JobStatus> = new Set(['active', 'failed']);
/** Finished jobs remembered; older ones are forgotten (their builds stay in the catalog). */
const KEEP_FINISHED = 100;

export class RebuildJobs {
  readonly #jobs = new Map<number, JobView>();
  readonly #rebuild: RebuildFn;
  readonly #serving: Serving;
  readonly #onFinished: (job: JobView) => void;
  #nextId = 1;
  #running: JobView | null = null;

  constructor(rebuild: RebuildFn, serving: Serving, onFinished: (job: JobView) => void = () => {}) {
    this.#rebuild = rebuild;
    this.#serving = serving;
    this.#onFinished = onFinished;
  }

  /**
   * Starts a rebuild with the saved model `model` (name and directory), or the
   * served one when null; throws `JobConflictError` (409) while another runs.
   */
  start(model: { name: string; dir: string } | null): JobView {
    if (this.#running) throw new JobConflictError({ ...this.#running });
    const current = this.#serving.require();
    const job: JobView = {
      id: this.#nextId++,
      type: 'index-rebuild',
      status: 'queued',
      model: model?.name ?? current.modelVersion,
      model_version: null,
      build_id: null,
      progress: 0,
      item_count: null,
      error: null,
      started_at: new Date().toISOString(),
      finished_at: null,
    };
    this.#jobs.set(job.id, job);
    this.#running = job;
    this.#forgetOld();
    // A rebuild cut short by shutdown leaves its build unfinished; the next start marks it failed.
    void this.#run(job, model?.dir ?? null, current);
    return { ...job };
  }

  /** The newest job, or null before the first. */
  latest(): JobView | null {
    const newest = [...this.#jobs.values()].at(-1);
    return newest ? { ...newest } : null;
  }

  get(id: number): JobView {
    const job = this.#jobs.get(id);
    if (!job) throw new NotFoundError(`no job with id ${id}`, 'JOB_NOT_FOUND');
    return { ...job };
  }

  async #run(job: JobView, modelDir: string | null, current: ServingSet): Promise<void> {
    let committed: ServingInput | null = null;
    try {
      await this.#rebuild({
        modelDir,
        current,
        onStart: ({ modelVersion, buildId }) => {
          job.model_version = modelVersion;
          job.build_id = buildId;
        },
        onProgress: ({ phase, done, total }) => {
          job.status = phase;
          job.progress = total > 0 ? Math.min(1, done / total) : 0;
          if (phase === 'building') job.item_count = total;
        },
        commit: (next) => {
          this.#serving.activate(next);
          committed = next;
        },
      });
      const next = committed as ServingInput | null;
      if (!next) throw new Error('the rebuild finished without producing an index');
      job.status = 'active';
      job.progress = 1;
      job.item_count = next.index.size;
      job.build_id = next.buildId;
      job.model_version = next.embedder.modelVersion;
    } catch (err) {
      job.status = 'failed';
      job.error = err instanceof Error ? err.message : String(err);
    } finally {
      job.finished_at = new Date().toISOString();
      this.#running = null;
      this.#onFinished({ ...job });
    }
  }

  #forgetOld(): void {
    const finished = [...this.#jobs.values()].filter((j) => FINISHED.has(j.status));
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.#jobs.delete(job.id);
  }
}
