import * as tf from '@tensorflow/tfjs-core';
import { softmaxCrossEntropy } from './softmax.ts';

export interface PairedNceOptions {
  /** λ: the loss's weight beside the class loss. */
  weight: number;
  /** τ: cosines are divided by it before the softmax (SimCLR's 0.1-0.5). */
  temperature: number;
}

export const DEFAULT_PAIRED_NCE: PairedNceOptions = { weight: 0, temperature: 0.2 };

/** Row r's partner in a batch of `rows` laid out as [first views; second views]. */
export const partnerOf = (r: number, rows: number): number => (r + rows / 2) % rows;

/**
 * Instance discrimination over two views of every item (NT-Xent, Chen et al. 2020, "SimCLR"): rows r
 * and r + B/2 of the unit `embedding` [B, D] are two augmentations of one image, and each row's softmax
 * over its cosines to every other row, divided by τ, must pick its partner. A class loss alone pulls all
 * items of a category into one tight cluster, where a photo cannot tell its own item from the others;
 * this keeps items apart within their category. Mean over the rows.
 */
export function pairedNceLoss(embedding: tf.Tensor2D, temperature: number): tf.Scalar {
  const rows = embedding.shape[0];
  if (rows % 2 !== 0) throw new RangeError(`paired views need an even batch, got ${rows} rows`);
  return tf.tidy(() => {
    const partners = tf.tensor1d(
      Int32Array.from({ length: rows }, (_, r) => partnerOf(r, rows)),
      'int32',
    );
    // A row is not its own candidate: a large negative logit on the diagonal (a constant, no gradient).
    const notSelf = tf.mul(tf.eye(rows), -1e9);
    const logits = tf.add(tf.div(tf.matMul(embedding, embedding, false, true), temperature), notSelf);
    return softmaxCrossEntropy(partners, logits as tf.Tensor2D);
  });
}
