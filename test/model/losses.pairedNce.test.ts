import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { pairedNceLoss, partnerOf } from '../../src/model/losses.ts';
import { pairedViews } from '../../src/train/batches.ts';
import { computeLoss } from '../../src/train/objective.ts';
import { type Emb, randomCase } from './lossesReference.ts';

const unit = (rows: Emb): Emb =>
  rows.map((row) => {
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  });

/** NT-Xent by its definition, one row at a time: −log of the partner's share among the other rows. */
function naivePairedNce(emb: Emb, temperature: number): number {
  let sum = 0;
  for (const [r, a] of emb.entries()) {
    const logit = (b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0) / temperature;
    const others = emb.filter((_, q) => q !== r).reduce((s, b) => s + Math.exp(logit(b)), 0);
    sum += Math.log(others) - logit(emb[partnerOf(r, emb.length)]);
  }
  return sum / emb.length;
}

const nce = (emb: Emb, temperature: number) =>
  tf.tidy(() => pairedNceLoss(tf.tensor2d(emb), temperature).dataSync()[0]);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pairedNceLoss', () => {
  it('matches a hand-computed value', () => {
    // Rows 0/2 and 1/3 are pairs. Row 0 = (1, 0) sees row 2 = (1, 0) at cos 1 and rows 1, 3 = (0, 1) at
    // cos 0: −log(e^(1/τ) / (e^(1/τ) + 2)); every row is alike by symmetry.
    const tau = 0.5;
    const expected = -Math.log(Math.exp(2) / (Math.exp(2) + 2));
    expect(
      nce(
        [
          [1, 0],
          [0, 1],
          [1, 0],
          [0, 1],
        ],
        tau,
      ),
    ).toBeCloseTo(expected, 5);
  });

  it('matches the naive definition on random unit embeddings', () => {
    const { emb } = randomCase(9, 12, 3, 6);
    for (const tau of [0.1, 0.3, 1])
      expect(nce(unit(emb), tau)).toBeCloseTo(naivePairedNce(unit(emb), tau), 3);
  });

  it('refuses an odd batch', () => {
    expect(() => nce(unit(randomCase(2, 5, 2, 4).emb), 0.1)).toThrow(/even batch/);
  });

  it('is added with its weight to the class loss by computeLoss', () => {
    const { labels, emb } = randomCase(4, 8, 4, 5);
    const e = unit(emb);
    const lossOf = (weight: number) =>
      tf.tidy(
        () =>
          computeLoss(
            'batch_all',
            tf.tensor1d(labels, 'int32'),
            { embedding: tf.tensor2d(e) },
            {
              margin: 0.5,
              instance: { weight, temperature: 0.2 },
            },
          ).loss.dataSync()[0],
      );
    expect(lossOf(0.5) - lossOf(0)).toBeCloseTo(0.5 * naivePairedNce(e, 0.2), 3);
  });
});

describe('pairedViews', () => {
  it('lays the first half of the indices out twice', () => {
    expect([...pairedViews([7, 3, 9, 1, 4])]).toEqual([7, 3, 7, 3]);
  });
});
