/**
 * An Embedder whose model lives in a worker thread. The tfjs wasm backend is
 * single-threaded and synchronous: in-process, every model call stalls the
 * event loop (and with it parsing, preprocessing callbacks and the cheap
 * routes) for its whole duration. In a worker, the main thread keeps serving
 * and gathers the next micro-batch while the current one is computed.
 */
import { DataFileError } from '../errors.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import type { EngineOptions } from '../model/engine.ts';
import { startWorker } from '../workers/startWorker.ts';
import type { EmbedWorkerData, EmbedWorkerMessage, EmbedWorkerRequest } from './embedWorker.ts';

interface Pending {
  resolve: (v: Float32Array) => void;
  reject: (err: Error) => void;
}

export async function loadWorkerEmbedder(
  modelDir: string,
  engine: EngineOptions,
  logLevel: string,
): Promise<Embedder> {
  const worker = startWorker(new URL('./embedWorker.ts', import.meta.url), {
    modelDir,
    engine,
    logLevel,
  } satisfies EmbedWorkerData);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | null = null;
  const failAll = (err: Error) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  // One set of listeners for the worker's whole life: removing a Worker's last 'message' listener
  // unrefs its port, after which replies are only delivered when something else wakes the event loop.
  let onReady: ((m: Extract<EmbedWorkerMessage, { type: 'ready' }>) => void) | null = null;
  let onLoadFailed: ((err: Error) => void) | null = null;
  const ready = new Promise<Extract<EmbedWorkerMessage, { type: 'ready' }>>((resolve, reject) => {
    onReady = resolve;
    onLoadFailed = reject;
  });
  worker.on('message', (m: EmbedWorkerMessage) => {
    if (m.type === 'ready') onReady?.(m);
    else if (m.type === 'failed') onLoadFailed?.(new DataFileError(m.message, 'MODEL_LOAD_FAILED'));
    else {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.vectors);
      else p.reject(new Error(m.message));
    }
  });
  worker.on('error', (err) => {
    onLoadFailed?.(err);
    failAll(err);
  });
  worker.on('exit', (code) => {
    const err = new Error(`embedding worker exited with code ${code}`);
    onLoadFailed?.(err);
    failAll(err);
  });

  let loaded: Extract<EmbedWorkerMessage, { type: 'ready' }>;
  try {
    loaded = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  onLoadFailed = null;

  return {
    modelVersion: loaded.modelVersion,
    dim: loaded.dim,
    engine: loaded.engine,
    head: loaded.head,
    embed(images: Float32Array, count: number): Promise<Float32Array> {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Copy: the caller keeps its array, the copy's buffer moves to the worker without another copy.
        const copy = images.slice();
        worker.postMessage({ type: 'embed', id, images: copy, count } satisfies EmbedWorkerRequest, [
          copy.buffer,
        ]);
      });
    },
    dispose() {
      if (!dead) failAll(new Error('embedder was disposed'));
      void worker.terminate();
    },
  };
}
