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

  // Bias adds (vector along the last axis, either side, odd lengths for the scalar tail) and the
  // other float adds that go to the backend's kernel.
  const ADDS: [number[], number[]][] = [
    [[128, 14, 14, 32], [32]],
    [[7], [3, 7]],
    [[2, 5, 5], [5]],
    [[4, 6], [6]],
    [
      [2, 3],
      [2, 3],
    ],
    [
      [2, 3],
      [1, 3],
    ],
    [[5], [5]],
  ];
  it.each(ADDS.map((p, i) => [i, JSON.stringify(p), p] as const))('add %i %s', (i, _s, [as, bs]) => {
    const make = () =>
      tf.add(
        tf.tensor(values(tf.util.sizeFromShape(as), i + 20), as),
        tf.tensor(values(tf.util.sizeFromShape(bs), i + 21), bs),
      );
    expect(on('wasm', make)).toEqual(on('cpu', make));
  });

  const MATMULS: [number[], number[], boolean, boolean][] = [
    [[128, 64], [128, 64], true, false],
    [[128, 64], [10, 64], false, true],
    [[5, 3], [7, 5], true, true],
    [[2, 4, 3], [2, 4, 5], true, false],
    [[2, 3, 4], [2, 5, 4], false, true],
    [[3, 4], [4, 6], false, false],
  ];
  it.each(MATMULS.map((p, i) => [i, JSON.stringify(p), p] as const))(
    'matMul %i %s',
    (i, _s, [as, bs, ta, tb]) => {
      const make = () =>
        tf.matMul(
          tf.tensor(values(tf.util.sizeFromShape(as), i + 30), as),
          tf.tensor(values(tf.util.sizeFromShape(bs), i + 31), bs),
          ta,
          tb,
        );
      const cpu = on('cpu', make);
      const wasm = on('wasm', make);
      expect(wasm.shape).toEqual(cpu.shape);
      const scale = cpu.data.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      for (let k = 0; k < cpu.data.length; k++) {
        expect(Math.abs(wasm.data[k] - cpu.data[k]) / scale).toBeLessThan(1e-5);
      }
    },
  );

  it.each([[128, 14, 14, 32], [3, 5], [7], [2, 3, 3]].map((s, i) => [i, s] as const))(
    'relu gradient %i',
    (i, shape) => {
      const n = tf.util.sizeFromShape(shape);
      // Exact zeros too: the gradient at 0 is 0, as tfjs-core's step gives.
      const xs = values(n, i + 40).map((v, k) => (k % 5 === 0 ? 0 : v));
      const make = () =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor(values(n, i + 41), shape))))(
          tf.tensor(xs, shape),
        );
      // Equal values; tfjs-core's multiply by the 0/1 mask gives -0 where dy < 0, which toEqual
      // would tell from 0 (and diffing 800,000 elements takes minutes): count mismatches instead.
      const wasm = on('wasm', make).data;
      const cpu = on('cpu', make).data;
      expect(wasm.length).toBe(n);
      expect(wasm.filter((v, k) => v !== cpu[k]).length).toBe(0);
    },
  );

  it('a cast to the same dtype aliases its input; other casts convert', () => {
    tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor([1.5, -2, 0]);
    const same = tf.cast(x, 'float32');
    const ints = tf.cast(x, 'int32');
    x.dispose();
    expect(Array.from(same.dataSync())).toEqual([1.5, -2, 0]);
    expect(Array.from(ints.dataSync())).toEqual([1, -2, 0]);
    tf.dispose([same, ints]);
    expect(tf.memory().numTensors).toBe(before);
  });

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
