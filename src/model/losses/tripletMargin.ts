import * as tf from '@tensorflow/tfjs-core';
import type { Triplets } from './miners/types.ts';
import type { Reducer } from './reducers.ts';

export interface TripletMarginOptions {
  margin: number;
  /**
   * softplus(d(a,p) − d(a,n)) instead of the hinge (the "soft margin" of Hermans et al. 2017), which
   * keeps pushing correctly ordered triplets apart; the margin is not used.
   */
  smooth?: boolean;
}

/**
 * (d(a,p) + offset) − d(a,n) for each triplet, gathered from the distance matrix [B,B], in float32 with
 * the offset added first: `marginViolated` decides with the same arithmetic, so a miner's "violated"
 * is exactly a positive hinge here. The gradient is written out (+dy at (a,p), −dy at (a,n), summed over
 * repeats) because tf.gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks; one op
 * for both ends halves the host round trips.
 */
export function distanceGaps(d: tf.Tensor2D, triplets: Triplets, offset = 0): tf.Tensor1D {
  const n = d.shape[0];
  const { anchor, positive, negative } = triplets;
  const count = anchor.length;
  const op = tf.customGrad((dIn) => {
    const values = (dIn as tf.Tensor).dataSync();
    const gaps = new Float32Array(count);
    const m = Math.fround(offset);
    for (let t = 0; t < count; t++) {
      const row = anchor[t] * n;
      gaps[t] = Math.fround(values[row + positive[t]] + m) - values[row + negative[t]];
    }
    return {
      value: tf.tensor1d(gaps),
      gradFunc: (dy) => {
        const upstream = (dy as tf.Tensor).dataSync();
        // Summed in float64: a pair shared by a hundred triplets then rounds once, as a count times
        // the per-triplet gradient does, instead of a hundred float32 roundings.
        const grad = new Float64Array(n * n);
        for (let t = 0; t < count; t++) {
          const row = anchor[t] * n;
          grad[row + positive[t]] += upstream[t];
          grad[row + negative[t]] -= upstream[t];
        }
        return tf.tensor2d(Float32Array.from(grad), [n, n]);
      },
    };
  });
  return op(d) as tf.Tensor1D;
}

/**
 * Whether relu(d(a,p) + margin − d(a,n)) is positive as tripletMarginLoss computes it (float32, the
 * margin added first: the order the loss has always used), for miners that keep violated triplets only.
 */
export function marginViolated(dap: number, dan: number, margin: number): boolean {
  return Math.fround(Math.fround(dap) + Math.fround(margin)) - Math.fround(dan) > 0;
}

/** Per-triplet hinge relu(d(a,p) − d(a,n) + margin) (or its soft form), reduced to the batch loss. */
export function tripletMarginLoss(
  d: tf.Tensor2D,
  triplets: Triplets,
  options: TripletMarginOptions,
  reducer: Reducer,
): tf.Scalar {
  return tf.tidy(() => {
    const losses = options.smooth
      ? tf.softplus(distanceGaps(d, triplets))
      : tf.relu(distanceGaps(d, triplets, options.margin));
    return reducer(losses as tf.Tensor1D);
  });
}
