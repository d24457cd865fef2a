import * as tf from '@tensorflow/tfjs-core';

/** Reduces per-tuple losses [T] to the batch loss. T may be 0: the result is then 0, still on the tape. */
export type Reducer = (losses: tf.Tensor1D) => tf.Scalar;

export const REDUCERS = ['mean', 'non-zero'] as const;
export type ReducerName = (typeof REDUCERS)[number];

/**
 * Σ losses / count(losses), summed on the host in float64. Which losses count is read from their values
 * here, off the tape (tf.greater has no gradient in tfjs); the gradient is then the constant 1/count for
 * every loss. One download and one fill replace the half-dozen [T]-sized tensor ops (and their
 * gradients) of a sum, a sign and a division: T is 200k triplets for batch-all at batch 128.
 */
function hostAverage(counts: (value: number) => boolean): Reducer {
  const op = tf.customGrad((x) => {
    const values = (x as tf.Tensor).dataSync();
    let sum = 0;
    let count = 0;
    for (let i = 0; i < values.length; i++) {
      sum += values[i];
      if (counts(values[i])) count++;
    }
    const scale = 1 / Math.max(count, 1);
    return {
      value: tf.scalar(sum * scale),
      gradFunc: (dy) => tf.mul(tf.fill([values.length], scale), dy as tf.Tensor),
    };
  });
  return (losses) => op(losses) as tf.Scalar;
}

/** Mean over every tuple, zero losses included (batch-hard's and semi-hard's average). */
export const meanReducer: Reducer = hostAverage(() => true);

/**
 * Mean over the tuples whose loss is positive (pytorch-metric-learning's AvgNonZeroReducer; batch-all's
 * average), so that the many satisfied triplets do not dilute the gradient.
 */
export const nonZeroMeanReducer: Reducer = hostAverage((value) => value > 0);

export const reducerByName: Record<ReducerName, Reducer> = {
  mean: meanReducer,
  'non-zero': nonZeroMeanReducer,
};
