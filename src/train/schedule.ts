import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../model/modelIo.ts';
import type { LrSchedule } from './config.ts';

/** Learning rate at `step` of `totalSteps`: constant, or cosine decay from `base` to 0. */
export function learningRateAt(schedule: LrSchedule, base: number, step: number, totalSteps: number): number {
  if (schedule === 'constant' || totalSteps <= 0) return base;
  const t = Math.min(Math.max(step / totalSteps, 0), 1);
  return base * 0.5 * (1 + Math.cos(Math.PI * t));
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** AdamW's decoupled decay λ of the kernels; 0 = Adam. */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba, same update as tf.train.adam) with a learning rate that can change between
 * steps, and a state that round-trips exactly: the bias corrections are computed from the step
 * count in float64, where tfjs' AdamOptimizer accumulates them in float32 variables and rebuilds
 * them differently on setWeights, so a resumed run would drift from an uninterrupted one.
 *
 * With `weightDecay` λ > 0 it is AdamW (Loshchilov & Hutter 2019): θ ← θ − lr · (Adam's step + λ·θ),
 * the decay decoupled from the gradient's moments and scaled by the scheduled rate as in PyTorch's
 * AdamW, for the kernels only (rank ≥ 2): biases and batch-norm scales and shifts are not decayed.
 */
export class ScheduledAdam extends tf.Optimizer {
  static get className(): string {
    return 'ScheduledAdam';
  }

  private m: tf.Variable[] = [];
  private v: tf.Variable[] = [];
  private steps = 0;

  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;

  constructor(
    private learningRate: number,
    { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, weightDecay = 0 }: AdamOptions = {},
  ) {
    super();
    [this.beta1, this.beta2, this.epsilon, this.weightDecay] = [beta1, beta2, epsilon, weightDecay];
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  override applyGradients(gradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = Array.isArray(gradients)
      ? gradients
      : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }));
    this.steps++;
    const correction1 = 1 - this.beta1 ** this.steps;
    const correction2 = 1 - this.beta2 ** this.steps;
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      list.forEach(({ name, tensor: grad }, i) => {
        const variable = registered[name];
        if (!variable) throw new Error(`optimizer: no variable named ${name}`);
        this.m[i] ??= tf.variable(tf.zerosLike(variable), false);
        this.v[i] ??= tf.variable(tf.zerosLike(variable), false);
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(grad, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const step = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        const decayed = this.weightDecay > 0 && variable.rank >= 2;
        const update = decayed ? tf.add(step, tf.mul(variable, this.weightDecay)) : step;
        variable.assign(tf.sub(variable, tf.mul(update, this.learningRate)));
      });
    });
    this.incrementIterations();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return [
      { name: 'iter', tensor: tf.scalar(this.steps, 'int32') },
      ...this.m.map((tensor, i) => ({ name: `${i}/m`, tensor })),
      ...this.v.map((tensor, i) => ({ name: `${i}/v`, tensor })),
    ];
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    const [iter, ...moments] = weights;
    this.steps = (await iter.tensor.data())[0];
    this.iterations_ = this.steps;
    tf.dispose([...this.m, ...this.v]);
    const half = moments.length / 2;
    this.m = moments.slice(0, half).map((w) => tf.variable(w.tensor, false));
    this.v = moments.slice(half).map((w) => tf.variable(w.tensor, false));
  }

  override dispose(): void {
    tf.dispose([...this.m, ...this.v]);
    this.m = [];
    this.v = [];
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }
}
