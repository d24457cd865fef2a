import * as tf from '@tensorflow/tfjs-core';
import {
  DEFAULT_MARGIN,
  hardestDistances,
  hingeSumAndCount,
  pairwiseDistances,
  type TripletOptions,
  tripletMasks,
  validTripletCount,
} from './losses.ts';

/** Per-batch diagnostics of an embedding; distances are euclidean (not squared) for readability. */
export interface EmbeddingMetrics {
  /** Positive triplets / valid triplets, with the loss's margin and distance (squared or not). */
  fractionPositive: number;
  meanNorm: number;
  /** Mean distance over pairs i ≠ j. */
  meanDistance: number;
  /** Mean over anchors of the largest distance to a same-class item. */
  meanHardestPositive: number;
  /** Mean over anchors of the smallest distance to an other-class item. */
  meanHardestNegative: number;
}

export const METRIC_KEYS = [
  'fractionPositive',
  'meanNorm',
  'meanDistance',
  'meanHardestPositive',
  'meanHardestNegative',
] as const satisfies readonly (keyof EmbeddingMetrics)[];

/**
 * All metrics packed in one [5] tensor (order: METRIC_KEYS) so that reading them costs one
 * download. Anchors without positives (or negatives) are left out of the hardest-distance means.
 */
export function embeddingMetricsTensor(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): tf.Tensor1D {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  return tf.tidy(() => {
    const n = emb.shape[0];
    const masks = tripletMasks(labels);
    const lossDist = pairwiseDistances(emb, opts.squared);
    const dist = opts.squared ? pairwiseDistances(emb, false) : lossDist;

    const positiveCount = tf.slice(hingeSumAndCount(lossDist, masks, margin), [1], [1]);
    const fractionPositive = tf.div(tf.reshape(positiveCount, []), tf.maximum(validTripletCount(masks), 1));

    const meanNorm = tf.mean(tf.sqrt(tf.sum(tf.square(emb), 1)));
    const meanDistance = tf.div(tf.sum(dist), Math.max(n * (n - 1), 1));

    const { hardestPositive, hardestNegative } = hardestDistances(dist, masks);
    const hasPos = tf.cast(tf.greater(tf.sum(masks.positive, 1), 0), 'float32');
    const hasNeg = tf.cast(tf.greater(tf.sum(masks.negative, 1), 0), 'float32');
    const meanHardestPositive = tf.div(
      tf.sum(tf.mul(hardestPositive, hasPos)),
      tf.maximum(tf.sum(hasPos), 1),
    );
    const meanHardestNegative = tf.div(
      tf.sum(tf.mul(hardestNegative, hasNeg)),
      tf.maximum(tf.sum(hasNeg), 1),
    );
    return tf.stack([
      fractionPositive,
      meanNorm,
      meanDistance,
      meanHardestPositive,
      meanHardestNegative,
    ]) as tf.Tensor1D;
  });
}

export function unpackMetrics(values: ArrayLike<number>): EmbeddingMetrics {
  const out = {} as EmbeddingMetrics;
  METRIC_KEYS.forEach((key, i) => {
    out[key] = values[i];
  });
  return out;
}

/** Convenience for tests and validation: computes and downloads the metrics. */
export function embeddingMetrics(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): EmbeddingMetrics {
  const packed = embeddingMetricsTensor(labels, emb, opts);
  const values = packed.dataSync();
  packed.dispose();
  return unpackMetrics(values);
}
