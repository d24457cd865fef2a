import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers all of them on import.
import '@tensorflow/tfjs-layers';

export const DEFAULT_MARGIN = 0.5;

export interface TripletOptions {
  margin?: number;
  /** Squared euclidean distances instead of euclidean. */
  squared?: boolean;
  /**
   * Batch-hard only: softplus(d_hp − d_hn) instead of the hinge (the "soft margin" of Hermans et
   * al., 2017), which still pushes correctly ordered triplets apart; the margin is not used.
   */
  softMargin?: boolean;
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

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
    const offDiag = tf.sub(1, tf.eye(n));
    const d2z = tf.mul(d2, offDiag);
    return (squared ? d2z : safeSqrt(d2z)) as tf.Tensor2D;
  });
}

/**
 * Label-derived masks as float32 {0,1} tensors. They depend only on the labels, so they are off the
 * gradient path (tf.equal etc. have no gradients).
 */
export interface TripletMasks {
  /** [B,B]: same label, i ≠ j. */
  positive: tf.Tensor2D;
  /** [B,B]: different label. */
  negative: tf.Tensor2D;
}

export function tripletMasks(labels: tf.Tensor1D): TripletMasks {
  return tf.tidy(() => {
    const n = labels.shape[0];
    const same = tf.cast(tf.equal(tf.reshape(labels, [n, 1]), tf.reshape(labels, [1, n])), 'float32');
    return {
      positive: tf.mul(same, tf.sub(1, tf.eye(n))) as tf.Tensor2D,
      negative: tf.sub(1, same) as tf.Tensor2D,
    };
  });
}

/** Marks an invalid pair in the masked distance matrices below; no real distance comes near it. */
const INVALID = 1e9;

/**
 * Σ and count of the positive hinges h(a,p,n) = relu(d(a,p) + margin - d(a,n)) over valid triplets,
 * and their derivative counts, in plain JS over the valid triplets only: with P x K batches those
 * are about a tenth of the B³ cube that a tensor formulation must sweep several times.
 * `apm` = d(a,p) + margin, or -INVALID for a non-positive pair; `an` = d(a,n), or +INVALID.
 */
function hingeStats(apm: Float32Array, an: Float32Array, n: number) {
  const perAP = new Float32Array(n * n); // [a,p]: how many n make (a,p,n) positive
  const perAN = new Float32Array(n * n); // [a,n]: how many p make (a,p,n) positive
  let sum = 0;
  let count = 0;
  const negatives = new Int32Array(n);
  for (let a = 0; a < n; a++) {
    const row = a * n;
    let negCount = 0;
    for (let k = 0; k < n; k++) if (an[row + k] < INVALID / 2) negatives[negCount++] = k;
    for (let p = 0; p < n; p++) {
      const dp = apm[row + p];
      if (dp < -INVALID / 2) continue;
      let c = 0;
      for (let i = 0; i < negCount; i++) {
        const k = negatives[i];
        const h = dp - an[row + k];
        if (h > 1e-16) {
          sum += h;
          c++;
          perAN[row + k]++;
        }
      }
      perAP[row + p] = c;
      count += c;
    }
  }
  return { sum, count, perAP, perAN };
}

/**
 * [Σ hinges, #positive hinges] with a written-out gradient: ∂Σ/∂d(a,p) = #positive over n,
 * ∂Σ/∂d(a,n) = −#positive over p; the count has none.
 */
export function hingeSumAndCount(d: tf.Tensor2D, masks: TripletMasks, margin: number): tf.Tensor1D {
  const n = d.shape[0];
  const apm = tf.add(tf.sub(tf.mul(d, masks.positive), tf.mul(tf.sub(1, masks.positive), INVALID)), margin);
  const an = tf.add(tf.mul(d, masks.negative), tf.mul(tf.sub(1, masks.negative), INVALID));
  const op = tf.customGrad((apIn, anIn, save) => {
    const stats = hingeStats(
      (apIn as tf.Tensor).dataSync() as Float32Array,
      (anIn as tf.Tensor).dataSync() as Float32Array,
      n,
    );
    (save as tf.GradSaveFunc)([tf.tensor2d(stats.perAP, [n, n]), tf.tensor2d(stats.perAN, [n, n])]);
    return {
      value: tf.tensor1d([stats.sum, stats.count]),
      gradFunc: (dy, saved) => {
        const [perAP, perAN] = saved;
        const dSum = tf.slice(dy as tf.Tensor, [0], [1]);
        return [tf.mul(perAP, dSum), tf.neg(tf.mul(perAN, dSum))];
      },
    };
  });
  return op(apm, an) as tf.Tensor1D;
}

/** Number of valid triplets (a, p, n): Σ_a #positives(a) · #negatives(a). Label-only, no gradient. */
export function validTripletCount(masks: TripletMasks): tf.Scalar {
  return tf.sum(tf.mul(tf.sum(masks.positive, 1), tf.sum(masks.negative, 1)));
}

export interface BatchAllResult {
  /** Mean of the hinge over the triplets where it is positive. */
  loss: tf.Scalar;
  /** Positive triplets / valid triplets. */
  fractionPositive: tf.Scalar;
}

/** Batch-all triplet loss (Hermans et al.; Moindrot's vectorised form). */
export function batchAllTripletLoss(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): BatchAllResult {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  return tf.tidy(() => {
    const masks = tripletMasks(labels);
    const [sum, numPositive] = tf.unstack(
      hingeSumAndCount(pairwiseDistances(emb, opts.squared), masks, margin),
    );
    const loss = tf.div(sum, tf.add(numPositive, 1e-16)) as tf.Scalar;
    const fractionPositive = tf.div(numPositive, tf.add(validTripletCount(masks), 1e-16)) as tf.Scalar;
    return { loss, fractionPositive };
  });
}

/** Per anchor: largest distance to a positive (0 if none) and smallest to a negative (1e9 if none), both [B]. */
export function hardestDistances(
  d: tf.Tensor2D,
  masks: TripletMasks,
): { hardestPositive: tf.Tensor1D; hardestNegative: tf.Tensor1D } {
  return tf.tidy(() => {
    const hardestPositive = tf.max(tf.mul(d, masks.positive), 1) as tf.Tensor1D;
    // Non-negatives are pushed far above every real distance by a constant. Moindrot's row maximum
    // ties with the farthest negative on the diagonal, and tfjs' min gradient then flows to both.
    const hardestNegative = tf.min(tf.add(d, tf.mul(tf.sub(1, masks.negative), 1e9)), 1) as tf.Tensor1D;
    return { hardestPositive, hardestNegative };
  });
}

/**
 * A loss over the [B,B] distance matrix whose triplet selection runs in plain JS: `select` reads the
 * distances and labels, writes ∂loss/∂d into `grad` (zeroed, n*n) and returns the loss value.
 */
function jsSelectedLoss(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  squared: boolean | undefined,
  select: (d: ArrayLike<number>, lab: ArrayLike<number>, n: number, grad: Float32Array) => number,
): tf.Scalar {
  return tf.tidy(() => {
    const n = labels.shape[0];
    const lab = labels.dataSync();
    const op = tf.customGrad((dIn, save) => {
      const grad = new Float32Array(n * n);
      const value = select((dIn as tf.Tensor).dataSync(), lab, n, grad);
      (save as tf.GradSaveFunc)([tf.tensor2d(grad, [n, n])]);
      return { value: tf.scalar(value), gradFunc: (dy, saved) => tf.mul(saved[0], dy as tf.Tensor) };
    });
    return op(pairwiseDistances(emb, squared)) as tf.Scalar;
  });
}

/**
 * Batch-hard triplet loss: mean over anchors of relu(hardest positive - hardest negative + margin),
 * or of softplus(hardest positive - hardest negative) with `softMargin`.
 * The arg-max/arg-min selection runs in plain JS on the [B,B] distances and the gradient is written
 * out (±1/B at the two selected entries of each active anchor): tfjs' max/min gradients cost a
 * dozen tensor passes and, on ties, send the gradient to every tied entry.
 */
export function batchHardTripletLoss(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): tf.Scalar {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  return jsSelectedLoss(labels, emb, opts.squared, (d, lab, n, grad) => {
    let sum = 0;
    for (let a = 0; a < n; a++) {
      let hp = 0;
      let hpAt = -1;
      let hn = Number.POSITIVE_INFINITY;
      let hnAt = -1;
      for (let j = 0; j < n; j++) {
        const v = d[a * n + j];
        if (lab[j] === lab[a]) {
          if (j !== a && v > hp) {
            hp = v;
            hpAt = j;
          }
        } else if (v < hn) {
          hn = v;
          hnAt = j;
        }
      }
      if (hnAt < 0) continue;
      let slope = 1;
      if (opts.softMargin) {
        sum += softplus(hp - hn);
        slope = 1 / (1 + Math.exp(hn - hp));
      } else {
        const hinge = hp - hn + margin;
        if (hinge <= 0) continue;
        sum += hinge;
      }
      if (hpAt >= 0) grad[a * n + hpAt] += slope / n;
      grad[a * n + hnAt] -= slope / n;
    }
    return sum / n;
  });
}

/**
 * Semi-hard triplet loss (FaceNet; TF-Addons' definition): for each positive pair (a,p), the closest
 * negative farther than p; if none, the farthest negative. Mean of the hinge over positive pairs.
 * Selection in JS over the valid triplets, gradient written out as for batch-hard.
 */
export function batchSemiHardTripletLoss(
  labels: tf.Tensor1D,
  emb: tf.Tensor2D,
  opts: TripletOptions = {},
): tf.Scalar {
  const margin = opts.margin ?? DEFAULT_MARGIN;
  return jsSelectedLoss(labels, emb, opts.squared, (d, lab, n, grad) => {
    const hinges: number[] = [];
    const pairs: number[] = [];
    for (let a = 0; a < n; a++) {
      for (let p = 0; p < n; p++) {
        if (p === a || lab[p] !== lab[a]) continue;
        const dap = d[a * n + p];
        let beyond = Number.POSITIVE_INFINITY;
        let beyondAt = -1;
        let farthest = Number.NEGATIVE_INFINITY;
        let farthestAt = -1;
        for (let k = 0; k < n; k++) {
          if (lab[k] === lab[a]) continue;
          const dan = d[a * n + k];
          if (dan > dap && dan < beyond) {
            beyond = dan;
            beyondAt = k;
          }
          if (dan > farthest) {
            farthest = dan;
            farthestAt = k;
          }
        }
        const negAt = beyondAt >= 0 ? beyondAt : farthestAt;
        const hinge = negAt >= 0 ? dap - d[a * n + negAt] + margin : dap + margin;
        pairs.push(a * n + p, negAt >= 0 ? a * n + negAt : -1);
        hinges.push(hinge);
      }
    }
    const count = hinges.length;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      if (hinges[i] <= 0) continue;
      sum += hinges[i];
      grad[pairs[2 * i]] += 1 / count;
      if (pairs[2 * i + 1] >= 0) grad[pairs[2 * i + 1]] -= 1 / count;
    }
    return count > 0 ? sum / count : 0;
  });
}

/** Mean softmax cross-entropy of `logits` [B,C] against integer `labels` [B]. */
export function softmaxCrossEntropy(labels: tf.Tensor1D, logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}
