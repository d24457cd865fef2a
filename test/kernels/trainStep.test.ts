import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../../src/model/kernels/index.ts';
import { type Arch, buildNetwork } from '../../src/model/network.ts';
import { computeLoss, forward, trainingView } from '../../src/train/objective.ts';

type Loss = 'softmax' | 'batch_all' | 'batch_hard';

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

interface StepResult {
  loss: number;
  grads: Record<string, Float32Array>;
  /** Every weight after the step, trainable ones with their gradient (else null). */
  updated: { value: Float32Array; grad: Float32Array | null }[];
}

/** One training step (loss, gradients of every weight, an Adam update) from the given weights. */
function trainStep(
  backend: string,
  arch: Arch,
  loss: Loss,
  weights: Float32Array[],
  batch: number,
): StepResult {
  tf.setBackend(backend);
  const model = buildNetwork({ arch, head: loss === 'softmax' ? 'softmax' : 'embedding', seed: 3 });
  const start = model.getWeights().map((w, i) => tf.tensor(weights[i], w.shape));
  model.setWeights(start);
  tf.dispose(start);
  const view = trainingView(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xs = tf.tensor4d(values(batch * 784, 11), [batch, 28, 28, 1]);
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 3),
    'int32',
  );
  const optimizer = tf.train.adam(1e-3);
  const { value, grads } = tf.variableGrads(
    () => computeLoss(loss, labels, forward(view, xs, true), { margin: 0.5 }).loss,
    variables,
  );
  const result: StepResult = { loss: value.dataSync()[0], grads: {}, updated: [] };
  // Names carry a per-model suffix; the layer order is the same on both backends.
  variables.forEach((v, i) => {
    result.grads[String(i)] = grads[v.name].dataSync() as Float32Array;
  });
  optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
  tf.dispose([value, ...Object.values(grads)]);
  const trainable = model.trainableWeights.map((w) => w.name);
  result.updated = model.weights.map((w) => {
    const k = trainable.indexOf(w.name);
    return { value: w.read().dataSync() as Float32Array, grad: k >= 0 ? result.grads[String(k)] : null };
  });
  optimizer.dispose();
  model.dispose();
  tf.dispose([xs, labels]);
  return result;
}

function initialWeights(arch: Arch, loss: Loss): Float32Array[] {
  tf.setBackend('cpu');
  const model = buildNetwork({ arch, head: loss === 'softmax' ? 'softmax' : 'embedding', seed: 3 });
  const w = model.getWeights().map((t) => t.dataSync().slice() as Float32Array);
  model.dispose();
  return w;
}

function relMaxDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-3;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return diff / scale;
}

describe('a full training step agrees on the wasm and cpu backends', () => {
  beforeAll(async () => {
    registerWasmKernels();
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  const cases: [Arch, Loss, number][] = [
    ['seed', 'softmax', 8],
    ['seed', 'batch_all', 8],
    ['seed', 'batch_hard', 8],
    ['improved', 'batch_all', 4],
  ];
  it.each(cases)('%s network, %s loss, batch %i', (arch, loss, batch) => {
    const weights = initialWeights(arch, loss);
    const cpu = trainStep('cpu', arch, loss, weights, batch);
    const tensorsBefore = tf.memory().numTensors;
    const wasm = trainStep('wasm', arch, loss, weights, batch);
    tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
    expect(Object.keys(wasm.grads)).toEqual(Object.keys(cpu.grads));
    for (const k of Object.keys(cpu.grads)) {
      expect(relMaxDiff(cpu.grads[k], wasm.grads[k]), `gradient ${k}`).toBeLessThan(1e-3);
    }
    // Adam's first step moves each weight by about lr·sign(g), so where g is nearly 0 rounding may
    // flip it: compare the updated weights where the gradient is clearly non-zero, and all of the
    // batch-norm moving statistics (updated by the forward pass, no gradient).
    cpu.updated.forEach(({ value, grad }, i) => {
      const other = wasm.updated[i].value;
      const gMax = grad ? Math.max(...grad.map(Math.abs)) : 0;
      for (let k = 0; k < value.length; k++) {
        if (grad && Math.abs(grad[k]) < Math.max(1e-2 * gMax, 1e-6)) continue;
        expect(Math.abs(value[k] - other[k]), `weight ${i}[${k}]`).toBeLessThan(
          1e-5 + 1e-4 * Math.abs(value[k]),
        );
      }
    });
  });
});
