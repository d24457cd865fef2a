/**
 * The losses, as parts that compose the way pytorch-metric-learning builds them: a distance, a miner
 * that picks triplets (and reports statistics of the batch), the triplet margin loss over the picked
 * distances, and a reducer. The parts live in ./losses/; this file is their one entry point.
 */

export { type CosFaceOptions, cosFaceLoss, DEFAULT_COSFACE } from './losses/cosFace.ts';
export {
  cosineDistances,
  DISTANCES,
  type DistanceName,
  distanceMatrix,
  pairwiseDistances,
} from './losses/distances.ts';
export { type AllTripletsStats, allTripletsMiner } from './losses/miners/allTriplets.ts';
export { type BatchHardStats, batchHardMiner } from './losses/miners/batchHard.ts';
export {
  type DistanceWeightedStats,
  distanceWeightedMiner,
  unitSphereDistances,
} from './losses/miners/distanceWeighted.ts';
export { MINER_REGISTRY, MINERS, type MinerName } from './losses/miners/index.ts';
export { type SemiHardStats, semiHardMiner } from './losses/miners/semiHard.ts';
export type { Miner, MinerResult, MinerStats, MiningInput, Triplets } from './losses/miners/types.ts';
export {
  DEFAULT_PAIRED_NCE,
  type PairedNceOptions,
  pairedNceLoss,
  partnerOf,
} from './losses/pairedNce.ts';
export {
  meanReducer,
  nonZeroMeanReducer,
  REDUCERS,
  type Reducer,
  type ReducerName,
  reducerByName,
} from './losses/reducers.ts';
export { softmaxCrossEntropy } from './losses/softmax.ts';
export {
  DEFAULT_MARGIN,
  lossDistance,
  type TripletLossResult,
  type TripletOptions,
  tripletLoss,
} from './losses/triplet.ts';
export { distanceGaps, type TripletMarginOptions, tripletMarginLoss } from './losses/tripletMargin.ts';
