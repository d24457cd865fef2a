import { labelGroups, type Miner, TripletBuffer } from './types.ts';

export interface DistanceWeightedStats {
  [key: string]: number;
  /** Positive pairs (a, p) with at least one negative: one sampled triplet each. */
  pairs: number;
  /** Pairs whose anchor had no negative inside the cutoff window and sampled uniformly instead. */
  uniformPairs: number;
  /** Mean unit-sphere distance of the sampled negatives. */
  meanNegativeDistance: number;
}

export interface DistanceWeightedOptions {
  /** Distances below it weigh as much as it: the weight 1/q(d) grows without bound towards 0. */
  cutoff?: number;
  /** Negatives this far (or farther) are never drawn: under the margin they would give no loss. */
  nonzeroLossCutoff?: number;
}

/**
 * Distance-weighted sampling (Wu et al. 2017, "Sampling Matters in Deep Embedding Learning"): for each
 * positive pair (a, p), one negative drawn with probability ∝ 1/q(d(a,n)), where
 * q(d) ∝ d^(D−2) (1 − d²/4)^((D−3)/2) is the density of distances between uniform points on the unit
 * sphere in D dimensions, so negatives spread over all distances instead of crowding around √2.
 * The weights need unit-sphere distances, so they come from the L2-normalised embeddings whatever
 * distance the loss uses. Defaults are the paper's (and pytorch-metric-learning's): 0.5 and 1.4.
 */
export function distanceWeightedMiner(options: DistanceWeightedOptions = {}): Miner<DistanceWeightedStats> {
  const cutoff = options.cutoff ?? 0.5;
  const nonzeroLossCutoff = options.nonzeroLossCutoff ?? 1.4;
  // Unit-sphere distances lie in [0, 2], and log(1 − d²/4) is undefined from 2 on.
  if (!(cutoff > 0 && cutoff < nonzeroLossCutoff && nonzeroLossCutoff <= 2)) {
    throw new RangeError(`distance-weighted cut-offs need 0 < ${cutoff} < ${nonzeroLossCutoff} <= 2`);
  }
  return ({ n, labels, embeddings, rng }) => {
    const { values, dim } = embeddings();
    const sphere = unitSphereDistances(values, n, dim);
    const { positives, negatives } = labelGroups(labels, n);
    const out = new TripletBuffer(n * 16);
    const weights = new Float64Array(n);
    let uniform = 0;
    let distanceSum = 0;
    for (let a = 0; a < n; a++) {
      const neg = negatives[a];
      if (neg.length === 0 || positives[a].length === 0) continue;
      const row = a * n;
      // Log weights first, then the row maximum off them: in D = 64 the raw weights span 1e40.
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < neg.length; i++) {
        const d = Math.max(sphere[row + neg[i]], cutoff);
        const logW =
          sphere[row + neg[i]] < nonzeroLossCutoff
            ? (2 - dim) * Math.log(d) - ((dim - 3) / 2) * Math.log(1 - 0.25 * d * d)
            : Number.NEGATIVE_INFINITY;
        weights[i] = logW;
        if (logW > max) max = logW;
      }
      let total = 0;
      for (let i = 0; i < neg.length; i++) {
        weights[i] = max === Number.NEGATIVE_INFINITY ? 1 : Math.exp(weights[i] - max);
        total += weights[i];
      }
      if (max === Number.NEGATIVE_INFINITY) uniform += positives[a].length;
      for (const p of positives[a]) {
        const k = neg[drawIndex(weights, neg.length, total, rng())];
        distanceSum += sphere[row + k];
        out.push(a, p, k);
      }
    }
    return {
      triplets: out.triplets(),
      stats: {
        pairs: out.length,
        uniformPairs: uniform,
        meanNegativeDistance: out.length > 0 ? distanceSum / out.length : 0,
      },
    };
  };
}

/** Index i with probability weights[i] / total, by inverting the cumulative sum at u ∈ [0, 1). */
function drawIndex(weights: Float64Array, count: number, total: number, u: number): number {
  let target = u * total;
  for (let i = 0; i < count; i++) {
    target -= weights[i];
    if (target < 0) return i;
  }
  // Rounding can leave target ≥ 0 after the last term: fall back to the last drawable entry.
  for (let i = count - 1; i > 0; i--) if (weights[i] > 0) return i;
  return 0;
}

/** Euclidean distances between the L2-normalised rows (float64), in [0, 2]. */
export function unitSphereDistances(values: ArrayLike<number>, n: number, dim: number): Float64Array {
  const unit = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += values[i * dim + k] ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < dim; k++) unit[i * dim + k] = values[i * dim + k] * scale;
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += unit[i * dim + k] * unit[j * dim + k];
      const d = Math.sqrt(Math.max(2 - 2 * dot, 0));
      out[i * n + j] = d;
      out[j * n + i] = d;
    }
  }
  return out;
}
