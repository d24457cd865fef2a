import { describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import { RAW_PIXELS, sliceImageSet } from '../../src/eval/evaluate.ts';
import { evaluatePhotos } from '../../src/eval/photoEval.ts';
import { photoSection } from '../../src/eval/report.ts';

describe('evaluatePhotos', () => {
  it('measures photos of test items against the test and test+train catalogs, and reports them', async () => {
    const data = await loadFashionMnist();
    const test = sliceImageSet(data.test, 200);
    const train = sliceImageSet(data.train, 400);
    const r = await evaluatePhotos(RAW_PIXELS, test, train, test.images, train.images, {
      count: 30,
      seed: 1,
      workers: 0,
    });
    expect(r.photos).toBe(30);
    expect(r.exactItem.map((e) => [e.catalog, e.catalogCount])).toEqual([
      ['test', 200],
      ['test+train', 600],
    ]);
    const [inTest, inAll] = r.exactItem;
    // A larger catalog can only push an item down the ranking.
    expect(inAll.recallAt10.overall).toBeLessThanOrEqual(inTest.recallAt10.overall);
    expect(inTest.recallAt1).toBeLessThanOrEqual(inTest.recallAt10.overall);
    for (const v of [r.categoryPrecisionAt10.photo.overall, r.categoryPrecisionAt10.clean.overall]) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    const md = photoSection(r).join('\n');
    expect(md).toContain('## Product-photo queries: 30 photos of test items (seed 1)');
    expect(md).toContain('| test+train | 600 |');
    expect(r.categoryPrecisionAt10.gallery).toBe('train');
    expect(md).toContain(`category P@10 against the ${r.categoryPrecisionAt10.galleryCount} train images`);
  });
});
