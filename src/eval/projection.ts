import { UMAP } from 'umap-js';
import { createRng } from '../data/random.ts';
import type { VectorArray } from './exactSearch.ts';

export interface ProjectionOptions {
  seed?: number;
  nNeighbors?: number;
  minDist?: number;
  /** Called with (epochs done, total epochs). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * 2-D UMAP of the given rows (row-major, `dim` values each), seeded so the same input gives the same
 * picture. Returns rows * 2 coordinates.
 */
export function projectUmap(
  vectors: VectorArray,
  dim: number,
  options: ProjectionOptions = {},
): Float32Array {
  const count = vectors.length / dim;
  const data: number[][] = [];
  for (let i = 0; i < count; i++) data.push(Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: options.nNeighbors ?? 15,
    minDist: options.minDist ?? 0.1,
    random: createRng(options.seed ?? 42),
  });
  const epochs = umap.initializeFit(data);
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if (e % 10 === 9 || e === epochs - 1) options.onProgress?.(e + 1, epochs);
  }
  const out = new Float32Array(count * 2);
  umap.getEmbedding().forEach((p, i) => {
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  });
  return out;
}

/** `count` indices spread evenly over [0, total), so a projection covers the whole set in order. */
export function evenSample(total: number, count: number): number[] {
  const n = Math.min(total, count);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}
