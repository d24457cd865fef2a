import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import { imageSetToFloat } from '../../src/data/split.ts';
import type { FashionMnist } from '../../src/data/types.ts';
import { initBackend } from '../../src/model/backend.ts';
import type { Embedder } from '../../src/model/embedder.contract.ts';
import { loadEmbedder } from '../../src/model/embedder.ts';
import { embeddingModel } from '../../src/model/network.ts';
import type { TrainResult } from '../../src/train/trainer.ts';

export interface TrainFixture {
  data: FashionMnist;
  dir: string;
}

/**
 * Real Fashion-MNIST and a scratch directory for one test file, on wasm (the pure-JS cpu backend
 * trains at a few images/s). Fields are filled in by beforeAll.
 */
export function useTrainFixture(prefix: string): TrainFixture {
  const fixture = { dir: '' } as TrainFixture;
  beforeAll(async () => {
    await initBackend('wasm');
    fixture.data = await loadFashionMnist();
    fixture.dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

/**
 * Embeds the first `count` test images with the trained in-memory model and with its saved copy
 * (reloaded through loadEmbedder); returns the reloaded embedder and the largest difference.
 */
export async function compareWithReload(
  fixture: TrainFixture,
  result: TrainResult,
  count: number,
): Promise<{ embedder: Embedder; reloaded: Float32Array; maxDiff: number }> {
  const images = imageSetToFloat(fixture.data.test, 0, count);
  const embedder = await loadEmbedder(result.outDir);
  const reloaded = await embedder.embed(images, count);
  const original = tf.tidy(() =>
    (embeddingModel(result.model).predict(tf.tensor4d(images, [count, 28, 28, 1])) as tf.Tensor).dataSync(),
  );
  let maxDiff = 0;
  for (let i = 0; i < original.length; i++) maxDiff = Math.max(maxDiff, Math.abs(original[i] - reloaded[i]));
  return { embedder, reloaded, maxDiff };
}
