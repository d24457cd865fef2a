import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { type MmrCandidate, mmr } from '../../src/search/mmr.ts';
import { expectValidationError } from './expectError.ts';

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}

function candidates(points: number[][], query: number[]): MmrCandidate[] {
  return points.map((v, label) => ({ label, distance: dist(v, query), vector: v }));
}

/** The formula of mmr.ts written out naively: every similarity recomputed at every step, O(n²k). */
function naiveMmr(cands: readonly MmrCandidate[], k: number, lambda: number): MmrCandidate[] {
  if (lambda === 0)
    return [...cands].sort((a, b) => a.distance - b.distance || a.label - b.label).slice(0, k);
  const D = 2 * Math.max(...cands.map((c) => c.distance)) || 1;
  const selected: MmrCandidate[] = [];
  const remaining = [...cands];
  while (selected.length < Math.min(k, cands.length)) {
    let best: MmrCandidate | undefined;
    let bestScore = 0;
    for (const c of remaining) {
      let score: number;
      if (selected.length === 0) {
        score = -c.distance; // the nearest comes first
      } else {
        let maxSim = Number.NEGATIVE_INFINITY;
        for (const s of selected) maxSim = Math.max(maxSim, 1 - dist(c.vector, s.vector) / D);
        score = (1 - lambda) * (1 - c.distance / D) - lambda * maxSim;
      }
      const better =
        best === undefined ||
        score > bestScore ||
        (score === bestScore &&
          (c.distance < best.distance || (c.distance === best.distance && c.label < best.label)));
      if (better) {
        best = c;
        bestScore = score;
      }
    }
    selected.push(best!);
    remaining.splice(remaining.indexOf(best!), 1);
  }
  return selected;
}

const labels = (cs: readonly { label: number }[]) => cs.map((c) => c.label);

describe('mmr', () => {
  // Query at the origin; A = (1, 0), B = (1.1, 0) (a near-duplicate of A), C = (0, -2).
  // D = 2·2 = 4; rel: A 0.75, B 0.725, C 0.5. After A: sim(B, A) = 1 − 0.1/4 = 0.975,
  // sim(C, A) = 1 − √5/4 ≈ 0.4410.
  const small = candidates(
    [
      [1, 0],
      [1.1, 0],
      [0, -2],
    ],
    [0, 0],
  );

  it('λ = 0 is the plain ranking by distance, ties by label', () => {
    expect(labels(mmr(small, 3, 0))).toEqual([0, 1, 2]);
    const tied = [
      { label: 5, distance: 1, vector: [1] },
      { label: 2, distance: 1, vector: [-1] },
      { label: 9, distance: 0.5, vector: [0.5] },
    ];
    expect(labels(mmr(tied, 3, 0))).toEqual([9, 2, 5]);
    expect(labels(mmr(tied, 2, 0))).toEqual([9, 2]);
  });

  it('hand-computed: λ = 0.5 skips the near-duplicate', () => {
    // B: 0.5·0.725 − 0.5·0.975 = −0.125;  C: 0.5·0.5 − 0.5·0.4410 = 0.0295  → C, then B
    expect(labels(mmr(small, 3, 0.5))).toEqual([0, 2, 1]);
    expect(labels(mmr(small, 2, 0.5))).toEqual([0, 2]);
  });

  it('hand-computed: λ = 0.1 keeps relevance first', () => {
    // B: 0.9·0.725 − 0.1·0.975 = 0.555;  C: 0.9·0.5 − 0.1·0.4410 = 0.4059  → B, then C
    expect(labels(mmr(small, 3, 0.1))).toEqual([0, 1, 2]);
  });

  it('hand-computed: the switch-over λ where C overtakes B', () => {
    // B − C = (1 − λ)·0.225 − λ·(0.975 − 0.4410) = 0.225 − 0.759·λ: C wins for λ > 0.2964
    const sC = 1 - Math.sqrt(5) / 4;
    const lambdaStar = 0.225 / (0.225 + 0.975 - sC);
    expect(lambdaStar).toBeCloseTo(0.2964, 4);
    expect(labels(mmr(small, 2, lambdaStar - 1e-6))).toEqual([0, 1]);
    expect(labels(mmr(small, 2, lambdaStar + 1e-6))).toEqual([0, 2]);
  });

  it('λ = 1: the nearest first, then farthest-point sampling', () => {
    const line = candidates([[1], [2], [3], [4], [10]], [0]);
    // 1 first; then the farthest from it, 10; then min distance to {1, 10}: 2 → 1, 3 → 2, 4 → 3: 4;
    // then to {1, 4, 10}: 2 → 1, 3 → 1, a tie that goes to the nearer, 2; then 3.
    expect(labels(mmr(line, 5, 1))).toEqual([0, 4, 3, 1, 2]);
  });

  it('ties go to the nearer candidate, then the lower label', () => {
    // Symmetric points: after the nearest, the two mirror images score exactly the same.
    const sym = [
      { label: 7, distance: 0, vector: [0, 0] },
      { label: 4, distance: 1, vector: [0, 1] },
      { label: 3, distance: 1, vector: [0, -1] },
    ];
    expect(labels(mmr(sym, 3, 0.5))).toEqual([7, 3, 4]);
    const sameScore = [
      { label: 1, distance: 0, vector: [0] },
      { label: 2, distance: 2, vector: [2] },
      { label: 0, distance: 2, vector: [-2] },
    ];
    expect(labels(mmr(sameScore, 3, 1))).toEqual([1, 0, 2]);
  });

  it('returns min(k, n) candidates, the same objects, in selection order', () => {
    expect(mmr(small, 10, 0.5)).toHaveLength(3);
    expect(mmr(small, 0, 0.5)).toEqual([]);
    expect(mmr([], 5, 0.5)).toEqual([]);
    expect(mmr(small, 3, 0.5)[1]).toBe(small[2]);
    const one = [{ label: 1, distance: 0, vector: [0, 0] }];
    expect(mmr(one, 3, 1)).toEqual(one); // all distances 0: D falls back to 1
  });

  it('a cluster of near-duplicates contributes one result', () => {
    const rng = createRng(7);
    const points: number[][] = [];
    for (let i = 0; i < 5; i++) points.push([1 + rng() * 0.01, rng() * 0.01]); // near-duplicates at ~1
    for (let i = 0; i < 5; i++) {
      const a = (i + 1) * 1.2;
      points.push([1.5 * Math.cos(a), 1.5 * Math.sin(a)]); // spread out at 1.5
    }
    const cs = candidates(points, [0, 0]);
    expect(labels(mmr(cs, 5, 0)).every((l) => l < 5)).toBe(true);
    const diverse = labels(mmr(cs, 5, 0.5));
    expect(diverse.filter((l) => l < 5)).toHaveLength(1);
  });

  it('does not depend on the scale of the space', () => {
    const rng = createRng(3);
    const points = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => rng() * 2 - 1));
    const q = Array.from({ length: 6 }, () => rng());
    for (const lambda of [0.3, 0.7]) {
      const a = labels(mmr(candidates(points, q), 12, lambda));
      // powers of two scale exactly in floating point
      const scaled = candidates(
        points.map((p) => p.map((x) => x * 8)),
        q.map((x) => x * 8),
      );
      expect(labels(mmr(scaled, 12, lambda))).toEqual(a);
    }
  });

  it('matches the naive reference on random data', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rng = createRng(seed);
      const dim = 2 + (seed % 7);
      const n = 10 + Math.floor(rng() * 70);
      const points = Array.from({ length: n }, () => Array.from({ length: dim }, () => rng() * 2 - 1));
      const q = Array.from({ length: dim }, () => rng() - 0.5);
      const cs = candidates(points, q);
      // shuffle the labels so the order of the input is not the distance order
      for (const c of cs) c.label = (c.label * 7919 + seed) % 100_003;
      for (const lambda of [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]) {
        const k = 1 + Math.floor(rng() * n);
        expect(labels(mmr(cs, k, lambda)), `seed ${seed} λ ${lambda} k ${k}`).toEqual(
          labels(naiveMmr(cs, k, lambda)),
        );
      }
    }
  });

  it('matches the reference on Float32Array vectors with duplicates and equal distances', () => {
    const rng = createRng(99);
    const base = Array.from({ length: 8 }, () =>
      Float32Array.from({ length: 4 }, () => Math.round(rng() * 4)),
    );
    const vectors = [...base, ...base.slice(0, 4)]; // exact duplicates
    const cs = vectors.map((v, label) => ({ label, distance: dist(v, [0, 0, 0, 0]), vector: v }));
    for (const lambda of [0.2, 0.5, 1]) {
      expect(labels(mmr(cs, cs.length, lambda))).toEqual(labels(naiveMmr(cs, cs.length, lambda)));
    }
  });

  it('shorter results are prefixes of longer ones', () => {
    const rng = createRng(5);
    const points = Array.from({ length: 60 }, () => Array.from({ length: 5 }, () => rng()));
    const cs = candidates(points, [0.5, 0.5, 0.5, 0.5, 0.5]);
    const full = labels(mmr(cs, 60, 0.6));
    for (const k of [1, 5, 17, 59]) expect(labels(mmr(cs, k, 0.6))).toEqual(full.slice(0, k));
  });

  it('validates diversity and k', () => {
    for (const d of [-0.1, 1.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectValidationError(
        () => mmr(small, 3, d),
        'INVALID_DIVERSITY',
        'diversity must be a number between 0 and 1',
      );
    }
    for (const k of [-1, 1.5, Number.NaN]) {
      expectValidationError(() => mmr(small, k, 0.5), 'INVALID_K', 'k must be an integer ≥ 0');
    }
    expectValidationError(
      () =>
        mmr(
          [
            { label: 0, distance: 0, vector: [0, 0] },
            { label: 1, distance: 1, vector: [1] },
          ],
          2,
          0.5,
        ),
      'DIMENSION_MISMATCH',
      'vector has 1 dimensions, expected 2',
    );
  });
});
