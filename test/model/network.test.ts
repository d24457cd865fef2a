import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2D } from '../../src/model/conv2d.ts';
import { buildNetwork, EMBEDDING_DIM, embeddingModel } from '../../src/model/network.ts';
import { trainingView } from '../../src/train/objective.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function weightsOf(model: ReturnType<typeof buildNetwork>): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('buildNetwork', () => {
  it("'seed' is the article's network: 3 convs, GAP, dense 64", () => {
    const model = buildNetwork({ arch: 'seed', seed: 1 });
    // conv 1→16, 16→32, 32→64 (3x3, with bias) + dense 64→64
    expect(model.countParams()).toBe(160 + 4640 + 18496 + 4160);
    const out = model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
    expect(out.shape).toEqual([2, EMBEDDING_DIM]);
    const shapes = model.layers.map((l) => l.outputShape);
    expect(shapes).toContainEqual([null, 14, 14, 16]);
    expect(shapes).toContainEqual([null, 7, 7, 64]);
  });

  it("'improved' is network H (about 147k parameters)", () => {
    const model = buildNetwork({ arch: 'improved', seed: 1 });
    expect(model.countParams()).toBeGreaterThan(140_000);
    expect(model.countParams()).toBeLessThan(150_000);
    expect(model.layers.map((l) => l.outputShape)).toContainEqual([null, 4, 4, 128]);
  });

  it('softmax head outputs 10 logits; the embedding model reads the 64-d layer', () => {
    const model = buildNetwork({ head: 'softmax', seed: 1 });
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);
    expect((model.predict(x) as tf.Tensor).shape).toEqual([3, 10]);
    expect((embeddingModel(model).predict(x) as tf.Tensor).shape).toEqual([3, EMBEDDING_DIM]);
  });

  it('cosine head: the cosines of the unit embedding to unit class vectors, read before the head', () => {
    const model = buildNetwork({
      arch: 'improved',
      head: 'cosine',
      embeddingNorm: 'l2',
      classes: 7,
      seed: 2,
    });
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);
    const cosines = (model.predict(x) as tf.Tensor2D).arraySync();
    const embedding = (embeddingModel(model).predict(x) as tf.Tensor2D).arraySync();
    const kernel = model.getLayer('logits').getWeights()[0].arraySync() as number[][];
    for (const [i, e] of embedding.entries()) {
      expect(Math.hypot(...e)).toBeCloseTo(1, 5);
      for (let c = 0; c < 7; c++) {
        const w = kernel.map((row) => row[c]);
        const cos = e.reduce((s, v, d) => s + v * w[d], 0) / Math.hypot(...w);
        expect(cosines[i][c]).toBeCloseTo(cos, 5);
      }
    }
  });

  it('--init: Glorot uniform by default, He normal on request (std sqrt(2 / fan-in))', () => {
    // conv2 of the seed network: 3x3x16 inputs per filter, 32 filters.
    const kernel = (init?: 'glorot' | 'he') =>
      buildNetwork({ arch: 'seed', seed: 3, init }).getLayer('conv2').getWeights()[0].dataSync();
    const std = (w: ArrayLike<number>) => Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0) / w.length);
    const fanIn = 3 * 3 * 16;
    const fanOut = 3 * 3 * 32;
    expect(kernel()).toEqual(kernel('glorot'));
    // Glorot uniform: limit sqrt(6 / (fanIn + fanOut)), so std = limit / sqrt(3).
    expect(std(kernel('glorot'))).toBeCloseTo(Math.sqrt(2 / (fanIn + fanOut)), 2);
    // He normal is truncated at 2 std, which scales the std by about 0.88.
    expect(std(kernel('he')) / Math.sqrt(2 / fanIn)).toBeGreaterThan(0.8);
    expect(std(kernel('he')) / Math.sqrt(2 / fanIn)).toBeLessThan(1.05);
  });

  it('the same seed gives identical weights, another seed different ones', () => {
    const a = weightsOf(buildNetwork({ arch: 'improved', seed: 7 }));
    const b = weightsOf(buildNetwork({ arch: 'improved', seed: 7 }));
    const c = weightsOf(buildNetwork({ arch: 'improved', seed: 8 }));
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(c[0]);
  });
});

/** Euclidean norm of each row of an [N, D] tensor. */
function rowNorms(t: tf.Tensor): number[] {
  const [n, d] = t.shape as [number, number];
  const v = t.dataSync();
  return Array.from({ length: n }, (_, r) => Math.hypot(...v.subarray(r * d, (r + 1) * d)));
}

describe('buildNetwork embeddingNorm', () => {
  const x = tf.randomUniform([6, 28, 28, 1], 0, 1, 'float32', 9);

  it("'l2': the same weights as 'none' (same seed), its output divided by its norm, as the model's own layer", () => {
    const plain = buildNetwork({ arch: 'seed', seed: 4 });
    const unit = buildNetwork({ arch: 'seed', seed: 4, embeddingNorm: 'l2' });
    expect(weightsOf(unit)).toEqual(weightsOf(plain));
    expect(unit.layers.slice(-2).map((l) => [l.name, l.getClassName()])).toEqual([
      ['embedding_dense', 'Dense'],
      ['embedding', 'L2Normalize'],
    ]);
    // The embedding is the model's output: training, eval and the export all read the unit vectors.
    expect(embeddingModel(unit)).toBe(unit);
    expect(trainingView(unit)).toBe(unit);
    const raw = plain.predict(x) as tf.Tensor;
    const y = unit.predict(x) as tf.Tensor;
    const norms = rowNorms(raw);
    const rv = raw.dataSync();
    const yv = y.dataSync();
    for (let i = 0; i < yv.length; i++)
      expect(yv[i]).toBeCloseTo(rv[i] / norms[Math.floor(i / EMBEDDING_DIM)], 6);
    for (const n of rowNorms(y)) expect(n).toBeCloseTo(1, 6);
  });

  it("'bn-l2': a batch norm without β before the projection; in training mode the batch is centred", () => {
    const model = buildNetwork({ arch: 'improved', seed: 4, embeddingNorm: 'bn-l2' });
    expect(model.layers.slice(-3).map((l) => [l.name, l.getClassName()])).toEqual([
      ['embedding_dense', 'Dense'],
      ['embedding_bn', 'FastBatchNorm'],
      ['embedding', 'L2Normalize'],
    ]);
    expect(model.getLayer('embedding_bn').weights.map((w) => w.originalName)).toEqual([
      'embedding_bn/gamma',
      'embedding_bn/moving_mean',
      'embedding_bn/moving_variance',
    ]);
    const bnOut = tfl.model({
      inputs: model.inputs,
      outputs: model.getLayer('embedding_bn').output as tfl.SymbolicTensor,
    });
    const { mean, variance } = tf.moments(bnOut.apply(x, { training: true }) as tf.Tensor, 0);
    for (const m of mean.dataSync()) expect(Math.abs(m)).toBeLessThan(1e-4);
    // Unit variance up to ε = 1e-3 against the dense outputs' own variance.
    for (const v of variance.dataSync()) expect(v).toBeGreaterThan(0.5);
    for (const n of rowNorms(model.predict(x) as tf.Tensor)) expect(n).toBeCloseTo(1, 6);
  });

  it("'bn': the batch norm is the embedding layer itself", () => {
    const model = buildNetwork({ arch: 'seed', seed: 4, embeddingNorm: 'bn' });
    expect(model.layers.at(-1)?.name).toBe('embedding');
    expect(model.layers.at(-1)?.getClassName()).toBe('FastBatchNorm');
    expect((model.predict(x) as tf.Tensor).shape).toEqual([6, EMBEDDING_DIM]);
  });
});

describe('Conv2D', () => {
  it("network H's training gradients compute no gradient of the image, one input gradient per later conv", async () => {
    const model = buildNetwork({ arch: 'improved', seed: 3 });
    const images = tf.tensor4d(
      Array.from({ length: 4 * 784 }, (_, i) => Math.sin(i)),
      [4, 28, 28, 1],
    );
    const loss = () => tf.sum(tf.square(model.apply(images, { training: true }) as tf.Tensor)) as tf.Scalar;
    const info = await tf.profile(() => tf.dispose(tf.variableGrads(loss).grads));
    const calls = (name: string) => info.kernels.filter((k) => k.name === name).length;
    expect(calls('Conv2DBackpropFilter')).toBe(5);
    expect(calls('Conv2DBackpropInput')).toBe(4);
  });

  it('has the fused op’s output and gradients, and a saved and loaded model keeps the class', async () => {
    const layer = new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', useBias: false });
    const x = tf.tensor4d(
      Array.from({ length: 2 * 6 * 6 * 4 }, (_, i) => Math.cos(i)),
      [2, 6, 6, 4],
    );
    layer.apply(x);
    const [kernel] = layer.getWeights() as tf.Tensor4D[];
    const fused = (input: tf.Tensor, filter: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.fused.conv2d({
            x: input as tf.Tensor4D,
            filter: filter as tf.Tensor4D,
            strides: 1,
            pad: 'same',
          }),
        ),
      );
    const viaLayer = (input: tf.Tensor) => tf.sum(tf.square(layer.apply(input) as tf.Tensor));
    const close = (a: tf.Tensor, b: tf.Tensor) =>
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-4);
    close(viaLayer(x), fused(x, kernel));
    close(tf.grad(viaLayer)(x), tf.grad((input: tf.Tensor) => fused(input, kernel))(x));
    const [kernelGrad] = Object.values(tf.variableGrads(() => viaLayer(x) as tf.Scalar).grads);
    close(kernelGrad, tf.grad((filter: tf.Tensor) => fused(x, filter))(kernel));

    const model = buildNetwork({ arch: 'improved', seed: 3 });
    const loaded = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) } as never);
    expect(loaded.getLayer('conv1')).toBeInstanceOf(Conv2D);
    expect(loaded.getLayer('conv1').getClassName()).toBe('Conv2D');
  });
});
