import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUM_CLASSES } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { bytesToUnit } from '../../src/data/pixels.ts';
import { exactSearch } from '../../src/eval/exactSearch.ts';
import { classCounts, requiredDepth, retrievalMetrics } from '../../src/eval/metrics.ts';
import { initBackend } from '../../src/model/backend.ts';
import { FastBatchNorm } from '../../src/model/batchNorm.ts';
import type { Embedder } from '../../src/model/embedder.contract.ts';
import { loadEmbedder } from '../../src/model/embedder.ts';
import { type EmbeddingHead, modelDigest } from '../../src/model/embeddingHead.ts';
import { L2Normalize } from '../../src/model/l2Normalize.ts';
import { loadModel, saveModel } from '../../src/model/modelIo.ts';
import { readModelIdentity } from '../../src/model/modelVersion.ts';
import { buildNetwork, embeddingModel } from '../../src/model/network.ts';
import { convertToOnnx, toOnnxModel } from '../../src/model/onnx/convert.ts';
import { exportOnnx, onnxBytesOf } from '../../src/model/onnx/export.ts';
import { ONNX_FILE } from '../../src/model/onnx/format.ts';
import { readModelInfo } from '../../src/model/onnx/onnxProto.ts';
import { loadOnnxEmbedder } from '../../src/model/onnxEmbedder.ts';

const DEFAULT_MODEL = 'models/default';
const PARITY_IMAGES = 2000;

let testImages: Float32Array;
let testLabels: Uint8Array;
const tmp = mkdtempSync(join(tmpdir(), 'onnx-export-'));

beforeAll(async () => {
  await initBackend('wasm');
  const test = await loadFashionMnistSplit('test');
  testImages = bytesToUnit(test.images.subarray(0, PARITY_IMAGES * 784));
  testLabels = test.labels.subarray(0, PARITY_IMAGES);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** P@1 and MAP@R, leave-one-out within the images. */
async function scores(embeddings: Float32Array, dim: number) {
  const counts = classCounts(testLabels, NUM_CLASSES);
  const depth = requiredDepth(counts, true);
  const r = await exactSearch(embeddings, embeddings, dim, {
    k: 1,
    labelDepth: depth,
    galleryLabels: testLabels,
    leaveOneOut: true,
    workers: 0,
  });
  const m = retrievalMetrics({
    labels: r.labels!,
    depth,
    queryLabels: testLabels,
    galleryClassCounts: counts,
    leaveOneOut: true,
  }).overall;
  return { precisionAt1: m.precisionAt1, mapAtR: m.mapAtR };
}

describe(`the shipped ${DEFAULT_MODEL}/model.onnx`, () => {
  const engines: Embedder[] = [];
  afterAll(() => {
    for (const e of engines) e.dispose();
  });

  it('is what the exporter writes for the current weights', async () => {
    const { bytes, weightsSha256 } = await onnxBytesOf(DEFAULT_MODEL);
    const { head } = await readModelIdentity(DEFAULT_MODEL);
    const shipped = await readFile(join(DEFAULT_MODEL, ONNX_FILE));
    expect(readModelInfo(shipped).metadata.weights_sha256).toBe(modelDigest(weightsSha256, head));
    expect(Buffer.compare(Buffer.from(bytes), shipped)).toBe(0);
  });

  it(`matches tfjs on ${PARITY_IMAGES} test images, with the same retrieval figures`, async () => {
    const tfjs = await loadEmbedder(DEFAULT_MODEL);
    engines.push(tfjs);
    const onnx = await loadOnnxEmbedder(DEFAULT_MODEL);
    engines.push(onnx);
    expect(onnx.modelVersion).toBe(tfjs.modelVersion);
    expect(onnx.dim).toBe(tfjs.dim);
    const a = await tfjs.embed(testImages, PARITY_IMAGES);
    const b = await onnx.embed(testImages, PARITY_IMAGES);
    const diff = maxAbsDiff(a, b);
    expect(diff).toBeLessThanOrEqual(1e-4);
    const [sa, sb] = [await scores(a, tfjs.dim), await scores(b, onnx.dim)];
    expect(sb.precisionAt1.toFixed(3)).toBe(sa.precisionAt1.toFixed(3));
    expect(sb.mapAtR.toFixed(3)).toBe(sa.mapAtR.toFixed(3));
    // The shipped model's figures on this sample are far from chance: the comparison means something.
    expect(sa.precisionAt1).toBeGreaterThan(0.8);
    console.info(
      `ONNX vs tfjs on ${PARITY_IMAGES} images: max |diff| ${diff.toExponential(2)}; ` +
        `P@1 ${sa.precisionAt1.toFixed(4)} / ${sb.precisionAt1.toFixed(4)}, MAP@R ${sa.mapAtR.toFixed(4)} / ${sb.mapAtR.toFixed(4)}`,
    );
  });

  it('validates its input, embeds zero images and refuses work after dispose', async () => {
    const onnx = await loadOnnxEmbedder(DEFAULT_MODEL, { threads: 2 });
    await expect(onnx.embed(new Float32Array(783), 1)).rejects.toMatchObject({ status: 400 });
    expect((await onnx.embed(new Float32Array(0), 0)).length).toBe(0);
    // A batch not a multiple of the chunk size, through a subarray of a larger buffer.
    const single = await onnx.embed(testImages.subarray(784 * 300, 784 * 301), 1);
    const many = await onnx.embed(testImages.subarray(0, 784 * 301), 301);
    expect(maxAbsDiff(single, many.subarray(300 * 64))).toBeLessThanOrEqual(1e-5);
    onnx.dispose();
    await expect(onnx.embed(testImages.subarray(0, 784), 1)).rejects.toThrow(/disposed/);
    await expect(loadOnnxEmbedder(DEFAULT_MODEL, { threads: 0 })).rejects.toMatchObject({ status: 400 });
  });
});

/** Non-trivial inference statistics for every batch norm, so that folding them is tested. */
function randomiseBatchNorms(model: tfl.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'FastBatchNorm') continue;
    const c = layer.weights[0].shape[0] as number;
    const s = seed++ * 10;
    const gamma = tf.randomUniform([c], 0.5, 1.5, 'float32', s);
    const beta = tf.randomUniform([c], -0.5, 0.5, 'float32', s + 1);
    const stats = [
      tf.randomUniform([c], -0.3, 0.3, 'float32', s + 2),
      tf.randomUniform([c], 0.2, 2, 'float32', s + 3),
    ];
    // A batch norm without β (center: false, the embedding's) has γ and the statistics only.
    layer.setWeights(layer.weights.length === 4 ? [gamma, beta, ...stats] : [gamma, ...stats]);
  }
}

async function runOnnx(bytes: Uint8Array, images: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ image: new ort.Tensor('float32', images, [n, 1, 28, 28]) });
    return out.embedding.data as Float32Array;
  } finally {
    await session.release();
  }
}

function tfjsEmbed(model: tfl.LayersModel, images: Float32Array, n: number): Float32Array {
  const net = model.layers.some((l) => l.name === 'embedding') ? embeddingModel(model) : model;
  return tf.tidy(() =>
    (net.predict(tf.tensor4d(images, [n, 28, 28, 1])) as tf.Tensor).dataSync(),
  ) as Float32Array;
}

describe('export of freshly built networks', () => {
  const n = 16;
  const images = () => testImages.subarray(0, n * 784);

  for (const arch of ['seed', 'improved'] as const) {
    it(`'${arch}' network: ONNX Runtime matches tfjs`, async () => {
      const model = buildNetwork({ arch, seed: 7 });
      randomiseBatchNorms(model, 3);
      const bytes = convertToOnnx(model, { name: arch, digest: '0'.repeat(64) });
      const expected = tfjsEmbed(model, images(), n);
      const got = await runOnnx(bytes, images(), n);
      expect(maxAbsDiff(expected, got)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(expected)));
      model.dispose();
    });
  }

  it('a softmax model exports its 64-d embedding, through exportOnnx and loadOnnxEmbedder', async () => {
    const dir = join(tmp, 'softmax');
    const model = buildNetwork({ arch: 'improved', head: 'softmax', seed: 11 });
    randomiseBatchNorms(model, 5);
    await saveModel(model, dir);
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name: 'softmax' }));
    model.dispose();
    const result = await exportOnnx(dir);
    expect(result.path).toBe(join(dir, ONNX_FILE));
    const tfjs = await loadEmbedder(dir);
    const onnx = await loadOnnxEmbedder(dir);
    try {
      expect(onnx.modelVersion).toBe(tfjs.modelVersion);
      expect(result.modelVersion).toBe(tfjs.modelVersion);
      expect(onnx.dim).toBe(64);
      const expected = await tfjs.embed(images(), n);
      const got = await onnx.embed(images(), n);
      expect(maxAbsDiff(expected, got)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(expected)));
    } finally {
      tfjs.dispose();
      onnx.dispose();
    }
  });

  for (const embeddingNorm of ['l2', 'bn-l2'] as const) {
    it(`--embedding-norm ${embeddingNorm}: the same unit vectors from tfjs and ONNX Runtime, through exportOnnx and loadOnnxEmbedder`, async () => {
      const dir = join(tmp, embeddingNorm);
      const model = buildNetwork({ arch: 'improved', seed: 13, embeddingNorm });
      randomiseBatchNorms(model, 7);
      const ops = toOnnxModel(model, { name: 'x', digest: '' }).graph.nodes.map((node) => node.opType);
      expect(ops.slice(-4)).toEqual(['ReduceSumSquare', 'Max', 'Sqrt', 'Div']);
      // The embedding's batch norm follows a dense layer: a BatchNormalization node of its own.
      expect(ops.includes('BatchNormalization')).toBe(embeddingNorm === 'bn-l2');
      await saveModel(model, dir);
      writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name: embeddingNorm }));
      model.dispose();
      await exportOnnx(dir);
      const tfjs = await loadEmbedder(dir);
      const onnx = await loadOnnxEmbedder(dir);
      try {
        const count = 200;
        const sample = testImages.subarray(0, count * 784);
        const expected = await tfjs.embed(sample, count);
        const got = await onnx.embed(sample, count);
        expect(maxAbsDiff(expected, got)).toBeLessThanOrEqual(1e-5);
        for (let r = 0; r < count; r++) {
          const row = got.subarray(r * 64, (r + 1) * 64);
          expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThan(1e-5);
        }
      } finally {
        tfjs.dispose();
        onnx.dispose();
      }
    });
  }

  it('an embedding head (mirror average, class pull): the same vectors from tfjs and ONNX Runtime, and its own model version', async () => {
    const dir = join(tmp, 'head');
    const model = buildNetwork({ arch: 'improved', head: 'cosine', seed: 17, embeddingNorm: 'l2' });
    randomiseBatchNorms(model, 11);
    await saveModel(model, dir);
    model.dispose();
    const writeHead = (embeddingHead?: EmbeddingHead) =>
      writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name: 'head', embeddingHead }));
    writeHead();
    const plain = await exportOnnx(dir);
    const head = { flipAverage: true, classPull: { weight: 0.5, scale: 24 } };
    writeHead(head);
    // A head recorded after the export: the file no longer computes the model's embedding.
    await expect(loadOnnxEmbedder(dir)).rejects.toMatchObject({ code: 'MODEL_FILE_STALE' });
    const result = await exportOnnx(dir);
    expect(result.modelVersion).not.toBe(plain.modelVersion);
    const saved = (await loadModel(dir)).model;
    const ops = toOnnxModel(embeddingModel(saved), {
      name: 'x',
      digest: '',
      head,
      proxies: new Float32Array(640),
    }).graph.nodes.map((node) => node.opType);
    expect(ops.slice(0, 2)).toEqual(['Gather', 'Concat']);
    expect(ops).toContain('Softmax');
    const tfjs = await loadEmbedder(dir);
    const onnx = await loadOnnxEmbedder(dir);
    try {
      expect(onnx.modelVersion).toBe(result.modelVersion);
      expect(tfjs.modelVersion).toBe(result.modelVersion);
      // Each engine reports the head it applies (GET /status shows it).
      expect(tfjs.head).toEqual(head);
      expect(onnx.head).toEqual(head);
      const count = 300;
      const sample = testImages.subarray(0, count * 784);
      const expected = await tfjs.embed(sample, count);
      const got = await onnx.embed(sample, count);
      expect(maxAbsDiff(expected, got)).toBeLessThanOrEqual(1e-5);
      // Not the network's own embedding: the head did something.
      const network = tfjsEmbed(saved, sample, count);
      expect(maxAbsDiff(network, got)).toBeGreaterThan(1e-2);
      for (let r = 0; r < count; r++)
        expect(Math.abs(Math.hypot(...got.subarray(r * 64, (r + 1) * 64)) - 1)).toBeLessThan(1e-5);
    } finally {
      saved.dispose();
      tfjs.dispose();
      onnx.dispose();
    }
  });

  it('L2Normalize maps a zero vector to zero in both engines (the ε floor)', async () => {
    const input = tfl.input({ shape: [28, 28, 1], name: 'image' });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({
      inputs: input,
      outputs: new L2Normalize({}).apply(pooled) as tfl.SymbolicTensor,
    });
    const images = new Float32Array(2 * 784);
    images.set(testImages.subarray(0, 784), 784);
    const expected = tfjsEmbed(model, images, 2);
    const got = await runOnnx(convertToOnnx(model, { name: 'zero', digest: '' }), images, 2);
    expect(Array.from(got)).toEqual([0, 1]);
    expect(Array.from(expected)).toEqual([0, 1]);
    model.dispose();
  });

  it('the other supported layers: valid/dilated conv, pools with TF padding, clipped ReLU, standalone batch norm, flatten', async () => {
    const input = tfl.input({ shape: [28, 28, 1], name: 'image' });
    const L = tfl.layers;
    let h = L.conv2d({ filters: 6, kernelSize: 3, dilationRate: 2, activation: 'tanh', name: 'c1' }).apply(
      input,
    ) as tfl.SymbolicTensor; // valid: 24x24
    h = L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h) as tfl.SymbolicTensor; // 12x12
    h = L.conv2d({ filters: 8, kernelSize: 5, strides: 2, padding: 'same', useBias: false }).apply(
      h,
    ) as tfl.SymbolicTensor; // 6x6
    h = L.reLU({ maxValue: 0.3 }).apply(h) as tfl.SymbolicTensor;
    h = new FastBatchNorm({ name: 'lone_bn' }).apply(h) as tfl.SymbolicTensor;
    h = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h) as tfl.SymbolicTensor; // 3x3
    h = L.dropout({ rate: 0.5 }).apply(h) as tfl.SymbolicTensor;
    const flat = L.flatten().apply(h) as tfl.SymbolicTensor;
    const pooled = L.globalMaxPooling2d({}).apply(h) as tfl.SymbolicTensor;
    // Two branches cannot join (no Concatenate support): build one model per branch.
    const headOf = (x: tfl.SymbolicTensor, name: string) => {
      const d = L.dense({ units: 12, useBias: false, activation: 'sigmoid' }).apply(x) as tfl.SymbolicTensor;
      const a = L.activation({ activation: 'relu' }).apply(d) as tfl.SymbolicTensor;
      return tfl.model({
        inputs: input,
        outputs: L.dense({ units: 5, name }).apply(a) as tfl.SymbolicTensor,
      });
    };
    for (const model of [headOf(flat, 'out_flat'), headOf(pooled, 'out_gmp')]) {
      randomiseBatchNorms(model, 9);
      const bytes = convertToOnnx(model, { name: 'zoo', digest: '' });
      const expected = tfjsEmbed(model, images(), n);
      const got = await runOnnx(bytes, images(), n);
      expect(got.length).toBe(n * 5);
      expect(maxAbsDiff(expected, got)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(expected)));
    }
  });

  it('refuses a layer it cannot convert, naming it', () => {
    const input = tfl.input({ shape: [28, 28, 1], name: 'image' });
    const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'elu', name: 'odd_conv' });
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(conv.apply(input)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: pooled });
    expect(() => convertToOnnx(model, { name: 'x', digest: '' })).toThrow(
      expect.objectContaining({
        code: 'ONNX_UNSUPPORTED_LAYER',
        message: expect.stringMatching(/odd_conv.*elu/),
      }),
    );
    const bn = tfl.layers.batchNormalization({ name: 'keras_bn' }).apply(input) as tfl.SymbolicTensor;
    const model2 = tfl.model({ inputs: input, outputs: bn });
    expect(() => convertToOnnx(model2, { name: 'x', digest: '' })).toThrow(/keras_bn.*BatchNormalization/);
    model.dispose();
    model2.dispose();
  });
});

describe('stale or missing model.onnx', () => {
  it('is refused with MODEL_FILE_STALE / MODEL_FILE_MISSING / MODEL_FILE_CORRUPT', async () => {
    const dir = join(tmp, 'stale');
    const first = buildNetwork({ arch: 'seed', seed: 1 });
    await saveModel(first, dir);
    first.dispose();
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name: 'stale' }));
    await exportOnnx(dir);
    (await loadOnnxEmbedder(dir)).dispose();

    // New weights after the export: the file no longer describes them.
    const second = buildNetwork({ arch: 'seed', seed: 2 });
    await saveModel(second, dir);
    second.dispose();
    await expect(loadOnnxEmbedder(dir)).rejects.toMatchObject({
      code: 'MODEL_FILE_STALE',
      message: expect.stringMatching(/stale.*export:onnx/),
    });

    const onnxPath = join(dir, ONNX_FILE);
    writeFileSync(onnxPath, readFileSync(onnxPath).subarray(0, 100));
    await expect(loadOnnxEmbedder(dir)).rejects.toMatchObject({ code: 'MODEL_FILE_CORRUPT' });

    unlinkSync(onnxPath);
    await expect(loadOnnxEmbedder(dir)).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING' });
  });
});

/** Relative imports of a source file, followed transitively; the bare package names it reaches. */
function packagesReached(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)(?!\s+type\b)[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)import\s+'([^']+)'/g,
    )) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(resolve(entry));
  return packages;
}

describe('the ONNX embedder module', () => {
  it('does not import tfjs, directly or through its imports', () => {
    const reached = [...packagesReached('src/model/onnxEmbedder.ts')];
    expect(reached).toContain('onnxruntime-node');
    expect(reached.filter((p) => p.startsWith('@tensorflow'))).toEqual([]);
    // The scanner does see tfjs where it is imported.
    expect([...packagesReached('src/model/onnx/export.ts')].some((p) => p.startsWith('@tensorflow'))).toBe(
      true,
    );
  });
});
