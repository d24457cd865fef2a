import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { FastBatchNorm, reductionAxes } from '../../model/batchNorm.ts';
import type { AllReduce } from './allReduce.ts';

type Kwargs = Record<string, unknown>;

/**
 * Training-mode batch norm over a shard whose statistics are those of the whole batch: the sums
 * behind the mean, the variance and the backward's mean(dy) and mean(dy·x̂) are all-reduced over
 * the workers, so every shard normalises exactly as FastBatchNorm does over the full batch
 * (batchNormTraining's formulas, same two-pass variance). The γ and β gradients returned are the
 * shard's own share: the coordinator sums the shares like every other parameter gradient.
 */
function shardedBatchNorm<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  totalRows: number,
  reduce: AllReduce,
  stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D },
): T {
  const AXES = reductionAxes(x.rank);
  const n = totalRows * x.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const channels = x.shape[x.rank - 1];
  const globalMean = (local: tf.Tensor) => tf.div(tf.tensor1d(reduce(local.dataSync() as Float32Array)), n);
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const input = xIn as tf.Tensor;
    const mean = globalMean(tf.sum(input, AXES)) as tf.Tensor1D;
    const centred = tf.sub(input, mean);
    const variance = globalMean(tf.sum(tf.square(centred), AXES)) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(centred, invStd);
    (save as tf.GradSaveFunc)([xhat, invStd, gammaIn as tf.Tensor1D]);
    stats.mean = tf.keep(mean);
    stats.variance = tf.keep(variance);
    return {
      value: tf.add(tf.mul(xhat, gammaIn as tf.Tensor1D), betaIn as tf.Tensor1D),
      gradFunc: (dy, saved) => {
        const [xh, inv, gam] = saved;
        const dyT = dy as tf.Tensor;
        const dBeta = tf.sum(dyT, AXES);
        const dGamma = tf.sum(tf.mul(dyT, xh), AXES);
        const local = new Float32Array(2 * channels);
        local.set(dBeta.dataSync() as Float32Array, 0);
        local.set(dGamma.dataSync() as Float32Array, channels);
        const total = reduce(local);
        const meanDBeta = tf.div(tf.tensor1d(total.subarray(0, channels)), n);
        const meanDGamma = tf.div(tf.tensor1d(total.subarray(channels)), n);
        const centredDy = tf.sub(tf.sub(dyT, meanDBeta), tf.mul(xh, meanDGamma));
        return [tf.mul(centredDy, tf.mul(gam, inv)), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as T;
}

function weightNamed(weights: tfl.LayerVariable[], suffix: string): tfl.LayerVariable {
  const found = weights.find((w) => w.originalName.endsWith(`/${suffix}`));
  if (!found) throw new Error(`batch norm weight ${suffix} not found`);
  return found;
}

/**
 * Makes every FastBatchNorm of `model` (in this worker) normalise its training shard with the
 * statistics of the whole batch; inference is left as it is. `totalRows` gives the current step's
 * full batch size.
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
        const y = shardedBatchNorm(
          x,
          gamma.read() as tf.Tensor1D,
          (beta?.read() ?? tf.zeros([gamma.shape[0] as number])) as tf.Tensor1D,
          epsilon,
          totalRows(),
          reduce,
          stats,
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
