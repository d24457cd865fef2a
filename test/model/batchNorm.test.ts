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

describe('FastBatchNorm on [N, C] input without β (center: false, the embedding batch norm)', () => {
  const layerModel = () => {
    const input = tfl.input({ shape: [2] });
    const bn = new FastBatchNorm({ center: false, momentum: 0.5 });
    return { model: tfl.model({ inputs: input, outputs: bn.apply(input) as tfl.SymbolicTensor }), bn };
  };
  const x = tf.tensor2d([
    [1, 10],
    [3, 10],
    [5, 14],
    [7, 14],
  ]);

  it('has γ and the moving statistics only; training output is (x − mean) / sqrt(var + ε)', () => {
    const { model } = layerModel();
    expect(model.weights.map((w) => w.originalName.split('/').at(-1))).toEqual([
      'gamma',
      'moving_mean',
      'moving_variance',
    ]);
    const y = (model.apply(x, { training: true }) as tf.Tensor).dataSync();
    // Column 0: mean 4, variance 5; column 1: mean 12, variance 4; ε = 1e-3.
    const s0 = Math.sqrt(5.001);
    const s1 = Math.sqrt(4.001);
    const expected = [-3 / s0, -2 / s1, -1 / s0, -2 / s1, 1 / s0, 2 / s1, 3 / s0, 2 / s1];
    for (const [i, e] of expected.entries()) expect(y[i]).toBeCloseTo(e, 5);
    // Moving statistics, momentum 0.5 from (0, 1): mean [2, 6], variance [3, 2.5].
    const [, mean, variance] = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(mean).toEqual([2, 6]);
    expect(variance[0]).toBeCloseTo(3, 5);
    expect(variance[1]).toBeCloseTo(2.5, 5);
  });

  it('its closed-form gradient is the autodiff gradient of the same formula', () => {
    const { model } = layerModel();
    const dy = tf.tensor2d([
      [0.3, -1],
      [2, 0.5],
      [-0.7, 0.1],
      [1, 1.5],
    ]);
    const fast = tf.grad((input: tf.Tensor) =>
      tf.sum(tf.mul(model.apply(input, { training: true }) as tf.Tensor, dy)),
    )(x);
    const reference = tf.grad((input: tf.Tensor) => {
      const { mean, variance } = tf.moments(input, 0);
      return tf.sum(tf.mul(tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, 1e-3))), dy));
    })(x);
    expect(maxAbsDiff(fast, reference)).toBeLessThan(1e-5);
  });
});
