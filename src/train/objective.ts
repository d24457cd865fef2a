import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  batchAllTripletLoss,
  batchHardTripletLoss,
  batchSemiHardTripletLoss,
  softmaxCrossEntropy,
  type TripletOptions,
} from '../model/losses.ts';
import { EMBEDDING_LAYER } from '../model/network.ts';
import type { LossName } from './config.ts';

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
  /** Only batch-all computes it as a by-product. */
  fractionPositive?: tf.Scalar;
}

export function computeLoss(
  name: LossName,
  labels: tf.Tensor1D,
  out: Forward,
  opts: TripletOptions,
): LossValue {
  switch (name) {
    case 'batch_all':
      return batchAllTripletLoss(labels, out.embedding, opts);
    case 'batch_hard':
      return { loss: batchHardTripletLoss(labels, out.embedding, opts) };
    case 'semi_hard':
      return { loss: batchSemiHardTripletLoss(labels, out.embedding, opts) };
    case 'softmax':
      if (!out.logits) throw new Error('softmax loss needs a model with the softmax head');
      return { loss: softmaxCrossEntropy(labels, out.logits) };
  }
}
