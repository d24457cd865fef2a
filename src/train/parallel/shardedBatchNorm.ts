import type * as tfl from '@tensorflow/tfjs-layers';
import { FastBatchNorm } from '../../model/batchNorm.ts';
import type { AllReduce } from './allReduce.ts';

/**
 * Makes every FastBatchNorm of `model` (in this worker) normalise its training shard with the
 * statistics of the whole batch (its sums all-reduced over the workers: the mean, the variance and
 * the backward's mean(dy) and mean(dy·x̂)), so that every shard normalises exactly as FastBatchNorm
 * does over the full batch. The γ and β gradients are the shard's own share, summed by the
 * coordinator like every other parameter gradient. Inference is left as it is. `totalRows` gives the
 * current step's full batch size.
 */
export function shardBatchNorms(model: tfl.LayersModel, reduce: AllReduce, totalRows: () => number): void {
  for (const layer of model.layers)
    if (layer instanceof FastBatchNorm) layer.shardStatistics(() => ({ reduce, batchRows: totalRows() }));
}

/** 2 x the most channels of any FastBatchNorm of `model` (the backward reduces dβ and dγ together). */
export function reduceWidthOf(model: tfl.LayersModel): number {
  let widest = 0;
  for (const layer of model.layers) {
    if (layer instanceof FastBatchNorm)
      widest = Math.max(widest, ...layer.trainableWeights.map((w) => w.shape[0] ?? 0));
  }
  return 2 * widest;
}
