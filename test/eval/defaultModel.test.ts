import { afterAll, describe, expect, it } from 'vitest';
import { loadModelSource, type ModelSource } from '../../src/eval/modelSource.ts';
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
 * Just under what the shipped model reaches: P@1 0.916, MAP@R 0.842, kNN 0.929 on the full test set
 * (models/default/report.md) and 0.9145 / 0.8445 / 0.9305 on this sample. Issue 16's goal for the
 * default model (0.92 / 0.88 / 0.935) is not reached yet; the gate keeps it from falling back.
 */
const THRESHOLDS = { precisionAt1: 0.91, mapAtR: 0.83, knnAccuracy: 0.92 };

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
});
