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
 * d(a,p) − d(a,n) for each triplet, gathered from the distance matrix [B,B]. The gradient is written
 * out (+dy at (a,p), −dy at (a,n), summed over repeats) because tf.gather's gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks; one op for both ends halves the host round trips.
 */
export function distanceGaps(d: tf.Tensor2D, triplets: Triplets): tf.Tensor1D {
  const n = d.shape[0];
  const { anchor, positive, negative } = triplets;
  const count = anchor.length;
  const op = tf.customGrad((dIn) => {
    const values = (dIn as tf.Tensor).dataSync();
    const gaps = new Float32Array(count);
    for (let t = 0; t < count; t++) {
      const row = anchor[t] * n;
      gaps[t] = values[row + positive[t]] - values[row + negative[t]];
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

/** Per-triplet hinge relu(d(a,p) − d(a,n) + margin) (or its soft form), reduced to the batch loss. */
export function tripletMarginLoss(
  d: tf.Tensor2D,
  triplets: Triplets,
  options: TripletMarginOptions,
  reducer: Reducer,
): tf.Scalar {
  return tf.tidy(() => {
    const gaps = distanceGaps(d, triplets);
    const losses = options.smooth ? tf.softplus(gaps) : tf.relu(tf.add(gaps, options.margin));
    return reducer(losses as tf.Tensor1D);
  });
}
