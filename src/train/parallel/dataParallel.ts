/**
 * Data-parallel training over worker threads, exact: each worker computes the forward pass of its
 * rows of the batch (batch norm with the whole batch's statistics, see shardedBatchNorm.ts), the
 * loss and its gradient with respect to the outputs are computed here over the whole gathered batch
 * (so triplets and mining span the shards), each worker back-propagates its rows of that gradient,
 * and the shares of the parameter gradient are summed in rank order. The result is the gradient
 * of single-thread training up to float rounding; the optimizer step stays with the caller.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createLogger } from '../../log.ts';
import { startWorker } from '../../workers/startWorker.ts';
import type { Forward } from '../objective.ts';
import { reduceWidthOf } from './shardedBatchNorm.ts';
import {
  allocate,
  bump,
  Command,
  Ctrl,
  forwardOf,
  type Layout,
  regions as makeRegions,
  raiseFailure,
  unpack,
  waitFor,
} from './shared.ts';
import type { ParallelWorkerData } from './worker.ts';

const log = createLogger('train-parallel');
const WORKER_URL = new URL('./worker.ts', import.meta.url);

/**
 * Layers whose training-mode output for an example depends on that example alone (so a shard
 * computes its rows exactly), plus FastBatchNorm, which the workers make batch-wide. Anything else
 * (tfjs' own BatchNormalization, dropout's random masks) would silently differ from one thread.
 */
const SHARDABLE_LAYERS = new Set([
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'SeparableConv2D',
  'Dense',
  'ReLU',
  'LeakyReLU',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Add',
  'Concatenate',
  'Multiply',
  'FastBatchNorm',
  'L2Normalize',
  'CosineLogits',
]);

export interface DataParallelOptions {
  threads: number;
  /** Largest batch a step will pass. */
  maxBatch: number;
  /** The tfjs backend the workers load (the coordinator's). */
  backend: string;
}

export interface DataParallel {
  readonly threads: number;
  /**
   * What `tf.variableGrads(() => loss(forward(view, xs, true)), trainable)` returns, computed by the
   * workers: the loss value and the gradient of every trainable weight of the view, by variable
   * name. Synchronous; call it inside tf.tidy like tf.variableGrads. The view's batch-norm moving
   * statistics are updated as a training-mode forward pass would.
   */
  variableGrads(
    xs: tf.Tensor4D,
    loss: (out: Forward) => tf.Scalar,
  ): { value: tf.Scalar; grads: tf.NamedTensorMap };
  close(): Promise<void>;
}

const elements = (w: tfl.LayerVariable) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1);

function checkShardable(view: tfl.LayersModel): void {
  const other = view.layers.map((l) => l.getClassName()).filter((c) => !SHARDABLE_LAYERS.has(c));
  if (other.length > 0) {
    throw new Error(
      `data-parallel training cannot shard layers ${[...new Set(other)].join(', ')} exactly; use --threads 1`,
    );
  }
}

function startOne(data: ParallelWorkerData, transfer: MessagePort): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(WORKER_URL, data, { transferList: [transfer] });
    worker.unref(); // a coordinator that dies without close() must not be kept alive by its workers
    const onExit = (code: number) =>
      reject(new Error(`training worker exited with code ${code} while starting`));
    worker.on('error', reject);
    worker.on('exit', onExit);
    worker.once('message', (msg: { ready?: boolean; failed?: string }) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      worker.on('error', (err) => log.error({ err, rank: data.rank }, 'training worker error'));
      if (msg.ready) resolve(worker);
      else reject(new Error(`training worker ${data.rank} failed to start: ${msg.failed}`));
    });
  });
}

export async function startDataParallel(
  view: tfl.LayersModel,
  options: DataParallelOptions,
): Promise<DataParallel> {
  checkShardable(view);
  const trainable = view.trainableWeights;
  const stats = view.nonTrainableWeights;
  const inputShape = view.inputs[0].shape.slice(1) as [number, number, number];
  const layout: Layout = {
    workers: options.threads,
    maxBatch: options.maxBatch,
    inputShape,
    outputDims: view.outputs.map((o) => o.shape[1] as number),
    trainableSizes: trainable.map(elements),
    statSizes: stats.map(elements),
    reduceWidth: reduceWidthOf(view),
  };
  const buffers = allocate(layout);
  const regions = makeRegions(layout, buffers);
  const { ctrl } = regions;
  const topology = view.toJSON(null, false) as ParallelWorkerData['topology'];
  const channels = Array.from({ length: layout.workers }, () => new MessageChannel());
  const started = Date.now();
  let workers: Worker[];
  try {
    workers = await Promise.all(
      channels.map((ch, rank) =>
        startOne({ rank, layout, buffers, topology, backend: options.backend, errors: ch.port2 }, ch.port2),
      ),
    );
  } catch (err) {
    raiseFailure(ctrl, -1);
    throw err;
  }
  log.info({ threads: layout.workers, startMs: Date.now() - started }, 'data-parallel workers ready');

  const variables = trainable.map((w) => w.read() as tf.Variable);
  const check = () => {
    if (Atomics.load(ctrl, Ctrl.failed) === 0) return;
    const reports = channels.map((ch) => receiveMessageOnPort(ch.port1)?.message).filter(Boolean);
    const first = reports[0] as { rank: number; message: string } | undefined;
    throw new Error(
      first ? `training worker ${first.rank} failed: ${first.message}` : 'a training worker failed',
    );
  };
  const waitAll = (index: number) => waitFor(ctrl, index, (v) => v >= layout.workers, check);
  let seq = 0;
  let closed = false;

  return {
    threads: layout.workers,
    variableGrads(xs, loss) {
      check();
      const batch = xs.shape[0];
      if (batch > layout.maxBatch || batch < layout.workers)
        throw new RangeError(`batch of ${batch} outside 1 row per worker..${layout.maxBatch}`);
      let offset = 0;
      for (const w of [...trainable, ...stats]) {
        const values = w.read().dataSync() as Float32Array;
        regions.weights.set(values, offset);
        offset += values.length;
      }
      regions.input.set(xs.dataSync() as Float32Array);
      Atomics.store(ctrl, Ctrl.batch, batch);
      Atomics.store(ctrl, Ctrl.forwardDone, 0);
      Atomics.store(ctrl, Ctrl.backwardDone, 0);
      Atomics.store(ctrl, Ctrl.command, Command.step);
      seq++;
      bump(ctrl, Ctrl.seq);
      waitAll(Ctrl.forwardDone);

      const outputs = layout.outputDims.map((d, k) =>
        tf.tensor2d(regions.outputs[k].slice(0, batch * d), [batch, d]),
      );
      const { value, grads: dOutputs } = tf
        .engine()
        .gradients(() => loss(forwardOf(outputs)), outputs, undefined, true);
      dOutputs.forEach((g, k) => {
        if (g) regions.dOutputs[k].set(g.dataSync() as Float32Array);
        else regions.dOutputs[k].fill(0, 0, batch * layout.outputDims[k]);
      });
      tf.dispose(dOutputs);
      Atomics.store(ctrl, Ctrl.dOutputSeq, seq);
      Atomics.notify(ctrl, Ctrl.dOutputSeq);
      waitAll(Ctrl.backwardDone);

      const total = new Float32Array(regions.grads[0].length);
      for (const share of regions.grads) for (let i = 0; i < total.length; i++) total[i] += share[i];
      const grads: tf.NamedTensorMap = {};
      unpack(total, layout.trainableSizes, (piece, i) => {
        grads[variables[i].name] = tf.tensor(piece, variables[i].shape);
      });
      unpack(regions.stats, layout.statSizes, (piece, i) => {
        stats[i].write(tf.tensor(piece.slice(), stats[i].shape as number[]));
      });
      return { value: value as tf.Scalar, grads };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (Atomics.load(ctrl, Ctrl.failed) === 0) {
        Atomics.store(ctrl, Ctrl.command, Command.stop);
        bump(ctrl, Ctrl.seq);
      }
      await Promise.all(workers.map((w) => w.terminate()));
      for (const ch of channels) ch.port1.close();
    },
  };
}
