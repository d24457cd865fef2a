import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../../data/random.ts';
import { type DistanceName, distanceMatrix } from './distances.ts';
import { MINER_REGISTRY, type MinerName } from './miners/index.ts';
import type { MinerStats } from './miners/types.ts';
import { type ReducerName, reducerByName } from './reducers.ts';
import { tripletMarginLoss } from './tripletMargin.ts';

export const DEFAULT_MARGIN = 0.5;

/** Triplet-loss settings as training passes them; every field has a default. */
export interface TripletOptions {
  margin?: number;
  /** Shorthand for `distance: 'squared'` (the older flag). */
  squared?: boolean;
  distance?: DistanceName;
  /** softplus(d_ap − d_an) instead of the hinge; the margin is not used. */
  softMargin?: boolean;
  miner?: MinerName;
  /** Default: the miner's own (MINER_REGISTRY). */
  reducer?: ReducerName;
  /** Seeds sampling miners (distance-weighted); the trainer passes one per step. */
  seed?: number;
}

export function lossDistance(opts: TripletOptions): DistanceName {
  return opts.distance ?? (opts.squared ? 'squared' : 'euclidean');
}

export interface TripletLossResult {
  loss: tf.Scalar;
  /** The miner's statistics of this batch. */
  stats: MinerStats;
}

/**
 * distance → miner → triplet margin loss → reducer. The miner reads downloaded distances and labels
 * (no gradient); the loss gathers the chosen distances from the differentiable matrix.
 */
export function tripletLoss(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): TripletLossResult {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  const smooth = opts.softMargin ?? false;
  const entry = MINER_REGISTRY[opts.miner ?? 'all'];
  return tf.tidy(() => {
    const d = distanceMatrix(emb, lossDistance(opts));
    const [n, dim] = emb.shape;
    const mined = entry.create({ margin, smooth })({
      n,
      labels: labels.dataSync(),
      distances: d.dataSync(),
      embeddings: () => ({ values: emb.dataSync(), dim }),
      rng: createRng(opts.seed ?? 0),
    });
    const reducer = reducerByName[opts.reducer ?? entry.reducer];
    return { loss: tripletMarginLoss(d, mined.triplets, { margin, smooth }, reducer), stats: mined.stats };
  });
}
