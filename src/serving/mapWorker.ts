/** Worker thread of `EmbeddingMaps`: one UMAP projection, off the thread that serves requests. */
import { parentPort, workerData } from 'node:worker_threads';
import { projectUmap } from '../eval/projection.ts';

export interface MapWorkerData {
  vectors: Float32Array;
  dim: number;
  seed: number;
}

const { vectors, dim, seed } = workerData as MapWorkerData;
const coords = projectUmap(vectors, dim, { seed });
parentPort!.postMessage(coords, [coords.buffer as ArrayBuffer]);
