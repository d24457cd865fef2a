import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { L2_EPSILON } from './embeddingHead.ts';

// Defined beside the embedding head, which must not import tfjs (the ONNX embedder reads it).
export { L2_EPSILON };

/** y = x / sqrt(max(Σ x², ε)) over the last axis of a [N, D] tensor. */
export function l2NormalizeRows(x: tf.Tensor2D, epsilon = L2_EPSILON): tf.Tensor2D {
  return tf.tidy(() => {
    const sumSquares = tf.sum(tf.square(x), -1, true);
    return tf.div(x, tf.sqrt(tf.maximum(sumSquares, epsilon))) as tf.Tensor2D;
  });
}

export interface L2NormalizeArgs {
  name?: string;
  epsilon?: number;
}

/**
 * Projects each embedding onto the unit sphere. Inside the model (not in the loss), so that the saved
 * model, its ONNX export and therefore serving all produce the vectors the triplet loss was trained on.
 * Batch-hard can no longer lower every hinge at once by shrinking the whole embedding: distances live in
 * [0, 2] whatever the scale of the layer before.
 */
export class L2Normalize extends tfl.layers.Layer {
  static readonly className = 'L2Normalize';
  readonly epsilon: number;

  constructor(args: L2NormalizeArgs = {}) {
    super({ name: args.name });
    this.epsilon = args.epsilon ?? L2_EPSILON;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
    if (x.rank !== 2) throw new Error(`${this.name}: expects [N, D] input, got rank ${x.rank}`);
    return l2NormalizeRows(x, this.epsilon);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(L2Normalize);
