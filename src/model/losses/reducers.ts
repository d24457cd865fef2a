import * as tf from '@tensorflow/tfjs-core';

/** Reduces per-tuple losses [T] to the batch loss. T may be 0: the result is then 0, still on the tape. */
export type Reducer = (losses: tf.Tensor1D) => tf.Scalar;

export const REDUCERS = ['mean', 'non-zero'] as const;
export type ReducerName = (typeof REDUCERS)[number];

/** Mean over every tuple, zero losses included (batch-hard's and semi-hard's average). */
export const meanReducer: Reducer = (losses) => tf.div(tf.sum(losses), Math.max(losses.size, 1));

/**
 * Mean over the tuples whose loss is positive (pytorch-metric-learning's AvgNonZeroReducer; batch-all's
 * average), so that the many satisfied triplets do not dilute the gradient. The count goes through
 * tf.sign, whose gradient is zero, rather than tf.greater, which has none and would break the tape.
 */
export const nonZeroMeanReducer: Reducer = (losses) =>
  tf.div(tf.sum(losses), tf.maximum(tf.sum(tf.sign(losses)), 1));

export const reducerByName: Record<ReducerName, Reducer> = {
  mean: meanReducer,
  'non-zero': nonZeroMeanReducer,
};
