import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { imageSetToFloat } from '../data/split.ts';
import { initBackend } from '../model/backend.ts';
import { loadEmbedder } from '../model/embedder.ts';
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

/** A saved model (models/NAME) as an embedding source for the evaluation. */
export async function loadModelSource(modelDir: string): Promise<ModelSource> {
  const dir = resolve(modelDir);
  const backend = await initBackend();
  const embedder = await loadEmbedder(dir);
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
