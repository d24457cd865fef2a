import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../data/random.ts';
import {
  allTripletsMiner,
  batchHardMiner,
  DEFAULT_MARGIN,
  distanceMatrix,
  lossDistance,
  type MiningInput,
  pairwiseDistances,
  type TripletOptions,
} from './losses.ts';

/** Per-batch diagnostics of an embedding; distances are euclidean (not squared) for readability. */
export interface EmbeddingMetrics {
  /** Positive triplets / valid triplets, with the loss's margin and distance. */
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

function download(t: tf.Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  t.dispose();
  return values;
}

/**
 * The metrics of one batch. The triplet figures are the miners' own statistics (the all-triplets
 * miner at the loss's margin and distance, the batch-hard miner on euclidean distances), so they
 * cannot drift from what the losses see. Anchors without positives (or negatives) are left out of
 * the hardest-distance means.
 */
export function embeddingMetrics(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): EmbeddingMetrics {
  const [n, dim] = emb.shape;
  const values = emb.dataSync();
  const euclidean = download(pairwiseDistances(emb));
  const distance = lossDistance(opts);
  const input = (distances: ArrayLike<number>): MiningInput => ({
    n,
    labels: labels.dataSync(),
    distances,
    embeddings: () => ({ values, dim }),
    // Neither miner samples; a fixed stream keeps the function pure all the same.
    rng: createRng(0),
  });
  const lossDistances = distance === 'euclidean' ? euclidean : download(distanceMatrix(emb, distance));
  const all = allTripletsMiner({ margin: opts.margin ?? DEFAULT_MARGIN })(input(lossDistances)).stats;
  const hard = batchHardMiner()(input(euclidean)).stats;

  let normSum = 0;
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += values[i * dim + k] ** 2;
    normSum += Math.sqrt(sq);
  }
  let distanceSum = 0;
  for (let i = 0; i < euclidean.length; i++) distanceSum += euclidean[i];
  return {
    fractionPositive: all.fractionPositive,
    meanNorm: normSum / Math.max(n, 1),
    meanDistance: distanceSum / Math.max(n * (n - 1), 1),
    meanHardestPositive: hard.meanHardestPositive,
    meanHardestNegative: hard.meanHardestNegative,
  };
}

/** The metrics packed in one [5] tensor (order: METRIC_KEYS), for callers that read them with their loss. */
export function embeddingMetricsTensor(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): tf.Tensor1D {
  const metrics = embeddingMetrics(labels, emb, opts);
  return tf.tensor1d(METRIC_KEYS.map((key) => metrics[key]));
}

export function unpackMetrics(values: ArrayLike<number>): EmbeddingMetrics {
  const out = {} as EmbeddingMetrics;
  METRIC_KEYS.forEach((key, i) => {
    out[key] = values[i];
  });
  return out;
}
