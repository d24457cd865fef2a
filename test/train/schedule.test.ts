import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduledAdam } from '../../src/train/schedule.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => tf.disposeVariables());

const kernel0 = [0.5, -1, 2, 0];
const bias0 = [0.25, -0.5];
const grads = (k: tf.Variable, b: tf.Variable) => [
  { name: k.name, tensor: tf.tensor2d([0.1, -0.2, 0.3, 0.4], [2, 2]) },
  { name: b.name, tensor: tf.tensor1d([-0.5, 0.5]) },
];

describe('ScheduledAdam', () => {
  it('takes tf.train.adam’s steps without weight decay', () => {
    const [k1, b1] = [tf.variable(tf.tensor2d(kernel0, [2, 2])), tf.variable(tf.tensor1d(bias0))];
    const [k2, b2] = [tf.variable(tf.tensor2d(kernel0, [2, 2])), tf.variable(tf.tensor1d(bias0))];
    const ours = new ScheduledAdam(0.01);
    const theirs = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
    for (let i = 0; i < 3; i++) {
      ours.applyGradients(grads(k1, b1));
      theirs.applyGradients(grads(k2, b2));
    }
    for (const [a, b] of [
      [k1, k2],
      [b1, b2],
    ]) {
      const expected = b.dataSync();
      a.dataSync().forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i], 6);
      });
    }
  });

  it('with weight decay (AdamW) shrinks the kernels by lr·λ·θ beside Adam’s step, and not the biases', () => {
    const [k, b] = [tf.variable(tf.tensor2d(kernel0, [2, 2])), tf.variable(tf.tensor1d(bias0))];
    const [lr, decay] = [0.01, 0.1];
    new ScheduledAdam(lr, { weightDecay: decay }).applyGradients(grads(k, b));
    // First step: m̂ = g and v̂ = g², so Adam's step is g / (|g| + ε), the sign of g.
    const kernelGrad = [0.1, -0.2, 0.3, 0.4];
    kernel0.forEach((theta, i) => {
      expect(k.dataSync()[i]).toBeCloseTo(theta - lr * (Math.sign(kernelGrad[i]) + decay * theta), 6);
    });
    const biasGrad = [-0.5, 0.5];
    bias0.forEach((theta, i) => {
      expect(b.dataSync()[i]).toBeCloseTo(theta - lr * Math.sign(biasGrad[i]), 6);
    });
  });
});
