import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers tfjs-core's gradients (its Node bundle does not).
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../../src/model/kernels/index.ts';
import { values } from './values.ts';

type Case = [number[], number, number, 'same' | 'valid'];
const CASES: Case[] = [
  [[128, 28, 28, 32], 2, 2, 'valid'],
  [[2, 7, 7, 3], 2, 2, 'same'],
  [[2, 9, 8, 5], 3, 2, 'same'],
  [[1, 9, 9, 2], 3, 2, 'valid'],
  [[3, 6, 5, 1], 3, 1, 'same'],
  [[1, 5, 5, 4], 2, 1, 'valid'],
  // Non-overlapping windows with channels % 4 == 0 (the SIMD path), odd sizes leaving an uncovered edge.
  [[2, 7, 9, 8], 2, 2, 'valid'],
  [[2, 9, 9, 4], 3, 3, 'valid'],
];

function maxPoolGrad(backend: string, [shape, size, stride, pad]: Case, i: number): Float32Array {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(
      values(tf.util.sizeFromShape(shape), i + 1, 3),
      shape as [number, number, number, number],
    );
    const y = tf.maxPool(x, size, stride, pad);
    const w = tf.tensor(values(y.size, i + 2, 50), y.shape);
    return tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, pad), w)))(x)
      .dataSync() as Float32Array;
  });
}

describe('wasm MaxPoolGrad matches the cpu backend', () => {
  beforeAll(async () => {
    registerWasmKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });
  it.each(CASES.map((c, i) => [i, JSON.stringify(c), c] as const))('case %i %s', (i, _s, c) => {
    const wasm = maxPoolGrad('wasm', c, i);
    const cpu = maxPoolGrad('cpu', c, i);
    expect(wasm.length).toBe(cpu.length);
    // Exact (== also equates the -0 of a routed -0 with the cpu backend's 0 + -0).
    let mismatches = 0;
    for (let k = 0; k < cpu.length; k++) if (wasm[k] !== cpu[k]) mismatches++;
    expect(mismatches).toBe(0);
  });
});
