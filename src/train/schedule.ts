import * as tf from '@tensorflow/tfjs-core';
import type { LrSchedule } from './config.ts';

/** Learning rate at `step` of `totalSteps`: constant, or cosine decay from `base` to 0. */
export function learningRateAt(schedule: LrSchedule, base: number, step: number, totalSteps: number): number {
  if (schedule === 'constant' || totalSteps <= 0) return base;
  const t = Math.min(Math.max(step / totalSteps, 0), 1);
  return base * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** Adam whose learning rate can change between steps (tfjs reads it on every update). */
export class ScheduledAdam extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999, 1e-7);
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}
