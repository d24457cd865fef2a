import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { imageSetToFloat } from '../../src/data/split.ts';
import { buildNetwork, embeddingModel } from '../../src/model/network.ts';
import {
  DEFAULT_CONFIG,
  type LossName,
  runIdentity,
  sameRunIdentity,
  type TrainConfig,
} from '../../src/train/config.ts';
import { computeLoss, type Forward, forward, trainingView } from '../../src/train/objective.ts';
import { startDataParallel } from '../../src/train/parallel/dataParallel.ts';
import { train } from '../../src/train/trainer.ts';
import { useTrainFixture } from './fixture.ts';

const fx = useTrainFixture('train-parallel-');

function tiny(out: string, overrides: Partial<TrainConfig>): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    out: join(fx.dir, out),
    epochs: 1,
    batchSize: 32,
    pkClasses: 4,
    trainLimit: 128,
    valLimit: 32,
    logEvery: 2,
    command: 'test',
    ...overrides,
  };
}

async function trainedWeights(cfg: TrainConfig): Promise<{ name: string; values: Float32Array }[]> {
  const result = await train(cfg, { data: fx.data });
  expect(result.interrupted).toBe(false);
  const out = result.model.weights.map((w) => ({
    name: w.originalName,
    values: w.read().dataSync() as Float32Array,
  }));
  result.model.dispose();
  return out;
}

/** ‖a − b‖ / ‖a‖ */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    norm += a[i] ** 2;
  }
  return Math.sqrt(diff / (norm || 1));
}

// Triplet losses depend on embedding differences only, so the embedding bias's gradient is zero but
// for rounding, and Adam scales that rounding noise up to full steps of the learning rate.
const translationFree = (loss: LossName, name: string) =>
  loss !== 'softmax' && loss !== 'cosface' && name === 'embedding/bias';

describe.each<LossName>(['batch_all', 'batch_hard', 'softmax', 'cosface'])(
  '--threads 2 against 1, %s',
  (loss) => {
    it('trains the article network to the same weights', async () => {
      // CosFace's cosines need unit embeddings.
      const embeddingNorm = loss === 'cosface' ? 'l2' : 'none';
      const one = await trainedWeights(tiny(`${loss}-1`, { loss, embeddingNorm }));
      const two = await trainedWeights(tiny(`${loss}-2`, { loss, embeddingNorm, threads: 2 }));
      expect(two.map((w) => w.name)).toEqual(one.map((w) => w.name));
      for (const [i, w] of one.entries()) {
        // Measured: at most 1.7e-5 (a conv bias), most weights below 1e-6.
        if (!translationFree(loss, w.name))
          expect(relativeError(w.values, two[i].values), w.name).toBeLessThan(3e-5);
      }
    }, 60_000);
  },
);

/** Pairwise distances of the embeddings of the first `count` test images (what a triplet loss sees). */
function distances(model: tfl.LayersModel, count: number): Float32Array {
  return tf.tidy(() => {
    const images = tf.tensor4d(imageSetToFloat(fx.data.test, 0, count), [count, 28, 28, 1]);
    const e = embeddingModel(model).predict(images) as tf.Tensor2D;
    const diff = tf.sub(tf.expandDims(e, 1), tf.expandDims(e, 0));
    return tf.sqrt(tf.sum(tf.square(diff), 2)).dataSync() as Float32Array;
  });
}

describe('--threads 2 with network H (batch norm)', () => {
  it('is not part of the run identity: a checkpoint resumes on another thread count', () => {
    const identity = (threads: number) => runIdentity(tiny('x', { threads }));
    expect(sameRunIdentity(identity(2), identity(1))).toBe(true);
  });

  it('trains to the same embedding distances as one thread, within what float32 allows', async () => {
    const cfg = tiny('h', { loss: 'batch_all', arch: 'improved' });
    const one = await train({ ...cfg, out: `${cfg.out}-1` }, { data: fx.data });
    const two = await train({ ...cfg, out: `${cfg.out}-2`, threads: 2 }, { data: fx.data });
    const error = relativeError(distances(one.model, 64), distances(two.model, 64));
    // Measured 1.2e-2 after 4 steps: float32 moves H's gradient by a few 1e-3 per step whatever the
    // thread count (see the gradient test below), and Adam carries that on.
    expect(error).toBeLessThan(5e-2);
    one.model.dispose();
    two.model.dispose();
  }, 60_000);

  it('an interrupted run resumed from its checkpoint ends as the uninterrupted one, bit for bit', async () => {
    const cfg = tiny('h-resume', { loss: 'batch_hard', arch: 'improved', epochs: 2, threads: 2 });
    const straight = await trainedWeights({ ...cfg, out: `${cfg.out}-straight` });
    const out = `${cfg.out}-resumed`;
    const controller = new AbortController();
    let checks = 0;
    // The trainer checks the signal once per step: stop after 5 of the 8 steps.
    const signal = new Proxy(controller.signal, {
      get: (target, prop) => (prop === 'aborted' ? ++checks >= 5 : Reflect.get(target, prop)),
    });
    const first = await train({ ...cfg, out }, { data: fx.data, signal });
    expect(first.interrupted).toBe(true);
    first.model.dispose();
    const resumed = await trainedWeights({ ...cfg, out, resume: true });
    expect(resumed).toEqual(straight);
  }, 90_000);
});

// bn-l2: the embedding's batch norm runs over [N, 64] rows, sharded like the convolutions' ones.
describe.each([
  { embeddingNorm: 'none', loss: 'batch_all' },
  { embeddingNorm: 'bn-l2', loss: 'batch_hard' },
] as const)(
  'data-parallel gradient of network H, --embedding-norm $embeddingNorm',
  ({ embeddingNorm, loss }) => {
    it('is as close to one thread as one thread is to itself on the same batch reordered', async () => {
      const batch = 32;
      const model = buildNetwork({ arch: 'improved', head: 'embedding', seed: 3, embeddingNorm });
      const view = trainingView(model);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const images = new Float32Array(batch * 784);
      for (let i = 0; i < images.length; i++) images[i] = fx.data.test.images[i] / 255;
      const labels = tf.tensor1d(fx.data.test.labels.subarray(0, batch), 'int32');
      const xs = tf.tensor4d(images, [batch, 28, 28, 1]);
      const order = tf.tensor1d(
        Int32Array.from({ length: batch }, (_, i) => (i * 7 + 3) % batch),
        'int32',
      );
      const lossOf = (out: Forward, y: tf.Tensor1D) => computeLoss(loss, y, out, { margin: 0.5 }).loss;
      const initialStats = model.nonTrainableWeights.map((w) => w.read().clone());
      const gradsOf = (run: () => { grads: tf.NamedTensorMap }) => {
        model.nonTrainableWeights.forEach((w, i) => {
          w.write(initialStats[i].clone());
        });
        const { grads } = run();
        const stats = model.nonTrainableWeights.map((w) => w.read().dataSync().slice());
        return { grads: variables.map((v) => grads[v.name].dataSync()), stats };
      };
      const one = gradsOf(() => tf.variableGrads(() => lossOf(forward(view, xs, true), labels), variables));
      const reordered = gradsOf(() =>
        tf.variableGrads(
          () => lossOf(forward(view, tf.gather(xs, order), true), tf.gather(labels, order)),
          variables,
        ),
      );
      const parallel = await startDataParallel(view, {
        threads: 2,
        maxBatch: batch,
        backend: tf.getBackend(),
      });
      try {
        const two = gradsOf(() => parallel.variableGrads(xs, (out) => lossOf(out, labels)));
        // The embedding bias's gradient is rounding noise (see translationFree) in every run; so is the
        // dense bias before a batch norm, which subtracts it again.
        const compared = [...variables.entries()].filter(
          ([, v]) => !v.name.startsWith('embedding/bias') && !v.name.startsWith('embedding_dense/bias'),
        );
        // Network H's float32 gradient moves by a few 1e-3 when only the summation order changes: a
        // triplet or a ReLU near its threshold flips, and which variables that reaches depends on
        // the order. The bound is how far reordering moved the most affected variable.
        const floor = Math.max(...compared.map(([i]) => relativeError(one.grads[i], reordered.grads[i])));
        for (const [i, v] of compared)
          expect(relativeError(one.grads[i], two.grads[i]), v.name).toBeLessThan(Math.max(3 * floor, 1e-4));
        for (const [i, s] of one.stats.entries())
          expect(relativeError(s, two.stats[i]), 'moving statistics').toBeLessThan(1e-4);
      } finally {
        await parallel.close();
      }
    }, 60_000);
  },
);
