import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers tfjs-core's gradients (its Node bundle does not).
import '@tensorflow/tfjs-layers';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels, useWasmThreads } from '../../src/model/kernels/index.ts';
import { values } from './values.ts';

function grads(backend: string): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values(4 * 14 * 14 * 16, 1), [4, 14, 14, 16]);
    const f = tf.tensor4d(values(3 * 3 * 16 * 32, 2), [3, 3, 16, 32]);
    const loss = (xx: tf.Tensor, ff: tf.Tensor) =>
      tf.sum(tf.square(tf.mean(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same'), [1, 2])));
    const [dx, df] = tf.grads(loss)([x, f]);
    return [dx.dataSync() as Float32Array, df.dataSync() as Float32Array];
  });
}

// This file runs in its own process (vitest pool 'forks'), so the threaded backend stays here.
describe('the multi-threaded wasm build under Node', () => {
  beforeAll(async () => {
    useWasmThreads(2);
    registerWasmKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });
  afterAll(() => {
    tf.removeBackend('wasm');
  });

  it('runs XNNPACK on 2 threads over shared memory', () => {
    expect(getThreadsCount()).toBe(2);
    const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
    expect(backend.wasm.HEAPU8.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('gives the cpu backend gradients through the project kernels (shared-memory SIMD module)', () => {
    const cpu = grads('cpu');
    const wasm = grads('wasm');
    for (let k = 0; k < 2; k++) {
      const scale = cpu[k].reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
      const diff = cpu[k].reduce((m, v, i) => Math.max(m, Math.abs(v - wasm[k][i])), 0);
      expect(diff / scale).toBeLessThan(1e-4);
    }
  });
});
