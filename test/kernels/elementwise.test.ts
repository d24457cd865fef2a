import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Registers tfjs-core's gradients (its Node bundle does not).
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../../src/model/kernels/index.ts';
import { values } from './values.ts';

function on(backend: string, f: () => tf.Tensor): { data: number[]; dtype: string; shape: number[] } {
  tf.setBackend(backend);
  const t = tf.tidy(f);
  const r = { data: Array.from(t.dataSync()), dtype: t.dtype, shape: t.shape };
  t.dispose();
  return r;
}

const PAIRS: [number[], number[]][] = [
  [
    [128, 128],
    [128, 1],
  ],
  [
    [128, 1],
    [1, 128],
  ],
  [
    [5, 1, 7],
    [1, 3, 1],
  ],
  [[2, 3, 4, 5], [5]],
  [[2, 3, 4, 5], []],
  [[1], [3, 2]],
  [
    [4, 1, 3],
    [4, 6, 3],
  ],
  [
    [3, 4],
    [3, 4],
  ],
];
const BINARY: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ['equal', tf.equal],
  ['notEqual', tf.notEqual],
  ['greater', tf.greater],
  ['greaterEqual', tf.greaterEqual],
  ['less', tf.less],
  ['lessEqual', tf.lessEqual],
  ['maximum', tf.maximum],
  ['minimum', tf.minimum],
];

describe('wasm elementwise and reduction kernels match the cpu backend', () => {
  beforeAll(async () => {
    registerWasmKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  for (const [name, op] of BINARY) {
    it.each(PAIRS.map((p, i) => [i, JSON.stringify(p), p] as const))(`${name} %i %s`, (i, _s, [as, bs]) => {
      for (const dtype of ['float32', 'int32'] as const) {
        const make = () =>
          op(
            tf.tensor(values(tf.util.sizeFromShape(as), i + 1, 3), as, dtype),
            tf.tensor(values(tf.util.sizeFromShape(bs), i + 2, 3), bs, dtype),
          );
        expect(on('wasm', make)).toEqual(on('cpu', make));
      }
    });
  }

  it.each(PAIRS.map((p, i) => [i, p] as const))('logicalAnd / logicalOr %i', (i, [as, bs]) => {
    for (const op of [tf.logicalAnd, tf.logicalOr]) {
      const make = () =>
        op(
          tf.greater(tf.tensor(values(tf.util.sizeFromShape(as), i + 3), as), 0),
          tf.greater(tf.tensor(values(tf.util.sizeFromShape(bs), i + 4), bs), 0),
        );
      expect(on('wasm', make)).toEqual(on('cpu', make));
    }
  });

  const SUMS: [number[], number[], boolean][] = [
    [[128, 14, 14, 32], [0, 1, 2], false],
    [[7, 5, 3], [0, 1], true],
    [[6, 5], [0], false],
    [[3, 5, 2], [1, 0], false],
    [[4, 6, 3], [1, 2], false],
    [[4, 6], [0, 1], false],
    [[9, 7], [1], true],
    [[128, 7, 7, 64], [1, 2], false],
    [[3, 4, 5, 6, 2], [1, 2, 3], true],
    [[3, 4, 5], [1], false],
  ];
  const REDUCTIONS: [string, (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor][] = [
    ['sum', (x, axes, keep) => tf.sum(x, axes, keep)],
    ['mean', (x, axes, keep) => tf.mean(x, axes, keep)],
    // The registered Mean gradient, through the tape.
    [
      'mean gradient',
      (x, axes, keep) => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.mean(t, axes, keep))))(x),
    ],
  ];
  for (const [name, reduce] of REDUCTIONS) {
    it.each(SUMS.map((c, i) => [i, JSON.stringify(c), c] as const))(
      `${name} %i %s`,
      (i, _s, [shape, axes, keep]) => {
        const make = () => reduce(tf.tensor(values(tf.util.sizeFromShape(shape), i + 9), shape), axes, keep);
        const cpu = on('cpu', make);
        const wasm = on('wasm', make);
        expect(wasm.shape).toEqual(cpu.shape);
        const scale = cpu.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
        for (let k = 0; k < cpu.data.length; k++) {
          expect(Math.abs(wasm.data[k] - cpu.data[k]) / scale).toBeLessThan(1e-5);
        }
      },
    );
  }

  it('identity aliases its input and survives the input being disposed', () => {
    tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
