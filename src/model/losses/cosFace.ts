import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from './softmax.ts';

export interface CosFaceOptions {
  /** s: the logits are s·cos θ, so the softmax can become confident although cosines are at most 1. */
  scale: number;
  /** m: subtracted from the true class's cosine, so a row must beat every other class by m to be done. */
  margin: number;
}

export const DEFAULT_COSFACE: CosFaceOptions = { scale: 16, margin: 0.25 };

/**
 * Large-margin cosine loss (CosFace, Wang et al. 2018; pytorch-metric-learning's CosFaceLoss): softmax
 * cross-entropy over s·(cos θ_j − m·[j = label]), where `cosines` [B, C] are each row's cosines to the C
 * class weights (CosineLogits). The margin pulls every class into a cone tighter than the decision
 * boundary, which is what makes the unit embedding good for retrieval, not only for classification.
 * Mean over the batch.
 */
export function cosFaceLoss(
  labels: tf.Tensor1D,
  cosines: tf.Tensor2D,
  { scale, margin }: CosFaceOptions = DEFAULT_COSFACE,
): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), cosines.shape[1]);
    return softmaxCrossEntropy(labels, tf.mul(scale, tf.sub(cosines, tf.mul(margin, oneHot))) as tf.Tensor2D);
  });
}
