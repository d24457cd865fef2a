import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { imageSetToFloat } from '../data/split.ts';
import { log } from '../log.ts';
import { type EngineOptions, loadEngine } from '../model/engine.ts';
import type { EmbeddingSource } from './evaluate.ts';

/** Images per embed() call: large enough to amortise tfjs overhead, small enough for memory. */
const EMBED_BATCH = 1000;

export interface ModelSource {
  source: EmbeddingSource;
  dir: string;
  metadata: unknown;
  backend: string;
  dispose(): void;
}

/**
 * A saved model (models/NAME) as an embedding source for the evaluation, run
 * by the configured engine (ONNX Runtime by default, as in serving).
 */
export async function loadModelSource(modelDir: string, engine: EngineOptions): Promise<ModelSource> {
  const dir = resolve(modelDir);
  const embedder = await loadEngine(dir, engine, log);
  const backend = embedder.engine ?? 'unknown';
  const metadata: unknown = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
  const source: EmbeddingSource = {
    name: `${basename(dir)} (${embedder.dim}-d)`,
    dim: embedder.dim,
    async embedImages(set, onProgress) {
      const out = new Float32Array(set.count * embedder.dim);
      for (let start = 0; start < set.count; start += EMBED_BATCH) {
        const n = Math.min(EMBED_BATCH, set.count - start);
        const vectors = await embedder.embed(imageSetToFloat(set, start, n), n);
        out.set(vectors, start * embedder.dim);
        onProgress?.(start + n);
      }
      return out;
    },
  };
  return { source, dir, metadata, backend, dispose: () => embedder.dispose() };
}
