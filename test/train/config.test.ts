import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  runIdentity,
  sameRunIdentity,
  type TrainConfig,
  validateConfig,
} from '../../src/train/config.ts';

const config = (over: Partial<TrainConfig>): TrainConfig => ({ ...DEFAULT_CONFIG, out: 'models/x', ...over });

describe('validateConfig', () => {
  it('accepts the defaults and the soft margin with batch_hard', () => {
    expect(validateConfig(config({}))).toBeTruthy();
    expect(validateConfig(config({ loss: 'batch_hard', softMargin: true })).softMargin).toBe(true);
  });
  it('rejects the soft margin with another loss, and a P that does not divide the batch', () => {
    expect(() => validateConfig(config({ loss: 'batch_all', softMargin: true }))).toThrow(/--soft-margin/);
    expect(() => validateConfig(config({ sampler: 'pk', pkClasses: 6, batchSize: 128 }))).toThrow(
      /multiple of P/,
    );
  });
});

describe('sameRunIdentity', () => {
  const current = runIdentity(config({ loss: 'batch_hard' }));
  it('matches whatever the key order', () => {
    const reordered = Object.fromEntries(Object.entries(current).reverse());
    expect(sameRunIdentity(reordered, current)).toBe(true);
  });
  it('reads settings an older checkpoint lacks as their defaults', () => {
    const { softMargin: _, ...older } = current;
    expect(sameRunIdentity(older, current)).toBe(true);
    expect(sameRunIdentity(older, runIdentity(config({ loss: 'batch_hard', softMargin: true })))).toBe(false);
  });
  it('tells different settings apart', () => {
    expect(sameRunIdentity(current, runIdentity(config({ loss: 'batch_hard', lr: 1e-4 })))).toBe(false);
  });
});
