import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers tfjs-core's gradients (its Node bundle does not).
import '@tensorflow/tfjs-layers';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helperThread } from '../../src/model/kernels/helperThread.ts';
import { registerWasmKernels, useWasmThreads } from '../../src/model/kernels/index.ts';
import { values } from './values.ts';

/** y, dx and dW of a convolution; odd batches split unevenly between the two threads. */
function grads(backend: string, batch: number, filter: [number, number, number, number]): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values(batch * 14 * 14 * filter[2], 1), [batch, 14, 14, filter[2]]);
    const f = tf.tensor4d(
      values(
        filter.reduce((a, b) => a * b),
        2,
      ),
      filter,
    );
    const conv = (xx: tf.Tensor, ff: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same');
    const loss = (xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.square(tf.mean(conv(xx, ff), [1, 2])));
    const [dx, df] = tf.grads(loss)([x, f]);
    return [conv(x, f), dx, df].map((t) => t.dataSync() as Float32Array);
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
    // The project's convolution loops get their second thread too.
    expect(helperThread(tf.backend() as never)).toBeDefined();
  });

  it.each([
    [4, [3, 3, 16, 32]],
    [5, [3, 3, 8, 16]],
    [1, [3, 3, 4, 8]],
    [3, [3, 3, 16, 12]],
  ] as const)(
    'gives the cpu backend results through the project kernels on both threads (batch %i, filter %j)',
    (batch, filter) => {
      const cpu = grads('cpu', batch, [...filter]);
      const wasm = grads('wasm', batch, [...filter]);
      for (let k = 0; k < 3; k++) {
        const scale = cpu[k].reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
        const diff = cpu[k].reduce((m, v, i) => Math.max(m, Math.abs(v - wasm[k][i])), 0);
        expect(diff / scale).toBeLessThan(1e-4);
      }
    },
  );
});
