import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  distanceGaps,
  meanReducer,
  nonZeroMeanReducer,
  type Reducer,
  tripletMarginLoss,
} from '../../src/model/losses.ts';
import { rng, scalar } from './lossesReference.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function reduceWithGrad(reducer: Reducer, values: number[]): { value: number; grad: number[] } {
  const x = tf.tensor1d(values);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => reducer(t as tf.Tensor1D))(x);
  const out = { value: scalar(value), grad: [...grad.dataSync()] };
  tf.dispose([x, grad]);
  return out;
}

function naiveMean(values: number[]) {
  return values.length > 0 ? values.reduce((s, v) => s + v, 0) / values.length : 0;
}

function naiveNonZeroMean(values: number[]) {
  let sum = 0;
  let count = 0;
  for (const v of values)
    if (v > 0) {
      sum += v;
      count++;
    }
  return count > 0 ? sum / count : 0;
}

describe('reducers', () => {
  it('hand-computed: [0, 1, 2, 0] → mean 0.75, non-zero mean 1.5, gradients 1/4 and 1/2', () => {
    expect(reduceWithGrad(meanReducer, [0, 1, 2, 0])).toEqual({
      value: 0.75,
      grad: [0.25, 0.25, 0.25, 0.25],
    });
    expect(reduceWithGrad(nonZeroMeanReducer, [0, 1, 2, 0])).toEqual({
      value: 1.5,
      grad: [0.5, 0.5, 0.5, 0.5],
    });
  });

  it('no tuples, or only zero losses, reduce to 0 with a finite gradient', () => {
    for (const reducer of [meanReducer, nonZeroMeanReducer]) {
      expect(reduceWithGrad(reducer, []).value).toBe(0);
      const zeros = reduceWithGrad(reducer, [0, 0, 0]);
      expect(zeros.value).toBe(0);
      expect(zeros.grad.every(Number.isFinite)).toBe(true);
    }
  });

  for (const seed of [1, 2, 3]) {
    it(`vs naive loops on losses with many zeros (seed ${seed})`, () => {
      const r = rng(seed);
      const values = Array.from({ length: 50 }, () => Math.max(r() * 2 - 1, 0));
      expect(reduceWithGrad(meanReducer, values).value).toBeCloseTo(naiveMean(values), 6);
      expect(reduceWithGrad(nonZeroMeanReducer, values).value).toBeCloseTo(naiveNonZeroMean(values), 6);
    });
  }
});

describe('triplet margin loss over gathered distances', () => {
  const n = 5;
  const r = rng(7);
  const matrix = Array.from({ length: n * n }, () => r());
  // Repeated pairs on purpose: (0,1) twice, (2,3) twice, so the scatter must add up.
  const triplets = {
    anchor: Int32Array.from([0, 0, 2, 2, 4]),
    positive: Int32Array.from([1, 1, 3, 3, 4]),
    negative: Int32Array.from([2, 3, 0, 4, 1]),
  };

  it('distanceGaps matches tf.gather, value and gradient (the cpu backend has the segment sum)', () => {
    const d = tf.tensor2d(matrix, [n, n]);
    const weights = tf.tensor1d([1, -2, 3, 0.5, 4]);
    const viaGaps = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(distanceGaps(x as tf.Tensor2D, triplets), weights)),
    )(d);
    const viaGather = tf.grad((x: tf.Tensor) => {
      const flat = tf.reshape(x, [n * n]);
      const at = (a: Int32Array, b: Int32Array) =>
        tf.gather(
          flat,
          tf.tensor1d(
            Array.from(a, (v, i) => v * n + b[i]),
            'int32',
          ),
        );
      return tf.sum(
        tf.mul(
          tf.sub(at(triplets.anchor, triplets.positive), at(triplets.anchor, triplets.negative)),
          weights,
        ),
      );
    })(d);
    expect([...viaGaps.dataSync()]).toEqual([...viaGather.dataSync()]);
    const gaps = distanceGaps(d, triplets).dataSync();
    triplets.anchor.forEach((a, i) => {
      expect(gaps[i]).toBeCloseTo(
        matrix[a * n + triplets.positive[i]] - matrix[a * n + triplets.negative[i]],
        6,
      );
    });
  });

  it('hinge and soft margin vs a naive loop', () => {
    const d = tf.tensor2d(matrix, [n, n]);
    const hinge = [...triplets.anchor].map((a, i) =>
      Math.max(matrix[a * n + triplets.positive[i]] - matrix[a * n + triplets.negative[i]] + 0.3, 0),
    );
    const soft = [...triplets.anchor].map((a, i) =>
      Math.log1p(Math.exp(matrix[a * n + triplets.positive[i]] - matrix[a * n + triplets.negative[i]])),
    );
    expect(scalar(tripletMarginLoss(d, triplets, { margin: 0.3 }, meanReducer))).toBeCloseTo(
      naiveMean(hinge),
      6,
    );
    expect(scalar(tripletMarginLoss(d, triplets, { margin: 0.3 }, nonZeroMeanReducer))).toBeCloseTo(
      naiveNonZeroMean(hinge),
      6,
    );
    expect(scalar(tripletMarginLoss(d, triplets, { margin: 9, smooth: true }, meanReducer))).toBeCloseTo(
      naiveMean(soft),
      6,
    );
  });
});
