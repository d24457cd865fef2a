import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import {
  parseExperimentConfig,
  renderComparisonMarkdown,
  selectVariants,
  trainArgv,
  type VariantResult,
  verdict,
} from '../../src/eval/experiment.ts';
import type { MetricSet } from '../../src/eval/metrics.ts';

const base = {
  name: 'x',
  modelsDir: 'models/x',
  report: 'reports/x.md',
  common: { arch: 'seed', epochs: 2, seed: 42 },
  variants: [
    { name: 'softmax', train: { loss: 'softmax' } },
    { name: 'batch-all', train: { loss: 'batch_all', squared: true } },
  ],
  extraVariants: [{ name: 'bh-pk', train: { loss: 'batch_hard', sampler: 'pk', epochs: 3 } }],
};

describe('experiment config', () => {
  it('the committed softmax-vs-triplet config is valid and trains the three losses alike', async () => {
    const raw = JSON.parse(await readFile('experiments/softmax-vs-triplet.json', 'utf8')) as unknown;
    const c = parseExperimentConfig(raw);
    expect(c.variants.map((v) => v.train.loss)).toEqual(['softmax', 'batch_all', 'batch_hard']);
    for (const v of c.variants) expect(Object.keys(v.train)).toEqual(['loss']);
    expect(c.common).toMatchObject({ arch: 'seed', sampler: 'random', seed: 42 });
  });

  it('turns flags into train arguments, variant over common, booleans as bare flags', () => {
    const c = parseExperimentConfig(base);
    expect(trainArgv(c, c.variants[1], 'models/x/batch-all')).toEqual([
      ...['--arch', 'seed', '--epochs', '2', '--seed', '42', '--loss', 'batch_all', '--squared'],
      ...['--out', 'models/x/batch-all'],
    ]);
    expect(trainArgv(c, c.extraVariants![0], 'o')).toContain('3');
  });

  it('selects main variants, extras, or named ones', () => {
    const c = parseExperimentConfig(base);
    expect(selectVariants(c, undefined, false).map((v) => v.name)).toEqual(['softmax', 'batch-all']);
    expect(selectVariants(c, undefined, true).map((v) => v.name)).toEqual(['softmax', 'batch-all', 'bh-pk']);
    expect(selectVariants(c, ['bh-pk'], false).map((v) => v.name)).toEqual(['bh-pk']);
    expect(() => selectVariants(c, ['nope'], false)).toThrow(ValidationError);
  });

  it('rejects bad configs', () => {
    expect(() => parseExperimentConfig({ ...base, variants: [] })).toThrow(ValidationError);
    expect(() => parseExperimentConfig({ ...base, variants: [{ name: '../up', train: {} }] })).toThrow(
      /name/,
    );
    expect(() => parseExperimentConfig({ ...base, extraVariants: [base.variants[0]] })).toThrow(/twice/);
    expect(() => parseExperimentConfig({ ...base, variants: [{ name: 'a', train: { out: 'x' } }] })).toThrow(
      /out/,
    );
  });
});

describe('comparison report', () => {
  const m = (mapAtR: number): MetricSet => ({
    queries: 10,
    precisionAt1: 0.8,
    precisionAt10: 0.7,
    rPrecision: 0.6,
    mapAtR,
    knnAccuracy: 0.81,
  });
  const c = parseExperimentConfig(base);
  const result = (i: number, mapAtR: number): VariantResult => ({
    variant: c.variants[i],
    modelDir: `models/x/${c.variants[i].name}`,
    reportLink: `../models/x/${c.variants[i].name}/report.md`,
    trainCommand: 'npm run train -- ...',
    trainSeconds: 100,
    epochs: 2,
    testVsTrain: m(mapAtR),
    leaveOneOut: m(mapAtR),
    meanNearestDistance: 0.5,
    stats: { meanNorm: 2, meanDimStd: 0.5 },
  });

  it('states which way the MAP@R comparison went', () => {
    expect(verdict([result(0, 0.4), result(1, 0.6)])).toContain(
      'batch-all is ahead of softmax on MAP@R by 0.200',
    );
    expect(verdict([result(0, 0.5), result(1, 0.45)])).toContain(
      'batch-all is behind softmax on MAP@R by 0.050',
    );
  });

  it('renders the table with the baseline and the projections', () => {
    const md = renderComparisonMarkdown({
      config: c,
      command: 'npm run experiment',
      createdAt: 'now',
      results: [result(0, 0.4), result(1, 0.6)],
      baseline: { name: 'raw pixels', testVsTrain: m(0.3), leaveOneOut: m(0.3) },
      projectionsFile: 'x-projections.png',
      queryCount: 10,
      galleryCount: 60,
    });
    expect(md).toContain('| softmax | 0.800 | 0.700 | 0.600 | 0.400 | 0.810 |');
    expect(md).toContain('| raw pixels (no learning) |');
    expect(md).toContain('![projections](x-projections.png)');
    expect(md).toContain('| 2.00 | 0.250 | 0.500 |');
  });
});
