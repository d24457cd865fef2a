import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { ValidationError } from '../../src/errors.ts';
import { classCounts, knnVote, requiredDepth, retrievalMetrics } from '../../src/eval/metrics.ts';

describe('retrievalMetrics on hand-computed cases', () => {
  // Gallery: 4 items of class 0, 8 of class 1. Each query ranks all 12.
  const counts = [4, 8];
  const ranked = new Uint8Array([
    ...[0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1], // query of class 0, R = 4
    ...[0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], // query of class 1, R = 8
  ]);
  const m = retrievalMetrics({
    labels: ranked,
    depth: 12,
    queryLabels: new Uint8Array([0, 1]),
    galleryClassCounts: counts,
    leaveOneOut: false,
  });
  // Class 0: rel at ranks 1, 3, 6, 10. P@10 = 4/10; R-Precision = 2/4; MAP@R = (1 + 2/3) / 4;
  // kNN: 4 votes for 0, 6 for 1, so 1 (wrong).
  const map0 = (1 + 2 / 3) / 4;
  // Class 1: rel at ranks 3..10. P@10 = 8/10; R-Precision = 6/8; MAP@R = (1/3+2/4+3/5+4/6+5/7+6/8) / 8.
  const map1 = (1 / 3 + 2 / 4 + 3 / 5 + 4 / 6 + 5 / 7 + 6 / 8) / 8;

  it('per class', () => {
    expect(m.perClass[0]).toEqual({
      queries: 1,
      precisionAt1: 1,
      precisionAt10: 0.4,
      rPrecision: 0.5,
      mapAtR: expect.closeTo(map0, 12),
      knnAccuracy: 0,
    });
    expect(m.perClass[1]).toEqual({
      queries: 1,
      precisionAt1: 0,
      precisionAt10: 0.8,
      rPrecision: 0.75,
      mapAtR: expect.closeTo(map1, 12),
      knnAccuracy: 1,
    });
  });

  it('overall is the mean over queries', () => {
    expect(m.overall.queries).toBe(2);
    expect(m.overall.precisionAt1).toBe(0.5);
    expect(m.overall.precisionAt10).toBeCloseTo(0.6, 12);
    expect(m.overall.rPrecision).toBeCloseTo(0.625, 12);
    expect(m.overall.mapAtR).toBeCloseTo((map0 + map1) / 2, 12);
    expect(m.overall.knnAccuracy).toBe(0.5);
  });

  it('confusion counts the class of the nearest neighbour', () => {
    expect(m.confusion).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('perfect ranking scores 1 everywhere', () => {
    const perfect = retrievalMetrics({
      labels: new Uint8Array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]),
      depth: 12,
      queryLabels: new Uint8Array([0]),
      galleryClassCounts: counts,
      leaveOneOut: false,
    });
    expect(perfect.overall).toMatchObject({ precisionAt1: 1, rPrecision: 1, mapAtR: 1, precisionAt10: 0.4 });
  });

  it('leave-one-out lowers R by one and drops queries that are alone in their class', () => {
    // Gallery = queries: class 0 has 3 items (R = 2), class 2 has 1 (R = 0, excluded).
    const loo = retrievalMetrics({
      labels: new Uint8Array([
        ...[1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1], // class 0: rel at 2 (within R=2) and 8
        ...[2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], // class 2 alone: excluded
      ]),
      depth: 11,
      queryLabels: new Uint8Array([0, 2]),
      galleryClassCounts: [3, 8, 1],
      leaveOneOut: true,
    });
    expect(loo.excludedQueries).toBe(1);
    expect(loo.overall.queries).toBe(1);
    expect(loo.overall.rPrecision).toBe(0.5);
    expect(loo.overall.mapAtR).toBeCloseTo(0.25, 12); // (1/2 * 1/2)
    expect(loo.overall.precisionAt10).toBeCloseTo(0.2, 12);
    expect(loo.perClass[2].queries).toBe(0);
  });

  it('rejects too few ranked labels for R', () => {
    expect(() =>
      retrievalMetrics({
        labels: new Uint8Array(10),
        depth: 10,
        queryLabels: new Uint8Array([0]),
        galleryClassCounts: [20, 5],
        leaveOneOut: false,
      }),
    ).toThrow(ValidationError);
  });
});

describe('knnVote', () => {
  it('takes the majority', () => {
    expect(knnVote([1, 0, 0, 2, 0, 1, 1, 0, 2, 2], 0, 10, 3)).toBe(0);
  });
  it('breaks a tie toward the class with the nearest member', () => {
    // 0 and 1 both have 4 votes; a 1 is ranked first.
    expect(knnVote([1, 0, 0, 1, 1, 0, 1, 0, 2, 2], 0, 10, 3)).toBe(1);
    expect(knnVote([2, 0, 1, 0, 1, 2, 3, 3, 4, 4], 0, 10, 5)).toBe(2);
  });
  it('with k = 1 is the nearest class', () => {
    expect(knnVote([3, 1, 1], 0, 1, 4)).toBe(3);
  });
});

describe('helpers', () => {
  it('classCounts and requiredDepth', () => {
    const c = classCounts(new Uint8Array([0, 2, 2, 1, 2]), 3);
    expect(c).toEqual([1, 1, 3]);
    expect(requiredDepth([6000, 5999], false)).toBe(6000);
    expect(requiredDepth([1000, 1000], true)).toBe(999);
    expect(requiredDepth([3, 4], true)).toBe(10);
    expect(() => classCounts(new Uint8Array([5]), 3)).toThrow(ValidationError);
  });
});

/** Naive reference written straight from the paper's definitions, on explicit label lists. */
function naive(ranked: number[][], queryLabels: number[], counts: number[], leaveOneOut: boolean) {
  let p1 = 0;
  let p10 = 0;
  let rp = 0;
  let map = 0;
  let knn = 0;
  let n = 0;
  ranked.forEach((row, q) => {
    const y = queryLabels[q];
    const R = counts[y] - (leaveOneOut ? 1 : 0);
    if (R === 0) return;
    n++;
    const rel = row.map((l): number => (l === y ? 1 : 0));
    p1 += rel[0];
    p10 += rel.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
    rp += rel.slice(0, R).reduce((a, b) => a + b, 0) / R;
    let ap = 0;
    for (let i = 1; i <= R; i++) {
      const precisionAtI = rel.slice(0, i).reduce((a, b) => a + b, 0) / i;
      ap += precisionAtI * rel[i - 1];
    }
    map += ap / R;
    const top = row.slice(0, 10);
    const votes = new Map<number, number>();
    for (const l of top) votes.set(l, (votes.get(l) ?? 0) + 1);
    const max = Math.max(...votes.values());
    const predicted = top.find((l) => votes.get(l) === max);
    knn += predicted === y ? 1 : 0;
  });
  return { p1: p1 / n, p10: p10 / n, rp: rp / n, map: map / n, knn: knn / n };
}

describe('retrievalMetrics vs a naive reference on random rankings', () => {
  for (const leaveOneOut of [false, true]) {
    it(`leaveOneOut=${leaveOneOut}`, () => {
      const rng = createRng(7);
      const numClasses = 4;
      const galleryLabels = Array.from({ length: 60 }, () => Math.floor(rng() * numClasses));
      const counts = classCounts(new Uint8Array(galleryLabels), numClasses);
      const queryCount = 40;
      const queryLabels: number[] = [];
      const rows: number[][] = [];
      for (let q = 0; q < queryCount; q++) {
        // Under leave-one-out the query is one of the gallery items and is removed from its own ranking.
        const own = leaveOneOut ? q : -1;
        const pool = galleryLabels.filter((_, i) => i !== own);
        const row = pool
          .map((l) => ({ l, key: rng() + (l === galleryLabels[q % 60] ? -0.3 : 0) }))
          .sort((a, b) => a.key - b.key)
          .map((e) => e.l);
        rows.push(row);
        queryLabels.push(leaveOneOut ? galleryLabels[q] : Math.floor(rng() * numClasses));
      }
      const depth = rows[0].length;
      const m = retrievalMetrics({
        labels: new Uint8Array(rows.flat()),
        depth,
        queryLabels: new Uint8Array(queryLabels),
        galleryClassCounts: counts,
        leaveOneOut,
      });
      const ref = naive(rows, queryLabels, counts, leaveOneOut);
      expect(m.overall.precisionAt1).toBeCloseTo(ref.p1, 12);
      expect(m.overall.precisionAt10).toBeCloseTo(ref.p10, 12);
      expect(m.overall.rPrecision).toBeCloseTo(ref.rp, 12);
      expect(m.overall.mapAtR).toBeCloseTo(ref.map, 12);
      expect(m.overall.knnAccuracy).toBeCloseTo(ref.knn, 12);
      const confusionTotal = m.confusion.flat().reduce((a, b) => a + b, 0);
      expect(confusionTotal).toBe(m.overall.queries);
    });
  }
});
