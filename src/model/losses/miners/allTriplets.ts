import { marginViolated } from '../tripletMargin.ts';
import { labelGroups, type Miner, TripletBuffer } from './types.ts';

export interface AllTripletsStats {
  [key: string]: number;
  /** Triplets (a, p, n) with label(p) = label(a), p ≠ a, label(n) ≠ label(a). */
  validTriplets: number;
  /** Valid triplets whose hinge d(a,p) − d(a,n) + margin is positive (in float32). */
  positiveTriplets: number;
  /** positiveTriplets / validTriplets (0 when there are none). */
  fractionPositive: number;
}

export interface AllTripletsOptions {
  margin: number;
  /**
   * Return only the triplets with a positive hinge (pytorch-metric-learning's TripletMarginMiner
   * "all"). The others have zero loss and zero gradient under the hinge, so a mean over non-zero
   * losses is unchanged, and the loss gathers a fraction of the B·(K−1)·(B−K) triplets once training
   * has separated most of them. A soft margin needs every triplet: pass false.
   */
  violatingOnly?: boolean;
}

/** Every valid triplet of the batch ("batch-all", Hermans et al. 2017). */
export function allTripletsMiner(options: AllTripletsOptions): Miner<AllTripletsStats> {
  const { margin, violatingOnly = true } = options;
  return ({ n, labels, distances }) => {
    const { positives, negatives } = labelGroups(labels, n);
    let valid = 0;
    for (let a = 0; a < n; a++) valid += positives[a].length * negatives[a].length;
    // Sized once: growing a buffer of 200k triplets (P x K batches of 128) costs more than the loop.
    const out = new TripletBuffer(valid);
    let positive = 0;
    for (let a = 0; a < n; a++) {
      const row = a * n;
      const neg = negatives[a];
      for (const p of positives[a]) {
        const dap = distances[row + p];
        for (const k of neg) {
          // The loss's own arithmetic: violated here is exactly what it and a non-zero reducer count.
          const violated = marginViolated(dap, distances[row + k], margin);
          if (violated) positive++;
          if (violated || !violatingOnly) out.push(a, p, k);
        }
      }
    }
    return {
      triplets: out.triplets(),
      stats: {
        validTriplets: valid,
        positiveTriplets: positive,
        fractionPositive: valid > 0 ? positive / valid : 0,
      },
    };
  };
}
