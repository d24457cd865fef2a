import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormTraining } from '../../src/model/batchNorm.ts';
import { BATCH_NORM_KERNELS } from '../../src/model/kernels/batchNorm.ts';
import { registerWasmKernels } from '../../src/model/kernels/index.ts';
import { values } from './values.ts';

/** Training-mode output, batch statistics and the three gradients of Σ y·w on `backend`. */
async function runOn(backend: string, shape: number[], seed: number) {
  expect(await tf.setBackend(backend)).toBe(true);
  return tf.tidy(() => {
    const channels = shape[shape.length - 1];
    const size = shape.reduce((a, b) => a * b, 1);
    // An offset and a spread per channel, as conv outputs have: the two-pass variance must not lose them.
    const x = tf.add(tf.mul(tf.tensor(values(size, seed), shape), 3), 1.5);
    const gamma = tf.add(tf.tensor1d(values(channels, seed + 1)), 1.5) as tf.Tensor1D;
    const beta = tf.tensor1d(values(channels, seed + 2));
    const w = tf.tensor(values(size, seed + 3), shape);
    const stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D } = {};
    const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(batchNormTraining(xi, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3, stats), w));
    const y = batchNormTraining(x, gamma, beta, 1e-3, stats);
    const [dx, dGamma, dBeta] = tf.grads(f)([x, gamma, beta]);
    const out = [y, stats.mean!, stats.variance!, dx, dGamma, dBeta].map((t) => t.dataSync() as Float32Array);
    tf.dispose([stats.mean!, stats.variance!]);
    return out;
  });
}

function relativeDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(a[i]));
  }
  return diff / (norm || 1);
}

describe('batch-norm training passes on wasm (the project kernels) match the tf-ops formulation on cpu', () => {
  beforeAll(async () => {
    registerWasmKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  it('the wasm backend has the kernels', () => {
    for (const name of Object.values(BATCH_NORM_KERNELS)) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  // NHWC conv activations, an [N, C] embedding, and 6 channels (not a multiple of 4: tf ops on wasm too).
  it.each([[[4, 5, 6, 8]], [[3, 7, 7, 64]], [[12, 64]], [[2, 3, 3, 6]]])('shape %j', async (shape) => {
    const cpu = await runOn('cpu', shape, 11);
    const wasm = await runOn('wasm', shape, 11);
    const names = ['y', 'mean', 'variance', 'dx', 'dGamma', 'dBeta'];
    for (const [i, name] of names.entries()) expect(relativeDiff(cpu[i], wasm[i]), name).toBeLessThan(2e-5);
  });
});
