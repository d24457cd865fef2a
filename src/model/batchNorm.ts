import * as tf from '@tensorflow/tfjs-core';
import { getKernel } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BATCH_NORM_KERNELS } from './kernels/batchNorm.ts';

type Kwargs = Record<string, unknown>;

export interface FastBatchNormArgs {
  name?: string;
  /** Moving-average momentum of the inference statistics (Keras convention, as tfjs-layers). */
  momentum?: number;
  epsilon?: number;
  /**
   * false: no β (the output stays centred, β ≡ 0), as BNNeck's embedding batch norm (Luo et al. 2019):
   * a learnt shift would let every embedding drift to one common vector again.
   */
  center?: boolean;
}

interface BatchStats {
  mean?: tf.Tensor1D;
  variance?: tf.Tensor1D;
}

/**
 * Batch normalization over the channel (last) axis of NHWC or [N, C] input, training-mode output and gradient in one
 * custom-gradient op with the closed-form backward
 *   dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)),  dγ = Σ dy · x̂,  dβ = Σ dy.
 * tfjs-layers' BatchNormalization differentiates through tf.moments and the FusedBatchNorm gradient,
 * which tiles [C] vectors to the full activation shape: on the wasm backend that made the improved
 * network's training step several times slower. Inference uses the moving statistics, like tfjs-layers.
 */
export class FastBatchNorm extends tfl.layers.Layer {
  static readonly className = 'FastBatchNorm';
  private readonly momentum: number;
  private readonly epsilon: number;
  readonly center: boolean;
  private gamma!: tfl.LayerVariable;
  private beta: tfl.LayerVariable | undefined;
  private movingMean!: tfl.LayerVariable;
  private movingVariance!: tfl.LayerVariable;
  private shards: (() => BatchShards) | undefined;

  constructor(args: FastBatchNormArgs = {}) {
    super({ name: args.name });
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.supportsMasking = true;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number')
      throw new Error(`${this.name}: the channel axis must have a fixed size`);
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    this.movingMean = this.addWeight(
      'moving_mean',
      [channels],
      'float32',
      tfl.initializers.zeros(),
      undefined,
      false,
    );
    this.movingVariance = this.addWeight(
      'moving_variance',
      [channels],
      'float32',
      tfl.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const gamma = this.gamma.read() as tf.Tensor1D;
      const beta = (this.beta?.read() ?? tf.zerosLike(gamma)) as tf.Tensor1D;
      if (kwargs.training !== true) {
        return tf.batchNorm(
          x,
          this.movingMean.read() as tf.Tensor1D,
          this.movingVariance.read() as tf.Tensor1D,
          beta,
          gamma,
          this.epsilon,
        );
      }
      const stats: BatchStats = {};
      const y = batchNormTraining(x, gamma, beta, this.epsilon, stats, this.shards?.());
      if (stats.mean && stats.variance) {
        this.updateMovingAverage(this.movingMean, stats.mean);
        this.updateMovingAverage(this.movingVariance, stats.variance);
        tf.dispose([stats.mean, stats.variance]);
      }
      return y;
    });
  }

  /**
   * Makes training-mode calls normalise with the statistics of a whole batch whose rows are split over
   * data-parallel workers (src/train/parallel): `shards` gives the current step's all-reduce and row
   * count. The moving averages are updated from those statistics, the same in every worker.
   */
  shardStatistics(shards: () => BatchShards): void {
    this.shards = shards;
  }

  private updateMovingAverage(variable: tfl.LayerVariable, batchValue: tf.Tensor): void {
    tf.tidy(() => {
      const old = variable.read();
      variable.write(tf.add(tf.mul(old, this.momentum), tf.mul(batchValue, 1 - this.momentum)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, center: this.center };
  }
}

tf.serialization.registerClass(FastBatchNorm);

/** Every axis but the last (the channels): [0, 1, 2] for NHWC, [0] for an [N, C] embedding. */
export function reductionAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/**
 * The batch a training-mode batch norm normalises over when its input is one shard of it
 * (data-parallel training): `reduce` sums a per-channel vector over the shards, `batchRows` is
 * the whole batch's row count.
 */
export interface BatchShards {
  reduce: (local: Float32Array) => Float32Array;
  batchRows: number;
}

const hasKernel = (name: string) => getKernel(name, tf.getBackend()) !== undefined;

/** The four full-size passes: the project's kernels where the backend has them, else tf ops. */
function passes(channels: number, axes: number[]) {
  const fused = channels % 4 === 0 && hasKernel(BATCH_NORM_KERNELS.channelAffine);
  const run = (name: string, inputs: tf.NamedTensorMap) =>
    tf.engine().runKernel(name, inputs, {}) as tf.Tensor;
  return {
    centredSquares: (x: tf.Tensor, mean: tf.Tensor1D): tf.Tensor1D =>
      fused
        ? (run(BATCH_NORM_KERNELS.centredSquares, { x, mean }) as tf.Tensor1D)
        : tf.sum(tf.square(tf.sub(x, mean)), axes),
    centredDots: (dy: tf.Tensor, x: tf.Tensor, mean: tf.Tensor1D): tf.Tensor1D =>
      fused
        ? (run(BATCH_NORM_KERNELS.centredDots, { dy, x, mean }) as tf.Tensor1D)
        : (tf.concat([tf.sum(dy, axes), tf.sum(tf.mul(dy, tf.sub(x, mean)), axes)]) as tf.Tensor1D),
    channelAffine: (x: tf.Tensor, a: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor =>
      fused ? run(BATCH_NORM_KERNELS.channelAffine, { x, a, b }) : tf.add(tf.mul(x, a), b),
    channelAffine2: (
      dy: tf.Tensor,
      x: tf.Tensor,
      a: tf.Tensor1D,
      b: tf.Tensor1D,
      d: tf.Tensor1D,
    ): tf.Tensor =>
      fused
        ? run(BATCH_NORM_KERNELS.channelAffine2, { dy, x, a, b, d })
        : tf.add(tf.add(tf.mul(dy, a), tf.mul(x, b)), d),
  };
}

const perChannel = (n: number, f: (c: number) => number) => Float32Array.from({ length: n }, (_, c) => f(c));

/**
 * Training-mode batch norm; the batch mean and variance are handed out through `stats` (kept).
 * Two-pass statistics (the sum, then the centred squares), the output as one scale and shift per
 * channel, y = x·γσ⁻¹ + (β − μγσ⁻¹), and the closed-form input gradient as one affine map of dy
 * and x per channel; the per-channel arithmetic runs in JavaScript on [C] vectors, where `shards`
 * also sums them over the shards of a data-parallel batch.
 */
export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  stats: BatchStats = {},
  shards?: BatchShards,
): T {
  const axes = reductionAxes(x.rank);
  const channels = x.shape[x.rank - 1];
  const n = ((shards?.batchRows ?? x.shape[0]) * x.size) / x.shape[0] / channels;
  const total = (local: Float32Array) => (shards ? shards.reduce(local) : local);
  const pass = passes(channels, axes);
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const input = xIn as tf.Tensor;
    const g = (gammaIn as tf.Tensor1D).dataSync();
    const b = (betaIn as tf.Tensor1D).dataSync();
    const sums = total(tf.sum(input, axes).dataSync() as Float32Array);
    const mu = perChannel(channels, (c) => sums[c] / n);
    const mean = tf.tensor1d(mu);
    const squares = total(pass.centredSquares(input, mean).dataSync() as Float32Array);
    const v = perChannel(channels, (c) => squares[c] / n);
    const inv = perChannel(channels, (c) => 1 / Math.sqrt(v[c] + epsilon));
    const scale = perChannel(channels, (c) => g[c] * inv[c]);
    const y = pass.channelAffine(
      input,
      tf.tensor1d(scale),
      tf.tensor1d(perChannel(channels, (c) => b[c] - mu[c] * scale[c])),
    );
    // The tensors the backward's pass reads; its per-channel arithmetic uses mu, inv and scale above.
    (save as tf.GradSaveFunc)([input, mean]);
    stats.mean = tf.keep(mean);
    stats.variance = tf.keep(tf.tensor1d(v));
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [xs, meanT] = saved as [tf.Tensor, tf.Tensor1D];
        const local = pass.centredDots(dy as tf.Tensor, xs, meanT).dataSync() as Float32Array;
        // dβ = Σ dy and dγ = Σ dy·x̂ of this shard; the input gradient needs the whole batch's.
        const dBeta = local.slice(0, channels);
        const dGamma = perChannel(channels, (c) => local[channels + c] * inv[c]);
        const all = total(local);
        // dx = k·(dy − mean(dy) − x̂·mean(dy·x̂)) with k = γσ⁻¹ (scale) and x̂ = (x − μ)σ⁻¹, as dy·k + x·bx + d.
        const bx = perChannel(channels, (c) => (-scale[c] * inv[c] * inv[c] * all[channels + c]) / n);
        const d = perChannel(channels, (c) => (-scale[c] * all[c]) / n - bx[c] * mu[c]);
        const dx = pass.channelAffine2(
          dy as tf.Tensor,
          xs,
          tf.tensor1d(scale),
          tf.tensor1d(bx),
          tf.tensor1d(d),
        );
        return [dx, tf.tensor1d(dGamma), tf.tensor1d(dBeta)];
      },
    };
  });
  return op(x, gamma, beta) as T;
}
