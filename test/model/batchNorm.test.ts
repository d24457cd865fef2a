import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { FastBatchNorm } from '../../src/model/batchNorm.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Both layers on the same input, with the same random gamma and beta. */
function pair() {
  const reference = tfl.layers.batchNormalization({});
  const fast = new FastBatchNorm({});
  const input = tfl.input({ shape: [5, 6, 3] });
  const a = tfl.model({ inputs: input, outputs: reference.apply(input) as tfl.SymbolicTensor });
  const b = tfl.model({ inputs: input, outputs: fast.apply(input) as tfl.SymbolicTensor });
  const gamma = tf.randomUniform([3], 0.5, 2, 'float32', 1);
  const beta = tf.randomUniform([3], -1, 1, 'float32', 2);
  // tfjs-layers' weight order: gamma, beta, moving mean, moving variance — as FastBatchNorm's
  a.setWeights([gamma, beta, tf.zeros([3]), tf.ones([3])]);
  b.setWeights([gamma, beta, tf.zeros([3]), tf.ones([3])]);
  return { a, b };
}

describe('FastBatchNorm matches tfjs-layers BatchNormalization', () => {
  const x = tf.randomNormal([4, 5, 6, 3], 1.5, 2, 'float32', 3);
  const dyWeights = tf.randomNormal([4, 5, 6, 3], 0, 1, 'float32', 4);

  it('training-mode output, gradients (x, gamma, beta) and moving statistics', () => {
    const { a, b } = pair();
    const results = [a, b].map((m) => {
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const f = (input: tf.Tensor) =>
        tf.sum(tf.mul(m.apply(input, { training: true }) as tf.Tensor, dyWeights));
      const gx = tf.grad(f)(x);
      const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, vars);
      const y = m.apply(x, { training: false }) as tf.Tensor; // after two training calls: moving stats updated
      return { y, gx, grads: vars.map((v) => grads[v.name]), weights: m.getWeights() };
    });
    expect(maxAbsDiff(results[0].gx, results[1].gx)).toBeLessThan(1e-4);
    for (let i = 0; i < 2; i++)
      expect(maxAbsDiff(results[0].grads[i], results[1].grads[i])).toBeLessThan(1e-3);
    for (let i = 0; i < 4; i++)
      expect(maxAbsDiff(results[0].weights[i], results[1].weights[i])).toBeLessThan(1e-5);
    expect(maxAbsDiff(results[0].y, results[1].y)).toBeLessThan(1e-4);
  });

  it('training-mode output is normalised per channel', () => {
    const { a, b } = pair();
    const ya = a.apply(x, { training: true }) as tf.Tensor;
    const yb = b.apply(x, { training: true }) as tf.Tensor;
    expect(maxAbsDiff(ya, yb)).toBeLessThan(1e-5);
  });

  it('round-trips through model serialisation', async () => {
    const { b } = pair();
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      b.save(
        tf.io.withSaveHandler(async (art) => {
          resolve(art);
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
    });
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(loaded.layers.map((l) => l.getClassName())).toContain('FastBatchNorm');
    expect(maxAbsDiff(loaded.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor)).toBeLessThan(1e-6);
  });
});
