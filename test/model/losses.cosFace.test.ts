import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosFaceLoss, softmaxCrossEntropy } from '../../src/model/losses.ts';
import { type Emb, randomCase, scalar, withTensors } from './lossesReference.ts';

/** CosFace by its definition, one row at a time. */
function naiveCosFace(labels: number[], cosines: Emb, scale: number, margin: number): number {
  let sum = 0;
  for (const [i, row] of cosines.entries()) {
    const logits = row.map((c, j) => scale * (j === labels[i] ? c - margin : c));
    const lse = Math.log(logits.reduce((s, v) => s + Math.exp(v), 0));
    sum += lse - logits[labels[i]];
  }
  return sum / cosines.length;
}

const cosFace = (labels: number[], cosines: Emb, scale: number, margin: number) =>
  scalar(withTensors(labels, cosines, (l, c) => cosFaceLoss(l, c, { scale, margin })));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('cosFaceLoss', () => {
  it('matches a hand-computed value', () => {
    // One row, true class 0: logits 2·(0.8 − 0.3) = 1 and 2·0.2 = 0.4; loss = log(e^1 + e^0.4) − 1.
    expect(cosFace([0], [[0.8, 0.2]], 2, 0.3)).toBeCloseTo(Math.log(Math.E + Math.exp(0.4)) - 1, 6);
  });

  it('matches the naive definition on random cosines', () => {
    const { labels, emb } = randomCase(21, 12, 5, 5);
    const cosines = emb.map((row) => row.map((v) => Math.tanh(v)));
    for (const [scale, margin] of [
      [16, 0.25],
      [30, 0.4],
      [4, 0],
    ])
      expect(cosFace(labels, cosines, scale, margin)).toBeCloseTo(
        naiveCosFace(labels, cosines, scale, margin),
        4,
      );
  });

  it('is softmax cross-entropy over s·cos when the margin is 0', () => {
    const { labels, emb } = randomCase(5, 8, 4, 4);
    const scaled = emb.map((row) => row.map((v) => 3 * v));
    const softmax = scalar(withTensors(labels, scaled, (l, c) => softmaxCrossEntropy(l, c)));
    expect(cosFace(labels, emb, 3, 0)).toBeCloseTo(softmax, 5);
  });

  it('a margin raises the loss until the true class leads by it', () => {
    const cosines = [[0.9, 0.5, 0.1]];
    expect(cosFace([0], cosines, 16, 0.25)).toBeGreaterThan(cosFace([0], cosines, 16, 0));
  });
});
