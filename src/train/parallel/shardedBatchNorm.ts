import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchNormTraining, FastBatchNorm } from '../../model/batchNorm.ts';
import type { AllReduce } from './allReduce.ts';

type Kwargs = Record<string, unknown>;

function weightNamed(weights: tfl.LayerVariable[], suffix: string): tfl.LayerVariable {
  const found = weights.find((w) => w.originalName.endsWith(`/${suffix}`));
  if (!found) throw new Error(`batch norm weight ${suffix} not found`);
  return found;
}

/**
 * Makes every FastBatchNorm of `model` (in this worker) normalise its training shard with the
 * statistics of the whole batch (batchNormTraining with the shard's sums all-reduced over the
 * workers: the mean, the variance and the backward's mean(dy) and mean(dy·x̂)), so that every shard
 * normalises exactly as FastBatchNorm does over the full batch. The γ and β gradients are the
 * shard's own share, summed by the coordinator like every other parameter gradient. Inference is
 * left as it is. `totalRows` gives the current step's full batch size.
 */
export function shardBatchNorms(model: tfl.LayersModel, reduce: AllReduce, totalRows: () => number): void {
  for (const layer of model.layers) {
    if (!(layer instanceof FastBatchNorm)) continue;
    const inference = layer.call.bind(layer);
    const config = layer.getConfig();
    const momentum = config.momentum as number;
    const epsilon = config.epsilon as number;
    const gamma = weightNamed(layer.trainableWeights, 'gamma');
    // Without β (center: false) the shift is a constant zero.
    const beta = layer.center ? weightNamed(layer.trainableWeights, 'beta') : undefined;
    const movingMean = weightNamed(layer.nonTrainableWeights, 'moving_mean');
    const movingVariance = weightNamed(layer.nonTrainableWeights, 'moving_variance');
    const updateMovingAverage = (variable: tfl.LayerVariable, value: tf.Tensor) =>
      tf.tidy(() => {
        variable.write(tf.add(tf.mul(variable.read(), momentum), tf.mul(value, 1 - momentum)));
      });
    layer.call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor => {
      if (kwargs.training !== true) return inference(inputs, kwargs);
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D } = {};
        const y = batchNormTraining(
          x,
          gamma.read() as tf.Tensor1D,
          (beta?.read() ?? tf.zeros([gamma.shape[0] as number])) as tf.Tensor1D,
          epsilon,
          stats,
          { reduce, batchRows: totalRows() },
        );
        if (stats.mean && stats.variance) {
          updateMovingAverage(movingMean, stats.mean);
          updateMovingAverage(movingVariance, stats.variance);
          tf.dispose([stats.mean, stats.variance]);
        }
        return y;
      });
    };
  }
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
