import { createRng } from '../../src/data/random.ts';

/**
 * Clustered random vectors (like embeddings of a few classes): `clusters`
 * Gaussian blobs; item i belongs to category `c<i % clusters>`.
 */
export function clusteredVectors(n: number, dim: number, clusters: number, seed = 1) {
  const rng = createRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => gauss() * 3));
  const vectors: Float32Array[] = [];
  const categories: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    vectors.push(Float32Array.from(centres[c], (x) => x + gauss()));
    categories.push(`c${c}`);
  }
  return { vectors, categories, gauss };
}
