import { labelGroups, type Miner, TripletBuffer } from './types.ts';

export interface SemiHardStats {
  [key: string]: number;
  /** Positive pairs (a, p) with at least one negative: one triplet each. */
  pairs: number;
  /** Pairs that found a semi-hard negative (farther than p); the rest fell back to the farthest. */
  semiHardPairs: number;
}

/**
 * FaceNet's semi-hard negatives in TF-Addons' form: for each positive pair (a, p), the closest negative
 * farther from a than p; if there is none, the farthest negative (ties: lowest index).
 */
export function semiHardMiner(): Miner<SemiHardStats> {
  return ({ n, labels, distances }) => {
    const { positives, negatives } = labelGroups(labels, n);
    const out = new TripletBuffer(n * 16);
    let semiHard = 0;
    for (let a = 0; a < n; a++) {
      const neg = negatives[a];
      if (neg.length === 0) continue;
      const row = a * n;
      for (const p of positives[a]) {
        const dap = distances[row + p];
        let beyond = Number.POSITIVE_INFINITY;
        let beyondAt = -1;
        let farthest = Number.NEGATIVE_INFINITY;
        let farthestAt = -1;
        for (const k of neg) {
          const dan = distances[row + k];
          if (dan > dap && dan < beyond) {
            beyond = dan;
            beyondAt = k;
          }
          if (dan > farthest) {
            farthest = dan;
            farthestAt = k;
          }
        }
        if (beyondAt >= 0) semiHard++;
        out.push(a, p, beyondAt >= 0 ? beyondAt : farthestAt);
      }
    }
    return { triplets: out.triplets(), stats: { pairs: out.length, semiHardPairs: semiHard } };
  };
}
