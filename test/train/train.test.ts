import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadEmbedder } from '../../src/model/embedder.ts';
import { embeddingModel } from '../../src/model/network.ts';
import { DEFAULT_CONFIG, type LossName, type TrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { useTrainFixture } from './fixture.ts';

// Real data, small: ~2,000 training images, 2 epochs per loss, on wasm (the pure-JS cpu backend
// trains at a few images/s).
const fx = useTrainFixture('train-test-');

function config(out: string, overrides: Partial<TrainConfig>): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    out: join(fx.dir, out),
    epochs: 2,
    trainLimit: 2048,
    valLimit: 512,
    logEvery: 4,
    command: 'test',
    ...overrides,
  };
}

function sampleImages(count: number): Float32Array {
  const out = new Float32Array(count * 784);
  for (let i = 0; i < out.length; i++) out[i] = fx.data.test.images[i] / 255;
  return out;
}

describe.each<LossName>(['batch_all', 'batch_hard', 'softmax'])(
  '2 epochs of %s on 2,048 real images',
  (loss) => {
    it('lowers the loss, saves, and reloads to the same embeddings', async () => {
      const result = await train(config(loss, { loss }), { data: fx.data });
      expect(result.interrupted).toBe(false);
      expect(result.history).toHaveLength(2);
      const [first, last] = result.history;
      expect(last.train.loss).toBeLessThan(first.train.loss);
      if (loss === 'batch_all')
        expect(last.train.fractionPositive).toBeLessThan(first.train.fractionPositive);
      if (loss === 'batch_hard') {
        // Batch-hard from scratch collapses here, as in the source article and the PyTorch reference:
        // the loss falls only towards the margin while the embedding shrinks to a point, so every
        // triplet stays positive. (Warm-up with batch_all is the remedy; see --warmup-epochs.)
        expect(last.train.loss).toBeGreaterThan(0.5 - 0.05);
        expect(last.validation.meanNorm).toBeLessThan(first.validation.meanNorm);
        expect(last.validation.fractionPositive).toBeGreaterThan(0.95);
      }

      const metadata = JSON.parse(await readFile(join(result.outDir, 'metadata.json'), 'utf8'));
      expect(metadata).toMatchObject({
        name: loss,
        loss,
        arch: 'seed',
        embeddingDim: 64,
        epochs: 2,
        backend: 'wasm',
      });
      expect(Object.keys(metadata.datasetChecksums)).toHaveLength(4);
      const lines = (await readFile(join(result.outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).type)).toContain('epoch');

      const count = 300; // more than one embedding chunk of 256
      const images = sampleImages(count);
      const embedder = await loadEmbedder(result.outDir);
      expect(embedder.modelVersion).toBe(`${loss}@${result.weightsSha256.slice(0, 12)}`);
      expect(embedder.dim).toBe(64);
      const reloaded = await embedder.embed(images, count);
      const original = tf.tidy(() =>
        (
          embeddingModel(result.model).predict(tf.tensor4d(images, [count, 28, 28, 1])) as tf.Tensor
        ).dataSync(),
      );
      let maxDiff = 0;
      for (let i = 0; i < original.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs(original[i] - reloaded[i]));
      expect(maxDiff).toBeLessThan(1e-6);
      embedder.dispose();
      result.model.dispose();
    }, 120_000);
  },
);
