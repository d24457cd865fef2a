import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, EMBEDDING_DIM, embeddingModel } from '../../src/model/network.ts';

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
