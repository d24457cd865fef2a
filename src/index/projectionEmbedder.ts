import { IMAGE_PIXELS } from '../data/classes.ts';
import { createRng } from '../data/random.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import { PLAIN_HEAD } from '../model/embeddingHead.ts';

/**
 * A model-free `Embedder`: a seeded Gaussian random projection of the raw
 * pixels (Johnson-Lindenstrauss keeps pixel-space distances roughly). Used by
 * the index benchmark when no trained model exists and by tests that need
 * deterministic, realistic-looking vectors without tfjs.
 */
export class RandomProjectionEmbedder implements Embedder {
  readonly modelVersion: string;
  readonly head = PLAIN_HEAD;
  private readonly matrix: Float32Array;

  constructor(
    readonly dim = 64,
    readonly seed = 7,
  ) {
    this.modelVersion = `random-projection-${dim}@seed${seed}`;
    const rng = createRng(seed);
    const scale = 1 / Math.sqrt(dim);
    this.matrix = new Float32Array(IMAGE_PIXELS * dim);
    for (let i = 0; i < this.matrix.length; i += 2) {
      // Box-Muller: two normals per pair of uniforms.
      const u = Math.max(rng(), 1e-12);
      const r = Math.sqrt(-2 * Math.log(u)) * scale;
      const t = 2 * Math.PI * rng();
      this.matrix[i] = r * Math.cos(t);
      if (i + 1 < this.matrix.length) this.matrix[i + 1] = r * Math.sin(t);
    }
  }

  async embed(images: Float32Array, count: number): Promise<Float32Array> {
    return this.embedSync(images, count);
  }

  embedSync(images: Float32Array, count: number): Float32Array {
    if (images.length !== count * IMAGE_PIXELS) {
      throw new RangeError(
        `expected ${count * IMAGE_PIXELS} floats for ${count} images, got ${images.length}`,
      );
    }
    const { dim, matrix } = this;
    const out = new Float32Array(count * dim);
    const row = new Float64Array(dim);
    for (let n = 0; n < count; n++) {
      row.fill(0);
      const base = n * IMAGE_PIXELS;
      for (let p = 0; p < IMAGE_PIXELS; p++) {
        const x = images[base + p];
        if (x === 0) continue;
        const m = p * dim;
        for (let d = 0; d < dim; d++) row[d] += x * matrix[m + d];
      }
      out.set(row, n * dim);
    }
    return out;
  }

  dispose(): void {}
}
