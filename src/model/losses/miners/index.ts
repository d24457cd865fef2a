import type { ReducerName } from '../reducers.ts';
import { allTripletsMiner } from './allTriplets.ts';
import { batchHardMiner } from './batchHard.ts';
import { distanceWeightedMiner } from './distanceWeighted.ts';
import { semiHardMiner } from './semiHard.ts';
import type { Miner } from './types.ts';

export const MINERS = ['all', 'batch-hard', 'semi-hard', 'distance-weighted'] as const;
export type MinerName = (typeof MINERS)[number];

export interface MinerSettings {
  margin: number;
  /** The loss uses softplus, so satisfied triplets still count (see allTripletsMiner). */
  smooth: boolean;
}

/**
 * Each miner with the reducer its loss is defined with: batch-all averages the positive hinges only,
 * the one-triplet-per-anchor (or per-pair) miners average over every tuple they return.
 */
export const MINER_REGISTRY: Record<
  MinerName,
  { create: (s: MinerSettings) => Miner; reducer: ReducerName }
> = {
  all: {
    create: (s) => allTripletsMiner({ margin: s.margin, violatingOnly: !s.smooth }),
    reducer: 'non-zero',
  },
  'batch-hard': { create: () => batchHardMiner(), reducer: 'mean' },
  'semi-hard': { create: () => semiHardMiner(), reducer: 'mean' },
  'distance-weighted': { create: () => distanceWeightedMiner(), reducer: 'mean' },
};
