import { join } from 'node:path';
import { startWorker } from '../workers/startWorker.ts';
import type { GraphWorkerData, GraphWorkerMessage } from './graphWorker.ts';
import type { HnswParams } from './hnswIndex.ts';

/** The graph to build: its points and the file name it is written to. */
export interface GraphJob {
  labels: Float64Array;
  /** labels.length * dim float32s, row-major. */
  vectors: Float32Array;
  file: string;
}

const WORKER_URL = new URL('./graphWorker.ts', import.meta.url);

/**
 * Builds the graph in a worker thread and writes it to `dir`; resolves to its
 * path. Keeps hnswlib's synchronous addPoint off the main thread, so a server
 * goes on answering queries during a rebuild.
 */
export async function buildGraphInWorker(
  job: GraphJob,
  dim: number,
  params: HnswParams,
  dir: string,
  onProgress: (done: number, total: number) => void,
): Promise<string> {
  const total = job.labels.length;
  const data: GraphWorkerData = { dim, params, job, dir };
  const worker = startWorker(WORKER_URL, data);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: GraphWorkerMessage) => {
        onProgress(m.done, total);
        if (m.type === 'done') resolve();
      });
      worker.on('error', reject);
      // After resolve() this reject is a no-op; before it, the worker died without finishing.
      worker.on('exit', (code) =>
        reject(new Error(`index build worker exited with code ${code} before finishing`)),
      );
    });
  } finally {
    await worker.terminate();
  }
  return join(dir, job.file);
}
