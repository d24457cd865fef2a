import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

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
      const y = batchNormTraining(x, gamma, beta, this.epsilon, stats);
      if (stats.mean && stats.variance) {
        this.updateMovingAverage(this.movingMean, stats.mean);
        this.updateMovingAverage(this.movingVariance, stats.variance);
        tf.dispose([stats.mean, stats.variance]);
      }
      return y;
    });
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

/** Training-mode batch norm; the batch mean and variance are handed out through `stats` (kept). */
export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  stats: BatchStats = {},
): T {
  const axes = reductionAxes(x.rank);
  const n = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const input = xIn as tf.Tensor;
    const g = gammaIn as tf.Tensor1D;
    const mean = tf.mean(input, axes) as tf.Tensor1D;
    const centred = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(centred, invStd);
    (save as tf.GradSaveFunc)([xhat, invStd, g]);
    stats.mean = tf.keep(mean as tf.Tensor1D);
    stats.variance = tf.keep(variance as tf.Tensor1D);
    return {
      value: tf.add(tf.mul(xhat, g), betaIn as tf.Tensor1D),
      gradFunc: (dy, saved) => {
        const [xh, inv, gam] = saved;
        const dyT = dy as tf.Tensor;
        const dBeta = tf.sum(dyT, axes);
        const dGamma = tf.sum(tf.mul(dyT, xh), axes);
        const centred = tf.sub(tf.sub(dyT, tf.div(dBeta, n)), tf.mul(xh, tf.div(dGamma, n)));
        return [tf.mul(centred, tf.mul(gam, inv)), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as T;
}
