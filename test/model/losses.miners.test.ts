import { describe, expect, it } from 'vitest';
import {
  allTripletsMiner,
  batchHardMiner,
  distanceWeightedMiner,
  semiHardMiner,
  unitSphereDistances,
} from '../../src/model/losses.ts';
import {
  distanceTable,
  type Emb,
  miningInput,
  randomCase,
  rng,
  type Triplet,
  tripletList,
  validTriplets,
} from './lossesReference.ts';

// 1-D points 0, 1 (class 0) and 1.5, 4 (class 1):
// d01 = 1, d02 = 1.5, d03 = 4, d12 = 0.5, d13 = 3, d23 = 2.5.
const LABELS = [0, 0, 1, 1];
const POINTS: Emb = [[0], [1], [1.5], [4]];

describe('all-triplets miner (batch-all)', () => {
  it('hand-computed: margin 1 leaves 5 of the 8 valid triplets violated', () => {
    const r = allTripletsMiner({ margin: 1 })(miningInput(LABELS, POINTS));
    // Hinges: (0,1,2) 0.5, (0,1,3) -2, (1,0,2) 1.5, (1,0,3) -1, (2,3,0) 2, (2,3,1) 3, (3,2,0) -0.5, (3,2,1) 0.5.
    expect(tripletList(r.triplets)).toEqual([
      [0, 1, 2],
      [1, 0, 2],
      [2, 3, 0],
      [2, 3, 1],
      [3, 2, 1],
    ]);
    expect(r.stats).toEqual({ validTriplets: 8, positiveTriplets: 5, fractionPositive: 5 / 8 });
  });

  it('hand-computed: a hinge of exactly 0 is not violated; violatingOnly false returns all 8', () => {
    const r = allTripletsMiner({ margin: 0.5, violatingOnly: false })(miningInput(LABELS, POINTS));
    expect(tripletList(r.triplets)).toEqual(validTriplets(LABELS));
    // margin 0.5: (0,1,2) is 1 + 0.5 - 1.5 = 0 exactly; (1,0,2) 1, (2,3,0) 1.5, (2,3,1) 2.5 remain.
    expect(r.stats.positiveTriplets).toBe(3);
  });

  for (const seed of [1, 2, 3]) {
    it(`vs a naive triple loop (seed ${seed})`, () => {
      const { labels, emb } = randomCase(seed, 18, 4, 4);
      const d = distanceTable(emb);
      const naive = validTriplets(labels).filter(([a, p, n]) => d[a][p] + 0.5 - d[a][n] > 1e-16);
      const r = allTripletsMiner({ margin: 0.5 })(miningInput(labels, emb));
      expect(tripletList(r.triplets)).toEqual(naive);
      expect(r.stats.validTriplets).toBe(validTriplets(labels).length);
      expect(r.stats.fractionPositive).toBeCloseTo(naive.length / validTriplets(labels).length, 12);
    });
  }
});

describe('batch-hard miner', () => {
  it('hand-computed: farthest positive, closest negative per anchor', () => {
    const r = batchHardMiner()(miningInput(LABELS, POINTS));
    expect(tripletList(r.triplets)).toEqual([
      [0, 1, 2],
      [1, 0, 2],
      [2, 3, 1],
      [3, 2, 1],
    ]);
    expect(r.stats.anchors).toBe(4);
    expect(r.stats.meanHardestPositive).toBeCloseTo((1 + 1 + 2.5 + 2.5) / 4, 12);
    expect(r.stats.meanHardestNegative).toBeCloseTo((1.5 + 0.5 + 0.5 + 3) / 4, 12);
  });

  it('hand-computed: an anchor without positives is its own positive; ties go to the lowest index', () => {
    const r = batchHardMiner()(miningInput([0, 0, 1], [[0], [2], [1]]));
    expect(tripletList(r.triplets)).toEqual([
      [0, 1, 2],
      [1, 0, 2],
      [2, 2, 0],
    ]);
    expect(r.stats.meanHardestPositive).toBe(2);
    expect(r.stats.meanHardestNegative).toBe(1);
  });

  for (const seed of [4, 5, 6]) {
    it(`vs a naive loop over all pairs (seed ${seed})`, () => {
      const { labels, emb } = randomCase(seed, 20, 3, 5);
      const d = distanceTable(emb);
      const naive: Triplet[] = [];
      for (let a = 0; a < labels.length; a++) {
        const pos = labels.map((_, j) => j).filter((j) => j !== a && labels[j] === labels[a]);
        const neg = labels.map((_, j) => j).filter((j) => labels[j] !== labels[a]);
        if (neg.length === 0) continue;
        const p = pos.reduce((best, j) => (d[a][j] > d[a][best] ? j : best), a);
        const n = neg.reduce((best, j) => (d[a][j] < d[a][best] ? j : best), neg[0]);
        naive.push([a, p, n]);
      }
      expect(tripletList(batchHardMiner()(miningInput(labels, emb)).triplets)).toEqual(naive);
    });
  }
});

describe('semi-hard miner', () => {
  it('hand-computed: the closest negative beyond the positive, else the farthest', () => {
    const r = semiHardMiner()(miningInput(LABELS, POINTS));
    // (0,1): d=1, negatives 1.5 and 4 → 2. (1,0): d=1, negatives 0.5 and 3 → 3.
    // (2,3): d=2.5, negatives 1.5 and 0.5, none beyond → the farthest, 0. (3,2): d=2.5, negatives 4 and 3 → 1.
    expect(tripletList(r.triplets)).toEqual([
      [0, 1, 2],
      [1, 0, 3],
      [2, 3, 0],
      [3, 2, 1],
    ]);
    expect(r.stats).toEqual({ pairs: 4, semiHardPairs: 3 });
  });

  for (const seed of [7, 8, 9]) {
    it(`vs a naive loop over pairs and negatives (seed ${seed})`, () => {
      const { labels, emb } = randomCase(seed, 18, 3, 4);
      const d = distanceTable(emb);
      const naive: Triplet[] = [];
      for (let a = 0; a < labels.length; a++)
        for (let p = 0; p < labels.length; p++) {
          if (p === a || labels[p] !== labels[a]) continue;
          const neg = labels.map((_, j) => j).filter((j) => labels[j] !== labels[a]);
          if (neg.length === 0) continue;
          const beyond = neg.filter((j) => d[a][j] > d[a][p]);
          const n =
            beyond.length > 0
              ? beyond.reduce((b, j) => (d[a][j] < d[a][b] ? j : b))
              : neg.reduce((b, j) => (d[a][j] > d[a][b] ? j : b));
          naive.push([a, p, n]);
        }
      expect(tripletList(semiHardMiner()(miningInput(labels, emb)).triplets)).toEqual(naive);
    });
  }
});

/** Wu et al.'s sampling weight of a negative at unit-sphere distance d in `dim` dimensions. */
function naiveWeight(d: number, dim: number, cutoff = 0.5, nonzero = 1.4): number {
  if (d >= nonzero) return 0;
  const c = Math.max(d, cutoff);
  return c ** (2 - dim) * (1 - 0.25 * c * c) ** (-(dim - 3) / 2);
}

function normalised(e: Emb): Emb {
  return e.map((r) => {
    const norm = Math.hypot(...r);
    return r.map((v) => v / norm);
  });
}

describe('distance-weighted miner', () => {
  it('hand-computed: never draws a negative at or beyond the loss cutoff, or a positive', () => {
    // Unit vectors in 4-D: anchor e1, positive close to it, negatives at 90° (d = √2 ≥ 1.4) and 60° (d = 1).
    const emb = [
      [1, 0, 0, 0],
      [0.99, 0.141, 0, 0],
      [0, 0, 1, 0],
      [0.5, 0, 0, Math.sqrt(0.75)],
    ];
    const labels = [0, 0, 1, 2];
    const r = distanceWeightedMiner()(miningInput(labels, emb, 'euclidean', 3));
    const fromAnchor0 = tripletList(r.triplets).filter(([a]) => a === 0);
    expect(fromAnchor0).toEqual([[0, 1, 3]]);
    expect(r.stats.uniformPairs).toBe(0);
  });

  it('hand-computed: falls back to uniform sampling when every negative is beyond the cutoff', () => {
    const emb = [
      [1, 0],
      [1, 0.01],
      [-1, 0],
      [-1, 0.01],
    ];
    const r = distanceWeightedMiner()(miningInput([0, 0, 1, 1], emb));
    expect(r.stats.pairs).toBe(4);
    expect(r.stats.uniformPairs).toBe(4);
  });

  it('unit-sphere distances of the normalised embeddings, whatever their norms', () => {
    const { emb } = randomCase(10, 6, 5, 2);
    const scaled = emb.map((r, i) => r.map((v) => v * (i + 1)));
    const got = unitSphereDistances(scaled.flat(), 6, 5);
    const want = distanceTable(normalised(emb)).flat();
    want.forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, 10);
    });
  });

  for (const seed of [11, 12]) {
    it(`vs a naive sampler with the same random numbers (seed ${seed})`, () => {
      const { labels, emb } = randomCase(seed, 16, 6, 3);
      const d = distanceTable(normalised(emb));
      const u = rng(99);
      const naive: Triplet[] = [];
      for (let a = 0; a < labels.length; a++) {
        const neg = labels.map((_, j) => j).filter((j) => labels[j] !== labels[a]);
        const pos = labels.map((_, j) => j).filter((j) => j !== a && labels[j] === labels[a]);
        if (neg.length === 0 || pos.length === 0) continue;
        const w = neg.map((j) => naiveWeight(d[a][j], 6));
        const total = w.reduce((s, v) => s + v, 0);
        const probs = total > 0 ? w.map((v) => v / total) : w.map(() => 1 / neg.length);
        for (const p of pos) {
          let target = u();
          let pick = neg.length - 1;
          for (let i = 0; i < neg.length; i++) {
            target -= probs[i];
            if (target < 0) {
              pick = i;
              break;
            }
          }
          naive.push([a, p, neg[pick]]);
        }
      }
      const r = distanceWeightedMiner()({ ...miningInput(labels, emb), rng: rng(99) });
      expect(tripletList(r.triplets)).toEqual(naive);
    });
  }

  it('draws negatives in proportion to 1/q(d) over many batches', () => {
    // One anchor, one positive, three negatives at unit-sphere distances 0.3 (→ weighs as 0.5), 0.8 and 1.2.
    const dim = 8;
    const at = (d: number) => {
      const cos = 1 - (d * d) / 2;
      return [cos, Math.sqrt(1 - cos * cos), 0, 0, 0, 0, 0, 0];
    };
    const emb = [at(0), at(0.05), at(0.3), at(0.8), at(1.2)];
    const labels = [0, 0, 1, 2, 3];
    const miner = distanceWeightedMiner();
    const counts = new Map<number, number>();
    const draws = 4000;
    const u = rng(5);
    for (let i = 0; i < draws; i++) {
      const t = tripletList(miner({ ...miningInput(labels, emb), rng: u }).triplets).find(([a]) => a === 0);
      counts.set(t![2], (counts.get(t![2]) ?? 0) + 1);
    }
    const w = [0.3, 0.8, 1.2].map((d) => naiveWeight(d, dim));
    const total = w.reduce((s, v) => s + v, 0);
    [2, 3, 4].forEach((k, i) => {
      expect((counts.get(k) ?? 0) / draws).toBeCloseTo(w[i] / total, 1);
    });
  });
});
