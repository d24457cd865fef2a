/**
 * Worker-thread side of `WorkerEmbedder`: loads the model once and embeds the
 * batches the main thread posts, so model time runs beside the HTTP work
 * instead of blocking the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.ts';
import type { EmbeddingHead } from '../model/embeddingHead.ts';
import { type EngineOptions, loadEngine } from '../model/engine.ts';

export interface EmbedWorkerData {
  modelDir: string;
  engine: EngineOptions;
  logLevel: string;
}

export type EmbedWorkerRequest = { type: 'embed'; id: number; images: Float32Array; count: number };

export type EmbedWorkerMessage =
  | { type: 'ready'; modelVersion: string; dim: number; engine: string; head: EmbeddingHead }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number; message: string };

const port = parentPort!;
const { modelDir, engine, logLevel } = workerData as EmbedWorkerData;

try {
  const embedder = await loadEngine(modelDir, engine, createLogger('embed-worker', logLevel));
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
    engine: embedder.engine ?? 'unknown',
    head: embedder.head,
  } satisfies EmbedWorkerMessage);
} catch (err) {
  port.postMessage({ type: 'failed', message: (err as Error).message } satisfies EmbedWorkerMessage);
}
