import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import type { AppError } from '../../src/errors.ts';
import { RAW_PIXELS } from '../../src/eval/evaluate.ts';
import type { ReportData } from '../../src/eval/report.ts';
import { runEvaluation } from '../../src/eval/run.ts';
import { heldOutCount, VALIDATION_SPLIT_NAMES, validationData } from '../../src/eval/validationSplit.ts';

const refusal = (metadata: unknown) => {
  try {
    heldOutCount(metadata);
  } catch (err) {
    return [(err as AppError).status, (err as AppError).code, (err as AppError).message];
  }
  throw new Error('expected a refusal');
};

describe('the validation split of a trained model', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is read from metadata.json: the shipped model held out 5,000; a run that held none, or a shop's folder, is refused", async () => {
    const metadata = JSON.parse(await readFile('models/default/metadata.json', 'utf8'));
    expect(heldOutCount(metadata)).toBe(5000);
    expect(refusal({ ...metadata, hyperParameters: { ...metadata.hyperParameters, valCount: 0 } })).toEqual([
      400,
      'NO_VALIDATION_SPLIT',
      'the model was trained on all 60,000 training images: none were held out',
    ]);
    expect(refusal({ ...metadata, dataset: 'folder' })[1]).toBe('NO_VALIDATION_SPLIT');
    expect(refusal(null)[1]).toBe('NO_VALIDATION_SPLIT');
  });

  it('gives the held-out images as queries and the rest as gallery, and an evaluation names them so', async () => {
    const data = await loadFashionMnist();
    const split = validationData(data, 5000);
    expect([split.test.count, split.train.count]).toEqual([5000, 55000]);
    // Together they are the 60,000 training images, each once: compare them as multisets of images.
    const all = new Map<string, number>();
    const tally = (set: typeof data.train, delta: number) => {
      for (let i = 0; i < set.count; i++) {
        const key = Buffer.from(set.images.subarray(i * 784, (i + 1) * 784)).toString('base64');
        all.set(key, (all.get(key) ?? 0) + delta);
      }
    };
    tally(data.train, 1);
    tally(split.test, -1);
    tally(split.train, -1);
    expect([...all.values()].every((n) => n === 0)).toBe(true);

    dir = await mkdtemp(join(tmpdir(), 'eval-validation-'));
    const { report } = await runEvaluation({
      source: RAW_PIXELS,
      outDir: dir,
      title: 'raw pixels on a validation slice',
      command: 'test',
      queryLimit: 300,
      galleryLimit: 2000,
      projectionPoints: 100,
      photos: { count: 20, seed: 7 },
      data: split,
      names: VALIDATION_SPLIT_NAMES,
    });
    expect(report.data).toMatchObject({ queries: 'validation', gallery: 'train', queryCount: 300 });
    expect(report.photos?.exactItem.map((e) => [e.catalog, e.catalogCount])).toEqual([
      ['validation', 300],
      ['validation+train', 2300],
    ]);
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('## Retrieval: 300 validation queries against 2000 train images');
    expect(md).toContain('## Product-photo queries: 20 photos of validation items (seed 7)');
    expect((JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportData).photos?.items).toBe(
      'validation',
    );
  });
});
