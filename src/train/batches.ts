import * as tf from '@tensorflow/tfjs-core';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import type { ImageSet } from '../data/types.ts';
import type { BatchAugment } from './augment.ts';

const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

/** Reusable host buffers for one batch, so a step allocates no large JS arrays. */
export class BatchBuilder {
  private readonly pixels: Float32Array;
  private readonly labels: Int32Array;

  constructor(private readonly maxBatch: number) {
    this.pixels = new Float32Array(maxBatch * IMAGE_PIXELS);
    this.labels = new Int32Array(maxBatch);
  }

  /** Images `indices` of `set` as [B,28,28,1] floats in [0,1] (optionally augmented) and int32 labels. */
  build(
    set: ImageSet,
    indices: ArrayLike<number>,
    augment?: BatchAugment,
  ): { xs: tf.Tensor4D; labels: tf.Tensor1D } {
    const n = indices.length;
    if (n > this.maxBatch) throw new RangeError(`batch of ${n} exceeds ${this.maxBatch}`);
    const pixels = this.pixels.subarray(0, n * IMAGE_PIXELS);
    for (let b = 0; b < n; b++) {
      const src = indices[b] * IMAGE_PIXELS;
      const dst = b * IMAGE_PIXELS;
      for (let i = 0; i < IMAGE_PIXELS; i++) pixels[dst + i] = BYTE_TO_UNIT[set.images[src + i]];
      this.labels[b] = set.labels[indices[b]];
    }
    augment?.(pixels, n);
    return {
      xs: tf.tensor4d(pixels, [n, IMAGE_SIZE, IMAGE_SIZE, 1]),
      labels: tf.tensor1d(this.labels.subarray(0, n), 'int32'),
    };
  }
}

/**
 * The rows of a batch of paired views (the instance loss, pairedNce.ts): the first half of `indices`
 * twice, so that row r and row r + B/2 are the same image, each augmented on its own.
 */
export function pairedViews(indices: ArrayLike<number>): Int32Array {
  const half = indices.length >> 1;
  const rows = new Int32Array(2 * half);
  for (let r = 0; r < half; r++) rows[r] = rows[r + half] = indices[r];
  return rows;
}
