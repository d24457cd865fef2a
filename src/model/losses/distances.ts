import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers all of them on import.
import '@tensorflow/tfjs-layers';

/**
 * How two embeddings are compared. All three are distances (smaller = closer), so miners and the
 * triplet loss never need to know which one they got: `cosine` is 1 − cos(a, b), in [0, 2].
 */
export const DISTANCES = ['euclidean', 'squared', 'cosine'] as const;
export type DistanceName = (typeof DISTANCES)[number];

/**
 * sqrt whose gradient is 0 (not Inf/NaN) where the input is 0: identical embeddings
 * (the diagonal, or a collapsed batch) would otherwise poison every weight with NaN.
 */
const safeSqrt = tf.customGrad((x, save) => {
  const y = tf.sqrt(tf.relu(x as tf.Tensor));
  (save as tf.GradSaveFunc)([y]);
  return {
    value: y,
    gradFunc: (dy, saved) => {
      const [out] = saved;
      const positive = tf.greater(out, 0);
      return tf.where(
        positive,
        tf.div(tf.mul(dy, 0.5), tf.where(positive, out, tf.onesLike(out))),
        tf.zerosLike(out),
      );
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** 1 − I: multiplying by it makes the diagonal exactly 0 and stops any gradient reaching it. */
function offDiagonal(n: number): tf.Tensor2D {
  return tf.sub(1, tf.eye(n));
}

/**
 * Pairwise distance matrix [B,B] of the rows of `emb` [B,D] via |a|²-2a·b+|b|², clamped at 0
 * (rounding can make it slightly negative) and exactly 0 on the diagonal.
 */
export function pairwiseDistances(emb: tf.Tensor2D, squared = false): tf.Tensor2D {
  return tf.tidy(() => {
    const n = emb.shape[0];
    const sq = tf.sum(tf.square(emb), 1);
    const dot = tf.matMul(emb, emb, false, true);
    const d2 = tf.relu(tf.add(tf.sub(tf.reshape(sq, [n, 1]), tf.mul(dot, 2)), tf.reshape(sq, [1, n])));
    // The diagonal is 0 by definition; cancellation leaves a tiny positive value whose sqrt would be noise.
    const d2z = tf.mul(d2, offDiagonal(n));
    return (squared ? d2z : safeSqrt(d2z)) as tf.Tensor2D;
  });
}

/** 1 − cos between rows; a zero row counts as orthogonal to everything rather than producing NaN. */
export function cosineDistances(emb: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = emb.shape[0];
    const norms = tf.sqrt(tf.add(tf.sum(tf.square(emb), 1, true), 1e-12));
    const unit = tf.div(emb, norms);
    const cos = tf.matMul(unit, unit, false, true);
    return tf.mul(tf.sub(1, cos), offDiagonal(n)) as tf.Tensor2D;
  });
}

export function distanceMatrix(emb: tf.Tensor2D, distance: DistanceName): tf.Tensor2D {
  return distance === 'cosine' ? cosineDistances(emb) : pairwiseDistances(emb, distance === 'squared');
}
