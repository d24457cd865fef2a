import { describe, expect, it } from 'vitest';
import { PLAIN_HEAD } from '../../src/model/embeddingHead.ts';
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
  it('accepts the composed triplet loss with any miner, distance and reducer', () => {
    for (const miner of ['all', 'batch-hard', 'semi-hard', 'distance-weighted'] as const)
      for (const distance of ['euclidean', 'squared', 'cosine'] as const)
        expect(validateConfig(config({ loss: 'triplet', miner, distance, reducer: 'mean' })).miner).toBe(
          miner,
        );
    expect(validateConfig(config({ loss: 'triplet', softMargin: true })).softMargin).toBe(true);
    expect(validateConfig(config({ loss: 'batch_all', distance: 'cosine' })).distance).toBe('cosine');
  });
  it('rejects a miner or reducer with a named loss, unknown names, and --squared with another distance', () => {
    expect(() => validateConfig(config({ loss: 'batch_all', miner: 'semi-hard' }))).toThrow(
      /--loss triplet only/,
    );
    expect(() => validateConfig(config({ loss: 'batch_hard', reducer: 'mean' }))).toThrow(
      /--loss triplet only/,
    );
    expect(() => validateConfig(config({ loss: 'triplet', miner: 'hardest' as never }))).toThrow(
      /--miner must/,
    );
    expect(() => validateConfig(config({ distance: 'manhattan' as never }))).toThrow(/--distance must/);
    expect(() => validateConfig(config({ loss: 'triplet', reducer: 'sum' as never }))).toThrow(
      /--reducer must/,
    );
    expect(() => validateConfig(config({ squared: true, distance: 'cosine' }))).toThrow(/--squared/);
  });
  it('needs --dir and --metadata for a folder dataset, and a validation fraction in (0, 1)', () => {
    const folder = { dataset: 'folder' as const, dir: 'shop', metadata: 'items.csv' };
    expect(validateConfig(config(folder)).dataset).toBe('folder');
    expect(() => validateConfig(config({ ...folder, metadata: '' }))).toThrow(/--dir and --metadata/);
    expect(() => validateConfig(config({ ...folder, valFraction: 1 }))).toThrow(/--val-fraction/);
    expect(() => validateConfig(config({ dir: 'shop' }))).toThrow(/--dataset folder only/);
    expect(() => validateConfig(config({ dataset: 'photos' as never }))).toThrow(/--dataset must/);
  });
  it('rejects the soft margin with another loss, and a P that does not divide the batch', () => {
    expect(() => validateConfig(config({ loss: 'batch_all', softMargin: true }))).toThrow(/--soft-margin/);
    expect(() => validateConfig(config({ sampler: 'pk', pkClasses: 6, batchSize: 128 }))).toThrow(
      /multiple of P/,
    );
  });
});

describe('--embedding-norm', () => {
  it('accepts every normalisation with a triplet loss, none by default, and refuses them with softmax', () => {
    expect(DEFAULT_CONFIG.embeddingNorm).toBe('none');
    for (const embeddingNorm of ['none', 'l2', 'bn', 'bn-l2'] as const)
      expect(validateConfig(config({ loss: 'batch_hard', embeddingNorm })).embeddingNorm).toBe(embeddingNorm);
    expect(() => validateConfig(config({ embeddingNorm: 'l1' as never }))).toThrow(/--embedding-norm must/);
    expect(() => validateConfig(config({ loss: 'softmax', embeddingNorm: 'l2' }))).toThrow(/not softmax/);
    expect(validateConfig(config({ loss: 'softmax' })).embeddingNorm).toBe('none');
  });
  it('--loss cosface needs unit embeddings (l2 or bn-l2) and a positive scale', () => {
    for (const embeddingNorm of ['l2', 'bn-l2'] as const)
      expect(validateConfig(config({ loss: 'cosface', embeddingNorm })).loss).toBe('cosface');
    for (const embeddingNorm of ['none', 'bn'] as const)
      expect(() => validateConfig(config({ loss: 'cosface', embeddingNorm }))).toThrow(
        /needs --embedding-norm/,
      );
    expect(() => validateConfig(config({ loss: 'cosface', embeddingNorm: 'l2', cosScale: 0 }))).toThrow(
      /--cos-scale/,
    );
  });
  it('--instance-weight needs unit embeddings, random batches of an even size and a positive temperature', () => {
    const paired = { loss: 'cosface', embeddingNorm: 'l2', sampler: 'random', instanceWeight: 0.5 } as const;
    expect(validateConfig(config(paired)).instanceWeight).toBe(0.5);
    expect(() => validateConfig(config({ ...paired, loss: 'batch_all', embeddingNorm: 'none' }))).toThrow(
      /--instance-weight needs --embedding-norm/,
    );
    expect(() => validateConfig(config({ ...paired, sampler: 'pk' }))).toThrow(/--sampler random/);
    expect(() => validateConfig(config({ ...paired, batchSize: 127 }))).toThrow(/even --batch/);
    expect(() => validateConfig(config({ ...paired, instanceTemperature: 0 }))).toThrow(
      /--instance-temperature/,
    );
    expect(() => validateConfig(config({ instanceWeight: -1 }))).toThrow(/--instance-weight must/);
  });
  it('records a class pull only over a cosine head; the head is not part of the run identity', () => {
    const pull = { flipAverage: true, classPull: { weight: 0.5, scale: 24 } };
    const cosface = { loss: 'cosface', embeddingNorm: 'l2', embeddingHead: pull } as const;
    expect(validateConfig(config(cosface)).embeddingHead).toEqual(pull);
    expect(() => validateConfig(config({ ...cosface, loss: 'batch_all' }))).toThrow(
      /--class-pull needs --loss cosface/,
    );
    const mirrorOnly = { flipAverage: true, classPull: null };
    expect(validateConfig(config({ embeddingHead: mirrorOnly })).embeddingHead).toEqual(mirrorOnly);
    // A run resumed with another head trains the same weights.
    expect(runIdentity(config(cosface))).toEqual(
      runIdentity(config({ ...cosface, embeddingHead: PLAIN_HEAD })),
    );
  });
  it('is part of the run identity; a checkpoint without it resumes as none', () => {
    const l2 = runIdentity(config({ embeddingNorm: 'l2' }));
    const { embeddingNorm: _, ...older } = runIdentity(config({}));
    expect(sameRunIdentity(older, runIdentity(config({})))).toBe(true);
    expect(sameRunIdentity(older, l2)).toBe(false);
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
