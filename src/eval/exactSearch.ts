import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ValidationError } from '../errors.ts';
import { startWorker } from '../workers/startWorker.ts';
import { type SearchJob, searchRange, type VectorArray } from './searchKernel.ts';
import type { SearchWorkerData, SearchWorkerMessage } from './searchWorker.ts';

export type { VectorArray };

export interface ExactSearchOptions {
  /** Neighbours returned with index and distance per query. */
  k: number;
  /** With `galleryLabels`: also return the labels of the first `labelDepth` neighbours (may exceed k). */
  labelDepth?: number;
  galleryLabels?: Uint8Array;
  /** Queries are the gallery itself (row i = item i): a query never gets itself as a neighbour. */
  leaveOneOut?: boolean;
  /** Worker threads; 0 runs in this thread. Default: min(2, cores), 0 for small jobs. */
  workers?: number;
  /** Called with the number of queries finished since the last call. */
  onProgress?: (done: number) => void;
}

export interface ExactSearchResult {
  queryCount: number;
  k: number;
  /** queryCount * k gallery indices, nearest first; ties in distance broken by the lower index. */
  indices: Int32Array;
  /** queryCount * k euclidean distances in the input's units (float64-accurate). */
  distances: Float64Array;
  labelDepth: number;
  /** queryCount * labelDepth labels of the ranked neighbours (only with galleryLabels). */
  labels: Uint8Array | null;
}

/** Below this many distance terms, starting workers costs more than it saves. */
const SMALL_JOB_TERMS = 2e8;
const WORKER_CHUNK = 64;

/**
 * A copy in shared memory for the workers. Bytes become float32 on the way: the same exact values
 * and integer distances, but V8's float loop runs ~1.5x faster than its byte loop (measured at 784-d).
 */
function toSharedVectors(a: VectorArray): VectorArray {
  if (a instanceof Uint8Array) {
    const out = new Float32Array(new SharedArrayBuffer(a.length * 4));
    out.set(a);
    return out;
  }
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out =
    a instanceof Float32Array
      ? new Float32Array(new SharedArrayBuffer(a.byteLength))
      : new Float64Array(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

function toSharedLabels(a: Uint8Array): Uint8Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = new Uint8Array(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

function assertFinite(a: VectorArray, name: string): void {
  if (a instanceof Uint8Array) return;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new ValidationError(`${name}: value at ${i} is not finite (${a[i]})`);
  }
}

/**
 * Exact brute-force euclidean k-nearest-neighbour search of every query row against every gallery
 * row (row-major, `dim` values each), ranked by (distance, gallery index). Distances are summed in
 * float64 from direct differences, so near-identical vectors are still ordered correctly.
 */
export async function exactSearch(
  queries: VectorArray,
  gallery: VectorArray,
  dim: number,
  options: ExactSearchOptions,
): Promise<ExactSearchResult> {
  if (!Number.isInteger(dim) || dim <= 0)
    throw new ValidationError(`dim must be a positive integer, got ${dim}`);
  if (queries.length % dim !== 0 || gallery.length % dim !== 0) {
    throw new ValidationError(
      `vector array lengths (${queries.length}, ${gallery.length}) are not multiples of ${dim}`,
    );
  }
  const queryCount = queries.length / dim;
  const galleryCount = gallery.length / dim;
  const leaveOneOut = options.leaveOneOut ?? false;
  if (leaveOneOut && queryCount !== galleryCount) {
    throw new ValidationError(
      `leave-one-out needs queries = gallery, got ${queryCount} and ${galleryCount} rows`,
    );
  }
  const candidates = galleryCount - (leaveOneOut ? 1 : 0);
  const k = options.k;
  const labels = options.galleryLabels ?? null;
  const labelDepth = labels ? (options.labelDepth ?? k) : 0;
  if (!Number.isInteger(k) || k < 1 || k > candidates) {
    throw new ValidationError(`k must be an integer in [1, ${candidates}], got ${k}`);
  }
  if (!Number.isInteger(labelDepth) || labelDepth < 0 || labelDepth > candidates) {
    throw new ValidationError(`labelDepth must be an integer in [0, ${candidates}], got ${labelDepth}`);
  }
  if (labels && labels.length !== galleryCount) {
    throw new ValidationError(`galleryLabels has ${labels.length} entries for ${galleryCount} gallery rows`);
  }
  assertFinite(queries, 'queries');
  if (!leaveOneOut) assertFinite(gallery, 'gallery');

  const terms = queryCount * galleryCount * dim;
  const workers = Math.min(
    options.workers ?? (terms < SMALL_JOB_TERMS ? 0 : Math.min(2, availableParallelism())),
    Math.ceil(queryCount / WORKER_CHUNK),
  );
  const shared = workers > 0;
  const alloc = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const q = shared ? toSharedVectors(queries) : queries;
  // Leave-one-out on one array: share it once instead of copying it twice.
  const g = queries === gallery ? q : shared ? toSharedVectors(gallery) : gallery;
  const job: SearchJob = {
    queries: q,
    gallery: g,
    dim,
    k,
    labelDepth,
    galleryLabels: labels && shared ? toSharedLabels(labels) : labels,
    leaveOneOut,
    outIndices: new Int32Array(alloc(queryCount * k * 4)),
    outDistances: new Float64Array(alloc(queryCount * k * 8)),
    outLabels: labels ? new Uint8Array(alloc(queryCount * labelDepth)) : null,
  };

  if (workers === 0) {
    searchRange(job, 0, queryCount, options.onProgress);
  } else {
    await runWorkers(job, queryCount, workers, options.onProgress);
  }
  return {
    queryCount,
    k,
    indices: job.outIndices,
    distances: job.outDistances,
    labelDepth,
    labels: job.outLabels,
  };
}

function runWorkers(
  job: SearchJob,
  queryCount: number,
  workers: number,
  onProgress: ((done: number) => void) | undefined,
): Promise<void> {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const url = new URL('./searchWorker.ts', import.meta.url);
  const started: Worker[] = [];
  const runs = Array.from(
    { length: workers },
    () =>
      new Promise<void>((resolve, reject) => {
        const data: SearchWorkerData = { job, counter, chunk: WORKER_CHUNK, queryCount };
        const w = startWorker(url, data);
        started.push(w);
        w.on('message', (m: SearchWorkerMessage) => {
          if (m < 0) resolve();
          else onProgress?.(m);
        });
        w.on('error', reject);
        // After resolve() this reject is a no-op; before it, the worker died without finishing.
        w.on('exit', (code) => reject(new Error(`search worker exited with code ${code} before finishing`)));
      }),
  );
  return Promise.all(runs).then(
    () => undefined,
    async (err: unknown) => {
      await Promise.all(started.map((w) => w.terminate()));
      throw err;
    },
  );
}
