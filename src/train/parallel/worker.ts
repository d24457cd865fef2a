/**
 * One worker of data-parallel training (started by dataParallel.ts through startWorker). It holds a
 * copy of the training view; each step it loads the coordinator's weights, runs the forward pass on
 * its rows of the batch, hands its outputs over, blocks until the coordinator has the loss gradient
 * of the whole batch, and back-propagates its rows of it into its share of the parameter gradient.
 * The whole step runs synchronously (Atomics waits), so the tape of the forward pass is simply kept
 * by the open tf.variableGrads call.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../model/backend.ts';
import '../../model/batchNorm.ts';
import '../../model/conv2d.ts';
import '../../model/l2Normalize.ts';
import { forward } from '../objective.ts';
import { createAllReduce } from './allReduce.ts';
import { shardBatchNorms } from './shardedBatchNorm.ts';
import {
  bump,
  Command,
  Ctrl,
  inputSize,
  type Layout,
  regions as makeRegions,
  outputsOf,
  raiseFailure,
  type SharedBuffers,
  shardOf,
  unpack,
  WorkerFailed,
  waitFor,
} from './shared.ts';

export interface ParallelWorkerData {
  rank: number;
  layout: Layout;
  buffers: SharedBuffers;
  /** The training view's topology (LayersModel.toJSON), rebuilt here. */
  topology: tf.io.ModelJSON['modelTopology'];
  backend: string;
  /** Where a failure's message goes (the coordinator reads it synchronously). */
  errors: MessagePort;
}

const { rank, layout, buffers, topology, backend, errors } = workerData as ParallelWorkerData;
const regions = makeRegions(layout, buffers);
const { ctrl } = regions;

const check = () => {
  if (Atomics.load(ctrl, Ctrl.failed) !== 0) throw new WorkerFailed('data-parallel step abandoned');
};

function fail(err: unknown): void {
  if (!(err instanceof WorkerFailed)) {
    const e = err as Error;
    errors.postMessage({ rank, message: e.message ?? String(err), stack: e.stack });
  }
  raiseFailure(ctrl, rank + 1);
}

async function setUp(): Promise<tfl.LayersModel> {
  await initBackend(backend);
  const view = await tfl.models.modelFromJSON({ modelTopology: topology });
  const sizes = (ws: tfl.LayerVariable[]) => ws.map((w) => w.shape.reduce((a, b) => (a ?? 1) * (b ?? 1), 1));
  if (
    JSON.stringify(sizes(view.trainableWeights)) !== JSON.stringify(layout.trainableSizes) ||
    JSON.stringify(sizes(view.nonTrainableWeights)) !== JSON.stringify(layout.statSizes)
  ) {
    throw new Error('the rebuilt training view has other weights than the coordinator’s');
  }
  shardBatchNorms(view, createAllReduce(regions, rank, layout.workers), () => batchRows);
  return view;
}

/** Rows of the whole batch of the current step (the batch-norm statistics' denominator). */
let batchRows = 0;

function loadWeights(view: tfl.LayersModel): void {
  const all = [...view.trainableWeights, ...view.nonTrainableWeights];
  tf.tidy(() =>
    unpack(regions.weights, [...layout.trainableSizes, ...layout.statSizes], (piece, i) =>
      all[i].write(tf.tensor(piece.slice(), all[i].shape as number[])),
    ),
  );
}

function step(view: tfl.LayersModel, variables: tf.Variable[], seq: number): void {
  batchRows = Atomics.load(ctrl, Ctrl.batch);
  const { start, end } = shardOf(rank, layout.workers, batchRows);
  const rows = end - start;
  const size = inputSize(layout);
  loadWeights(view);
  tf.tidy(() => {
    const xs = tf.tensor4d(regions.input.slice(start * size, end * size), [rows, ...layout.inputShape]);
    const { grads } = tf.variableGrads(() => {
      const outs = outputsOf(forward(view, xs, true));
      outs.forEach((t, k) => {
        regions.outputs[k].set(t.dataSync() as Float32Array, start * layout.outputDims[k]);
      });
      bump(ctrl, Ctrl.forwardDone);
      waitFor(ctrl, Ctrl.dOutputSeq, (v) => v === seq, check);
      // d(Σ out·dOut)/dθ is the vector-Jacobian product of this shard's rows of the batch gradient.
      return tf.addN(
        outs.map((t, k) => {
          const d = layout.outputDims[k];
          const dOut = tf.tensor2d(regions.dOutputs[k].slice(start * d, end * d), [rows, d]);
          return tf.sum(tf.mul(t, dOut));
        }),
      ) as tf.Scalar;
    }, variables);
    let offset = 0;
    const mine = regions.grads[rank];
    variables.forEach((v, i) => {
      const g = grads[v.name];
      if (g) mine.set(g.dataSync() as Float32Array, offset);
      else mine.fill(0, offset, offset + layout.trainableSizes[i]);
      offset += layout.trainableSizes[i];
    });
  });
  if (rank === 0) {
    let offset = 0;
    for (const w of view.nonTrainableWeights) {
      const values = w.read().dataSync() as Float32Array;
      regions.stats.set(values, offset);
      offset += values.length;
    }
  }
  bump(ctrl, Ctrl.backwardDone);
}

try {
  const view = await setUp();
  const variables = view.trainableWeights.map((w) => w.read() as tf.Variable);
  parentPort!.postMessage({ ready: true });
  let seen = 0;
  for (;;) {
    waitFor(ctrl, Ctrl.seq, (v) => v !== seen, check);
    seen = Atomics.load(ctrl, Ctrl.seq);
    if (Atomics.load(ctrl, Ctrl.command) === Command.stop) break;
    step(view, variables, seen);
  }
} catch (err) {
  fail(err);
  parentPort!.postMessage({ failed: (err as Error).message ?? String(err) });
} finally {
  errors.close();
}
