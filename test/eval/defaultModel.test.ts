import { afterAll, describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import type { ImageSet } from '../../src/data/types.ts';
import type { EmbeddingSource } from '../../src/eval/evaluate.ts';
import type { VectorArray } from '../../src/eval/exactSearch.ts';
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
 * Just under what the shipped model reaches: P@1 0.920, MAP@R 0.861, kNN 0.932 on the full test set
 * (models/default/report.md) and 0.925 / 0.864 / 0.939 on this sample. Issue 16's goal for the default
 * model (0.92 / 0.88 / 0.935) is met for P@1 only; most of the MAP@R is its embedding head's class pull
 * (reports/embedding-head.md), and the instance loss trades a little clean quality for finding a
 * photographed item (PHOTO_THRESHOLDS); the gate keeps both from falling back.
 */
const THRESHOLDS = { precisionAt1: 0.915, mapAtR: 0.85, knnAccuracy: 0.93 };

/**
 * Product photos of test items (src/data/photoLike.ts, the eval's generator and seed; its first 300 of
 * the 1,000 in the report): the photographed item among the 10 nearest of the 10,000 test images and of
 * test+train, 70,000 (the report's 1,000: 0.950 / 0.919; this sample: 0.947 / 0.917), and the photos'
 * category P@10 against the clean images' (0.995 and 0.992). Issue 16's photo goal is 0.90 among 70,000.
 */
const PHOTOS = 300;
const PHOTO_THRESHOLDS = {
  exactItemRecallAt10: { test: 0.93, testAndTrain: 0.9 },
  categoryP10Ratio: 0.97,
};

/**
 * Each run of images embedded once for both tests: the 60,000 training images are the gallery of
 * both. Keyed by the bytes' buffer and range, since slicing a set makes a new object for the same images.
 */
function embeddedOnce(source: EmbeddingSource): EmbeddingSource {
  const embedded = new WeakMap<ArrayBufferLike, Map<string, Promise<VectorArray>>>();
  return {
    ...source,
    embedImages(set: ImageSet) {
      const byRange = embedded.get(set.images.buffer) ?? new Map<string, Promise<VectorArray>>();
      embedded.set(set.images.buffer, byRange);
      const range = `${set.images.byteOffset}:${set.count}`;
      const vectors = byRange.get(range) ?? source.embedImages(set);
      byRange.set(range, vectors);
      return vectors;
    },
  };
}

describe(`models/default on the first ${QUERY_SAMPLE} test images vs the 60,000 training images`, () => {
  let model: ModelSource | undefined;
  let source: EmbeddingSource | undefined;
  afterAll(() => model?.dispose());
  const load = async () => {
    model = await loadModelSource('models/default', { engine: 'onnx', tfjsBackend: '', threads: 2 });
    source = embeddedOnce(model.source);
    return source;
  };

  it('meets the quality thresholds', { timeout: 600_000 }, async () => {
    const { testVsTrain } = await scoreEmbedding(await load(), { queryLimit: QUERY_SAMPLE });
    const m = testVsTrain.overall;
    expect(m.queries).toBe(QUERY_SAMPLE);
    console.info(
      `sample: P@1 ${m.precisionAt1.toFixed(4)}, MAP@R ${m.mapAtR.toFixed(4)}, kNN ${m.knnAccuracy.toFixed(4)}`,
    );
    expect(m.precisionAt1).toBeGreaterThanOrEqual(THRESHOLDS.precisionAt1);
    expect(m.mapAtR).toBeGreaterThanOrEqual(THRESHOLDS.mapAtR);
    expect(m.knnAccuracy).toBeGreaterThanOrEqual(THRESHOLDS.knnAccuracy);
  });

  it(`finds the photographed item for ${PHOTOS} product photos`, { timeout: 600_000 }, async () => {
    const embed = source ?? (await load());
    const { test, train } = await loadFashionMnist();
    const testVectors = await embed.embedImages(test);
    const trainVectors = await embed.embedImages(train);
    const r = await evaluatePhotos(embed, test, train, testVectors, trainVectors, {
      count: PHOTOS,
      seed: DEFAULT_PHOTO_SEED,
    });
    const recallIn = (catalog: 'test' | 'test+train', count: number) => {
      const found = r.exactItem.find((e) => e.catalog === catalog);
      expect(found?.catalogCount).toBe(count);
      return found?.recallAt10.overall ?? 0;
    };
    const inTest = recallIn('test', test.count);
    const inAll = recallIn('test+train', test.count + train.count);
    const { photo, clean } = r.categoryPrecisionAt10;
    console.info(
      `photos: recall@10 ${inTest.toFixed(4)} / ${inAll.toFixed(4)}, P@10 photo/clean ${(photo.overall / clean.overall).toFixed(4)}`,
    );
    expect(inTest).toBeGreaterThanOrEqual(PHOTO_THRESHOLDS.exactItemRecallAt10.test);
    expect(inAll).toBeGreaterThanOrEqual(PHOTO_THRESHOLDS.exactItemRecallAt10.testAndTrain);
    expect(photo.overall / clean.overall).toBeGreaterThanOrEqual(PHOTO_THRESHOLDS.categoryP10Ratio);
  });
});
