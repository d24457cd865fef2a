import { type Miner, TripletBuffer } from './types.ts';

export interface BatchHardStats {
  [key: string]: number;
  /** Anchors with at least one negative: one triplet each. */
  anchors: number;
  /** Mean over anchors with a positive of the largest distance to one. */
  meanHardestPositive: number;
  /** Mean over anchors with a negative of the smallest distance to one. */
  meanHardestNegative: number;
}

/**
 * Per anchor, its farthest positive and its closest negative (Hermans et al. 2017). An anchor without
 * positives keeps itself as the positive, at distance 0: the loss then still pulls its hardest
 * negative beyond the margin, which is what the masked-maximum formulation (Moindrot) has always done
 * here. Ties go to the lowest index; a positive at distance 0 counts as none.
 */
export function batchHardMiner(): Miner<BatchHardStats> {
  return ({ n, labels, distances }) => {
    const out = new TripletBuffer(n);
    let hpSum = 0;
    let hpCount = 0;
    let hnSum = 0;
    for (let a = 0; a < n; a++) {
      let hp = 0;
      let hpAt = a;
      let hasPositive = false;
      let hn = Number.POSITIVE_INFINITY;
      let hnAt = -1;
      for (let j = 0; j < n; j++) {
        const v = distances[a * n + j];
        if (labels[j] !== labels[a]) {
          if (v < hn) {
            hn = v;
            hnAt = j;
          }
        } else if (j !== a) {
          hasPositive = true;
          if (v > hp) {
            hp = v;
            hpAt = j;
          }
        }
      }
      if (hasPositive) {
        hpSum += hp;
        hpCount++;
      }
      if (hnAt < 0) continue;
      hnSum += hn;
      out.push(a, hpAt, hnAt);
    }
    return {
      triplets: out.triplets(),
      stats: {
        anchors: out.length,
        meanHardestPositive: hpCount > 0 ? hpSum / hpCount : 0,
        meanHardestNegative: out.length > 0 ? hnSum / out.length : 0,
      },
    };
  };
}
