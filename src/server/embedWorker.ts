/**
 * Worker-thread side of `WorkerEmbedder`: loads the model once and embeds the
 * batches the main thread posts, so model time runs beside the HTTP work
 * instead of blocking the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../model/backend.ts';
import { loadEmbedder } from '../model/embedder.ts';

export interface EmbedWorkerData {
  modelDir: string;
  backend: string | undefined;
}

export type EmbedWorkerRequest = { type: 'embed'; id: number; images: Float32Array; count: number };

export type EmbedWorkerMessage =
  | { type: 'ready'; modelVersion: string; dim: number; backend: string }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number; message: string };

const port = parentPort!;
const { modelDir, backend } = workerData as EmbedWorkerData;

try {
  const chosen = await initBackend(backend);
  const embedder = await loadEmbedder(modelDir);
  port.on('message', async (request: EmbedWorkerRequest) => {
    try {
      const vectors = await embedder.embed(request.images, request.count);
      port.postMessage({ type: 'result', id: request.id, vectors } satisfies EmbedWorkerMessage, [
        vectors.buffer as ArrayBuffer,
      ]);
    } catch (err) {
      port.postMessage({
        type: 'error',
        id: request.id,
        message: (err as Error).message,
      } satisfies EmbedWorkerMessage);
    }
  });
  port.postMessage({
    type: 'ready',
    modelVersion: embedder.modelVersion,
    dim: embedder.dim,
    backend: chosen,
  } satisfies EmbedWorkerMessage);
} catch (err) {
  port.postMessage({ type: 'failed', message: (err as Error).message } satisfies EmbedWorkerMessage);
}
