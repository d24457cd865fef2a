import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { L2_EPSILON, L2Normalize, l2NormalizeRows } from '../../src/model/l2Normalize.ts';
import { loadModel, saveModel } from '../../src/model/modelIo.ts';

const tmp = mkdtempSync(join(tmpdir(), 'l2-normalize-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('l2NormalizeRows', () => {
  it('divides each row by its norm; a zero row stays zero, a tiny one is divided by sqrt(ε)', () => {
    const y = l2NormalizeRows(
      tf.tensor2d([
        [3, 4],
        [0, 0],
        [1e-7, 0],
        [-2, 0],
      ]),
    );
    const v = Array.from(y.dataSync());
    // 3-4-5 triangle; ‖[1e-7, 0]‖² = 1e-14 < ε = 1e-12, so 1e-7 / 1e-6.
    const expected = [0.6, 0.8, 0, 0, 0.1, 0, -1, 0];
    for (const [i, e] of expected.entries()) expect(v[i]).toBeCloseTo(e, 6);
    expect(L2_EPSILON).toBe(1e-12);
  });

  it('has the projection gradient (I − y yᵀ) / ‖x‖', () => {
    // d/dx of y·[1, 0] at x = [3, 4]: ([1, 0] − 0.6 · [0.6, 0.8]) / 5 = [0.128, −0.096].
    const g = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(l2NormalizeRows(x as tf.Tensor2D), tf.tensor2d([[1, 0]]))),
    );
    const v = Array.from(g(tf.tensor2d([[3, 4]])).dataSync());
    expect(v[0]).toBeCloseTo(0.128, 6);
    expect(v[1]).toBeCloseTo(-0.096, 6);
  });
});

describe('L2Normalize layer', () => {
  it('is saved in model.json with its epsilon and loads back with the same outputs', async () => {
    const input = tfl.input({ shape: [3] });
    const dense = tfl.layers.dense({
      units: 4,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    });
    const out = new L2Normalize({ name: 'unit', epsilon: 1e-10 }).apply(
      dense.apply(input),
    ) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1, 0.5, 0],
    ]);
    const before = (model.predict(x) as tf.Tensor).dataSync();
    await saveModel(model, tmp);
    const { model: loaded } = await loadModel(tmp);
    const layer = loaded.getLayer('unit');
    expect(layer.getClassName()).toBe('L2Normalize');
    expect(layer.getConfig().epsilon).toBe(1e-10);
    const after = (loaded.predict(x) as tf.Tensor).dataSync();
    for (const [i, v] of before.entries()) expect(after[i]).toBeCloseTo(v, 6);
    for (let r = 0; r < 2; r++) {
      const row = after.subarray(r * 4, r * 4 + 4);
      expect(Math.hypot(...row)).toBeCloseTo(1, 6);
    }
  });
});
