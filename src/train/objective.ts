import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type CosFaceOptions,
  cosFaceLoss,
  type MinerName,
  type MinerStats,
  type PairedNceOptions,
  pairedNceLoss,
  softmaxCrossEntropy,
  type TripletOptions,
  tripletLoss,
} from '../model/losses.ts';
import { EMBEDDING_LAYER } from '../model/network.ts';
import type { LossName } from './config.ts';

/**
 * The miner behind each named triplet loss; `triplet` takes it from the options. With each miner's own
 * reducer these are the losses as they were before they were split into parts.
 */
const PRESET_MINERS: Record<Exclude<LossName, 'softmax' | 'cosface' | 'triplet'>, MinerName> = {
  batch_all: 'all',
  batch_hard: 'batch-hard',
  semi_hard: 'semi-hard',
};

/**
 * The model as training sees it: outputs [embedding] or, for a softmax model, [embedding, logits],
 * sharing the weights of `model` (which keeps its single output for saving and serving).
 */
export function trainingView(model: tfl.LayersModel): tfl.LayersModel {
  const embedding = model.getLayer(EMBEDDING_LAYER).output as tfl.SymbolicTensor;
  if (model.outputs[0] === embedding) return model;
  return tfl.model({ inputs: model.inputs, outputs: [embedding, model.outputs[0]] });
}

export interface Forward {
  embedding: tf.Tensor2D;
  logits?: tf.Tensor2D;
}

export function forward(view: tfl.LayersModel, xs: tf.Tensor4D, training: boolean): Forward {
  const out = view.apply(xs, { training }) as tf.Tensor | tf.Tensor[];
  if (Array.isArray(out)) return { embedding: out[0] as tf.Tensor2D, logits: out[1] as tf.Tensor2D };
  return { embedding: out as tf.Tensor2D };
}

export interface LossValue {
  loss: tf.Scalar;
  /** The miner's statistics (triplet losses only). */
  stats?: MinerStats;
  /** Positive triplets / valid triplets, when the miner counts them (the all-triplets miner). */
  fractionPositive?: number;
}

/**
 * The triplet losses' options, CosFace's (its defaults when absent), and the paired-view instance loss
 * added to any of them when its weight is positive (the batch is then two views of B/2 items).
 */
export type LossOptions = TripletOptions & { cosFace?: CosFaceOptions; instance?: PairedNceOptions };

export function computeLoss(name: LossName, labels: tf.Tensor1D, out: Forward, opts: LossOptions): LossValue {
  const value = classLoss(name, labels, out, opts);
  const instance = opts.instance;
  if (!instance || instance.weight === 0) return value;
  const nce = pairedNceLoss(out.embedding, instance.temperature);
  return { ...value, loss: tf.add(value.loss, tf.mul(instance.weight, nce)) as tf.Scalar };
}

function classLoss(name: LossName, labels: tf.Tensor1D, out: Forward, opts: LossOptions): LossValue {
  if (name === 'softmax' || name === 'cosface') {
    if (!out.logits) throw new Error(`${name} loss needs a model with a classifier head`);
    const loss =
      name === 'softmax'
        ? softmaxCrossEntropy(labels, out.logits)
        : cosFaceLoss(labels, out.logits, opts.cosFace);
    return { loss };
  }
  // A named loss is its miner with that miner's reducer, whatever the options say.
  const custom = name === 'triplet';
  const { loss, stats } = tripletLoss(labels, out.embedding, {
    ...opts,
    miner: custom ? opts.miner : PRESET_MINERS[name],
    reducer: custom ? opts.reducer : undefined,
  });
  return { loss, stats, fractionPositive: stats.fractionPositive };
}
