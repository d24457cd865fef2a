import { afterAll, describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import { loadModelSource, type ModelSource } from '../../src/eval/modelSource.ts';
import { DEFAULT_PHOTO_SEED, evaluatePhotos } from '../../src/eval/photoEval.ts';
import { scoreEmbedding } from '../../src/eval/run.ts';

/**
 * Quality gate for the bundled model: a worse models/default can never be
 * shipped silently. The full evaluation (10,000 test queries) is in
 * models/default/report.md; to keep the suite fast this gate uses a fixed,
 * documented sample: the FIRST 2,000 test images as queries against the whole
 * 60,000-image training gallery (the gallery is what makes the figures
 * comparable to the goal, so it is not sampled).
 */
const QUERY_SAMPLE = 2000;

/**
 * Just under what the shipped model reaches: P@1 0.919, MAP@R 0.795, kNN 0.932 on the full test set
 * (models/default/report.md) and 0.923 / 0.796 / 0.935 on this sample. Issue 16's goal for the default
 * model (0.92 / 0.88 / 0.935) is not reached; the model trades MAP@R (0.842 before) for finding a
 * photographed item (PHOTO_THRESHOLDS), and the gate keeps both from falling back.
 */
const THRESHOLDS = { precisionAt1: 0.915, mapAtR: 0.78, knnAccuracy: 0.925 };

/**
 * Product photos of test items (src/data/photoLike.ts, the eval's generator and seed; its first 300 of
 * the 1,000 in the report): the photographed item among the 10 nearest of the 10,000 test images
 * (the report's 1,000: 0.905; this sample: 0.907), and the photos' category P@10 against the clean
 * images' (0.991 and 0.983).
 */
const PHOTOS = 300;
const PHOTO_THRESHOLDS = { exactItemRecallAt10: 0.88, categoryP10Ratio: 0.97 };

describe(`models/default on the first ${QUERY_SAMPLE} test images vs the 60,000 training images`, () => {
  let model: ModelSource | undefined;
  afterAll(() => model?.dispose());

  it('meets the quality thresholds', { timeout: 600_000 }, async () => {
    model = await loadModelSource('models/default', { engine: 'onnx', tfjsBackend: '', threads: 2 });
    const { testVsTrain } = await scoreEmbedding(model.source, { queryLimit: QUERY_SAMPLE });
    const m = testVsTrain.overall;
    expect(m.queries).toBe(QUERY_SAMPLE);
    expect(m.precisionAt1).toBeGreaterThanOrEqual(THRESHOLDS.precisionAt1);
    expect(m.mapAtR).toBeGreaterThanOrEqual(THRESHOLDS.mapAtR);
    expect(m.knnAccuracy).toBeGreaterThanOrEqual(THRESHOLDS.knnAccuracy);
  });

  it(`finds the photographed item for ${PHOTOS} product photos`, { timeout: 600_000 }, async () => {
    model ??= await loadModelSource('models/default', { engine: 'onnx', tfjsBackend: '', threads: 2 });
    const { test, train } = await loadFashionMnist();
    const testVectors = await model.source.embedImages(test);
    const trainVectors = await model.source.embedImages(train);
    const r = await evaluatePhotos(model.source, test, train, testVectors, trainVectors, {
      count: PHOTOS,
      seed: DEFAULT_PHOTO_SEED,
    });
    const inTest = r.exactItem.find((e) => e.catalog === 'test');
    expect(inTest?.catalogCount).toBe(test.count);
    expect(inTest?.recallAt10.overall).toBeGreaterThanOrEqual(PHOTO_THRESHOLDS.exactItemRecallAt10);
    const { photo, clean } = r.categoryPrecisionAt10;
    expect(photo.overall / clean.overall).toBeGreaterThanOrEqual(PHOTO_THRESHOLDS.categoryP10Ratio);
  });
});
