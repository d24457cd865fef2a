import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TripletOptions, tripletLoss } from '../../src/model/losses.ts';
import { computeLoss } from '../../src/train/objective.ts';
import { naiveBatchAll, naiveBatchHard, randomCase, scalar, withTensors } from '../model/lossesReference.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const { labels, emb } = randomCase(41, 16, 6, 4);

const named = (name: Parameters<typeof computeLoss>[0], opts: TripletOptions) =>
  withTensors(labels, emb, (l, e) => {
    const r = computeLoss(name, l, { embedding: e }, opts);
    return { loss: scalar(r.loss), fractionPositive: r.fractionPositive };
  });

describe('computeLoss: the named losses are presets of the composed one', () => {
  it('batch_all is the all-triplets miner with the non-zero mean, and reports the fraction positive', () => {
    const ref = naiveBatchAll(labels, emb, 0.5);
    const got = named('batch_all', { margin: 0.5 });
    expect(got.loss).toBeCloseTo(ref.loss, 5);
    expect(got.fractionPositive).toBeCloseTo(ref.fraction, 6);
  });

  it('batch_hard keeps its miner and reducer whatever the options name', () => {
    const ref = naiveBatchHard(labels, emb, 0.5);
    expect(named('batch_hard', {}).loss).toBeCloseTo(ref, 5);
    expect(named('batch_hard', { miner: 'all', reducer: 'non-zero' }).loss).toBeCloseTo(ref, 5);
  });

  it('triplet takes the miner, reducer and distance from the options', () => {
    const opts: TripletOptions = { miner: 'semi-hard', reducer: 'non-zero', distance: 'cosine' };
    const direct = scalar(withTensors(labels, emb, (l, e) => tripletLoss(l, e, opts).loss));
    expect(named('triplet', opts).loss).toBeCloseTo(direct, 6);
    expect(named('triplet', {}).loss).toBeCloseTo(naiveBatchAll(labels, emb, 0.5).loss, 5);
  });

  it('the distance-weighted miner is reproducible from its seed', () => {
    const opts: TripletOptions = { miner: 'distance-weighted', distance: 'cosine' };
    expect(named('triplet', { ...opts, seed: 7 }).loss).toBe(named('triplet', { ...opts, seed: 7 }).loss);
    expect(named('triplet', { ...opts, seed: 7 }).loss).not.toBe(named('triplet', { ...opts, seed: 8 }).loss);
  });
});
