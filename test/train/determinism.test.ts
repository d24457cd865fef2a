import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageSetToFloat } from '../../src/data/split.ts';
import { loadOnnxEmbedder } from '../../src/model/onnxEmbedder.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { compareWithReload, useTrainFixture } from './fixture.ts';

const fx = useTrainFixture('train-det-');

// The improved network (batch norm) with augmentation and a warm-up exercises every source of state.
function tiny(out: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    out: join(fx.dir, out),
    arch: 'improved',
    loss: 'batch_hard',
    warmupEpochs: 1,
    augment: 'shift2',
    lrSchedule: 'cosine',
    epochs: 2,
    batchSize: 16,
    pkClasses: 4,
    trainLimit: 128,
    valLimit: 32,
    logEvery: 3,
    command: 'test',
    ...overrides,
  };
}

async function weights(cfg: TrainConfig, signalAfterSteps?: number): Promise<Float32Array[]> {
  const controller = new AbortController();
  let result = await train(cfg, {
    data: fx.data,
    signal: signalAfterSteps === undefined ? undefined : abortAfter(controller, signalAfterSteps),
  });
  if (result.interrupted) {
    expect(result.weightsSha256).toBe('');
    result.model.dispose();
    result = await train({ ...cfg, resume: true }, { data: fx.data });
  }
  expect(result.interrupted).toBe(false);
  const out = result.model.getWeights().map((w) => w.dataSync() as Float32Array);
  result.model.dispose();
  return out;
}

/** An AbortSignal that reports aborted from its N-th check on (the trainer checks once per step). */
function abortAfter(controller: AbortController, steps: number): AbortSignal {
  let checks = 0;
  return new Proxy(controller.signal, {
    get(target, prop) {
      if (prop === 'aborted') return ++checks >= steps;
      return Reflect.get(target, prop);
    },
  });
}

describe('determinism', () => {
  it('same seed twice gives identical weights (including batch-norm statistics)', async () => {
    const a = await weights(tiny('a'));
    const b = await weights(tiny('b'));
    expect(a).toEqual(b);
    const c = await weights(tiny('c', { seed: 43 }));
    expect(c[0]).not.toEqual(a[0]);
  }, 60_000);

  it('an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
    const straight = await weights(tiny('straight'));
    // 8 steps per epoch: stop in the middle of the second epoch (the abort is checked after each step)
    const resumed = await weights(tiny('resumed'), 11);
    expect(resumed).toEqual(straight);
  }, 60_000);

  it('a saved improved softmax model (batch norm, softmax head) reloads to the same 64-d embeddings', async () => {
    const result = await train(tiny('softmax-h', { loss: 'softmax', epochs: 1 }), { data: fx.data });
    const count = 40;
    const { embedder, reloaded, maxDiff } = await compareWithReload(fx, result, count);
    expect(reloaded.length).toBe(count * 64);
    expect(maxDiff).toBeLessThan(1e-6);
    embedder.dispose();
    result.model.dispose();
  }, 30_000);

  it('a saved cosface model (cosine head) reloads, and its ONNX export gives the same unit embeddings', async () => {
    const result = await train(tiny('cosface-h', { loss: 'cosface', embeddingNorm: 'l2', epochs: 1 }), {
      data: fx.data,
    });
    const { embedder, reloaded, maxDiff } = await compareWithReload(fx, result, 40);
    expect(maxDiff).toBeLessThan(1e-6);
    for (let i = 0; i < 40; i++)
      expect(Math.hypot(...reloaded.subarray(i * 64, (i + 1) * 64))).toBeCloseTo(1, 5);
    const onnx = await loadOnnxEmbedder(result.outDir);
    const served = await onnx.embed(imageSetToFloat(fx.data.test, 0, 40), 40);
    expect(Math.max(...served.map((v, i) => Math.abs(v - reloaded[i])))).toBeLessThan(1e-4);
    onnx.dispose();
    embedder.dispose();
    result.model.dispose();
  }, 30_000);
});
