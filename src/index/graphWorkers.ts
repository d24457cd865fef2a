import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers/startWorker.ts';
import type { GraphWorkerData, GraphWorkerMessage } from './graphWorker.ts';
import type { HnswParams } from './hnswIndex.ts';

/** One graph to build: its points and the file name it is written to. */
export interface GraphJob {
  /** null for the whole-catalog graph. */
  category: string | null;
  labels: Float64Array;
  /** labels.length * dim float32s, row-major. */
  vectors: Float32Array;
  file: string;
}

const WORKER_URL = new URL('./graphWorker.ts', import.meta.url);

/**
 * Builds the graphs in worker threads, split into `parallelism` groups of about
 * equal point counts, and writes them to `dir`. Keeps hnswlib's synchronous
 * addPoint off the main thread (a server goes on answering queries during a
 * rebuild) and uses both cores of a two-core machine: the whole-catalog graph
 * in one worker, the per-category graphs in the other.
 */
export async function buildGraphsInWorkers(
  jobs: GraphJob[],
  dim: number,
  params: HnswParams,
  dir: string,
  onProgress: (done: number, total: number) => void,
  parallelism = 2,
): Promise<{ category: string | null; file: string }[]> {
  const total = jobs.reduce((s, j) => s + j.labels.length, 0);
  const groups: GraphJob[][] = Array.from({ length: Math.max(1, parallelism) }, () => []);
  const load = groups.map(() => 0);
  // Largest first onto the least loaded group: the whole-catalog graph gets a worker of its own.
  for (const job of [...jobs].sort((a, b) => b.labels.length - a.labels.length)) {
    const g = load.indexOf(Math.min(...load));
    groups[g].push(job);
    load[g] += job.labels.length;
  }
  const progress = groups.map(() => 0);
  const workers: Worker[] = [];
  const running = groups
    .filter((g) => g.length > 0)
    .map(
      (group, gi) =>
        new Promise<void>((resolve, reject) => {
          const data: GraphWorkerData = { dim, params, jobs: group, dir };
          const worker = startWorker(WORKER_URL, data);
          workers.push(worker);
          worker.on('message', (m: GraphWorkerMessage) => {
            progress[gi] = m.done;
            onProgress(
              progress.reduce((a, b) => a + b, 0),
              total,
            );
            if (m.type === 'done') resolve();
          });
          worker.on('error', reject);
          // After resolve() this reject is a no-op; before it, the worker died without finishing.
          worker.on('exit', (code) =>
            reject(new Error(`index build worker exited with code ${code} before finishing`)),
          );
        }),
    );
  try {
    await Promise.all(running);
  } catch (err) {
    // One worker failed: the build is lost, stop the others rather than let them burn CPU.
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  return jobs.map((j) => ({ category: j.category, file: join(dir, j.file) }));
}

/** Splits points into one graph job per category (rows copied, labels kept). */
export function partitionByCategory(points: {
  dim: number;
  labels: Float64Array;
  categories: readonly string[];
  vectors: Float32Array;
}): Omit<GraphJob, 'file'>[] {
  const members = new Map<string, number[]>();
  points.categories.forEach((c, i) => {
    let list = members.get(c);
    if (!list) {
      list = [];
      members.set(c, list);
    }
    list.push(i);
  });
  const { dim } = points;
  return [...members].map(([category, rows]) => {
    const vectors = new Float32Array(rows.length * dim);
    rows.forEach((r, j) => {
      vectors.set(points.vectors.subarray(r * dim, (r + 1) * dim), j * dim);
    });
    return { category, labels: Float64Array.from(rows, (r) => points.labels[r]), vectors };
  });
}
