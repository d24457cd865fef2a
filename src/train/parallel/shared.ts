import type * as tf from '@tensorflow/tfjs-core';
import type { Forward } from '../objective.ts';

/**
 * The memory a data-parallel step shares between the coordinator (the training thread) and its
 * workers: one SharedArrayBuffer of control words, one of floats. Everything a step exchanges goes
 * through them, and every hand-over is an Atomics store + notify, so that both sides can block
 * synchronously (inside a tfjs gradient computation, where no event loop turns).
 */

/** Sizes that fix the float regions; computed by the coordinator and sent to every worker. */
export interface Layout {
  workers: number;
  maxBatch: number;
  /** Shape of one input example, [28, 28, 1]. */
  inputShape: [number, number, number];
  /** Width of each output of the training view ([embedding] or [embedding, logits]). */
  outputDims: number[];
  /** Element counts of the view's trainable weights, in view.trainableWeights order. */
  trainableSizes: number[];
  /** Element counts of its non-trainable weights (batch-norm moving statistics), in order. */
  statSizes: number[];
  /** Widest vector one all-reduce carries (2 x the most batch-norm channels). */
  reduceWidth: number;
}

/** Indices of the control words (Int32Array over `ctrl`). */
export const Ctrl = {
  /** Incremented by the coordinator to start a command. */
  seq: 0,
  command: 1,
  batch: 2,
  /** Workers that have written their outputs for this step. */
  forwardDone: 3,
  /** Set to `seq` when the output gradients are written. */
  dOutputSeq: 4,
  /** Workers that have written their parameter gradients. */
  backwardDone: 5,
  /** Non-zero once a worker failed: every wait gives up. */
  failed: 6,
  barrierCount: 7,
  barrierGeneration: 8,
  size: 9,
} as const;

export const Command = { step: 1, stop: 2 } as const;

export interface SharedBuffers {
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Typed views over the float buffer, laid out by `Layout`. */
export interface Regions {
  ctrl: Int32Array;
  /** The trainable weights then the statistics, concatenated in layout order; written by the coordinator. */
  weights: Float32Array;
  input: Float32Array;
  outputs: Float32Array[];
  dOutputs: Float32Array[];
  /** Per worker: its share of the gradient of every trainable weight, concatenated. */
  grads: Float32Array[];
  /** The non-trainable weights (batch-norm moving statistics) after a step, written by worker 0. */
  stats: Float32Array;
  /** Two alternating sets of per-worker slots for the all-reduce. */
  reduce: Float32Array[][];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const inputSize = (layout: Layout) => layout.inputShape.reduce((a, b) => a * b, 1);

/** The training view's outputs as a list, in the order the regions hold them. */
export function outputsOf(out: Forward): tf.Tensor2D[] {
  return out.logits ? [out.embedding, out.logits] : [out.embedding];
}

export function forwardOf(outputs: tf.Tensor2D[]): Forward {
  return outputs.length > 1 ? { embedding: outputs[0], logits: outputs[1] } : { embedding: outputs[0] };
}

function regionSizes(layout: Layout) {
  const trainable = sum(layout.trainableSizes);
  const stats = sum(layout.statSizes);
  return { weights: trainable + stats, trainable, stats };
}

export function allocate(layout: Layout): SharedBuffers {
  const s = regionSizes(layout);
  const floats =
    s.weights +
    layout.maxBatch * (inputSize(layout) + 2 * sum(layout.outputDims)) +
    layout.workers * s.trainable +
    s.stats +
    2 * layout.workers * layout.reduceWidth;
  return {
    ctrl: new SharedArrayBuffer(Ctrl.size * Int32Array.BYTES_PER_ELEMENT),
    data: new SharedArrayBuffer(floats * Float32Array.BYTES_PER_ELEMENT),
  };
}

export function regions(layout: Layout, buffers: SharedBuffers): Regions {
  const s = regionSizes(layout);
  let offset = 0;
  const take = (n: number) => {
    const view = new Float32Array(buffers.data, offset * Float32Array.BYTES_PER_ELEMENT, n);
    offset += n;
    return view;
  };
  const workers = Array.from({ length: layout.workers });
  return {
    ctrl: new Int32Array(buffers.ctrl),
    weights: take(s.weights),
    input: take(layout.maxBatch * inputSize(layout)),
    outputs: layout.outputDims.map((d) => take(layout.maxBatch * d)),
    dOutputs: layout.outputDims.map((d) => take(layout.maxBatch * d)),
    grads: workers.map(() => take(s.trainable)),
    stats: take(s.stats),
    reduce: [0, 1].map(() => workers.map(() => take(layout.reduceWidth))),
  };
}

/** Rows [start, end) of a batch of `batch` that worker `rank` of `workers` computes. */
export function shardOf(rank: number, workers: number, batch: number): { start: number; end: number } {
  const base = Math.floor(batch / workers);
  const extra = batch % workers;
  const start = rank * base + Math.min(rank, extra);
  return { start, end: start + base + (rank < extra ? 1 : 0) };
}

export class WorkerFailed extends Error {}

/**
 * Blocks until `ctrl[index]` satisfies `done`, waking at least every `sliceMs` to run `check`
 * (which throws to give up: a failed peer, a deadline).
 */
export function waitFor(
  ctrl: Int32Array,
  index: number,
  done: (value: number) => boolean,
  check: () => void,
  sliceMs = 1000,
): void {
  for (;;) {
    const value = Atomics.load(ctrl, index);
    if (done(value)) return;
    check();
    Atomics.wait(ctrl, index, value, sliceMs);
  }
}

/** Raises the failure flag and wakes every waiter, so that no thread stays blocked on a dead peer. */
export function raiseFailure(ctrl: Int32Array, code: number): void {
  Atomics.compareExchange(ctrl, Ctrl.failed, 0, code);
  for (const index of [
    Ctrl.seq,
    Ctrl.forwardDone,
    Ctrl.dOutputSeq,
    Ctrl.backwardDone,
    Ctrl.barrierGeneration,
  ])
    Atomics.notify(ctrl, index);
}

/** Calls `each` with consecutive pieces of `flat`, as long as `sizes` say, in order. */
export function unpack(
  flat: Float32Array,
  sizes: number[],
  each: (piece: Float32Array, i: number) => void,
): void {
  let offset = 0;
  sizes.forEach((size, i) => {
    each(flat.subarray(offset, offset + size), i);
    offset += size;
  });
}

export function bump(ctrl: Int32Array, index: number): void {
  Atomics.add(ctrl, index, 1);
  Atomics.notify(ctrl, index);
}
