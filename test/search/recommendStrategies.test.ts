import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import {
  averageVector,
  bestScore,
  centroid,
  DEFAULT_NEGATIVE_WEIGHT,
  rankBestScore,
  similarity,
} from '../../src/search/recommendStrategies.ts';
import { expectValidationError } from './expectError.ts';

describe('average_vector', () => {
  it('centroid is the mean', () => {
    expect([...centroid([[1, 2], Float32Array.of(3, 6)])]).toEqual([2, 4]);
    expectValidationError(() => centroid([]), 'NO_EXAMPLES', 'no vectors to average');
  });

  it('q = p + w·(p − n), hand-computed', () => {
    // p = (2, 0), n = (0, 2): q = (2, 0) + 0.5·(2, −2) = (3, −1)
    const positives = [
      [1, 0],
      [3, 0],
    ];
    const negatives = [[0, 2]];
    expect(DEFAULT_NEGATIVE_WEIGHT).toBe(0.5);
    expect([...averageVector(positives, negatives)]).toEqual([3, -1]);
    expect([...averageVector(positives, negatives, 1)]).toEqual([4, -2]);
    expect([...averageVector(positives, negatives, 0)]).toEqual([2, 0]);
    expect([...averageVector(positives, [])]).toEqual([2, 0]);
    expect([...averageVector(positives)]).toEqual([2, 0]);
    // two negatives: n = (0, 1); q = (2, 0) + 0.5·(2, −1) = (3, −0.5)
    expect([
      ...averageVector(positives, [
        [0, 2],
        [0, 0],
      ]),
    ]).toEqual([3, -0.5]);
  });

  it('returns a Float32Array of the examples dimension', () => {
    const q = averageVector([Float32Array.of(0.1, 0.2, 0.3)], [Float32Array.of(0.3, 0.2, 0.1)]);
    expect(q).toBeInstanceOf(Float32Array);
    expect(q[0]).toBeCloseTo(0.0, 6);
    expect(q[1]).toBeCloseTo(0.2, 6);
    expect(q[2]).toBeCloseTo(0.4, 6);
  });

  it('refuses no positives, mismatched dimensions and a bad weight', () => {
    expectValidationError(
      () => averageVector([], [[1, 2]]),
      'NO_POSITIVE_EXAMPLES',
      'average_vector needs at least one positive example',
    );
    expectValidationError(
      () => averageVector([[1, 2], [1]]),
      'DIMENSION_MISMATCH',
      'vector has 1 dimensions, expected 2',
    );
    expectValidationError(
      () => averageVector([[1, 2]], [[1, 2, 3]]),
      'DIMENSION_MISMATCH',
      'vector has 3 dimensions, expected 2',
    );
    expectValidationError(
      () => averageVector([[1]], [[0]], Number.NaN),
      'INVALID_WEIGHT',
      'weight must be a finite number',
    );
  });
});

describe('best_score', () => {
  it('similarity is 1 / (1 + d)', () => {
    expect(similarity(0)).toBe(1);
    expect(similarity(1)).toBe(0.5);
    expect(similarity(3)).toBe(0.25);
  });

  it('hand-computed scores', () => {
    // candidate (0, 0): positive (3, 4) at 5 → 1/6; negative (1, 0) at 1 → 1/2: negative wins → −1/2
    expect(bestScore([0, 0], [[3, 4]], [[1, 0]])).toBe(-0.5);
    // candidate (3, 3): positive at 1 → 1/2; negative at √13 → 1/(1+√13): positive wins → 1/2
    expect(bestScore([3, 3], [[3, 4]], [[1, 0]])).toBe(0.5);
    // the best positive counts: (0, 0) is 1 from (0, 1) → 1/2
    expect(
      bestScore(
        [0, 0],
        [
          [3, 4],
          [0, 1],
        ],
        [[2, 0]],
      ),
    ).toBe(0.5);
    // the best negative counts: nearest negative (0, −0.5) → −1/1.5
    expect(
      bestScore(
        [0, 0],
        [[0, 1]],
        [
          [5, 0],
          [0, -0.5],
        ],
      ),
    ).toBeCloseTo(-1 / 1.5, 15);
    // equally near a positive and a negative: not better, so the negative branch
    expect(bestScore([0, 0], [[0, 2]], [[2, 0]])).toBe(-1 / 3);
  });

  it('positives alone, negatives alone', () => {
    expect(bestScore([0, 0], [[0, 3]])).toBe(0.25);
    expect(bestScore([0, 0], [[0, 3]], [])).toBe(0.25);
    expect(bestScore([0, 0], [], [[0, 1]])).toBe(-0.5);
    expectValidationError(
      () => bestScore([0, 0], [], []),
      'NO_EXAMPLES',
      'best_score needs at least one example',
    );
  });

  it('ranks positive-winners first, by closeness; then the rest, farthest from the negatives first', () => {
    // 1-D: positive at 0, negative at 10. Candidates at 1, 2, 6, 9, 12 (labels = positions):
    //  1: P 1/2 > N 1/10 → 1/2    2: P 1/3 > N 1/9 → 1/3
    //  6: P 1/7 < N 1/5 → −1/5    9: P 1/10 < N 1/2 → −1/2    12: P 1/13 < N 1/3 → −1/3
    const candidates = [12, 9, 6, 2, 1].map((x) => ({ label: x, vector: [x] }));
    const ranked = rankBestScore(candidates, [[0]], [[10]], 10);
    expect(ranked.map((c) => c.label)).toEqual([1, 2, 6, 12, 9]);
    expect(ranked.map((c) => c.score)).toEqual([1 / 2, 1 / 3, -1 / 5, -1 / 3, -1 / 2]);
    expect(rankBestScore(candidates, [[0]], [[10]], 2).map((c) => c.label)).toEqual([1, 2]);
    expect(rankBestScore(candidates, [[0]], [[10]], 0)).toEqual([]);
  });

  it('keeps the candidates fields, scores duplicates once, breaks ties by label', () => {
    const candidates = [
      { label: 5, vector: [1], id: 'e' },
      { label: 3, vector: [-1], id: 'c' },
      { label: 5, vector: [1], id: 'e' },
    ];
    const ranked = rankBestScore(candidates, [[0]], [], 10);
    expect(ranked).toEqual([
      { label: 3, vector: [-1], id: 'c', score: 0.5 },
      { label: 5, vector: [1], id: 'e', score: 0.5 },
    ]);
  });

  it('the order does not change with the scale of the space', () => {
    const rng = createRng(17);
    const vec = () => Array.from({ length: 5 }, () => rng() * 2 - 1);
    const positives = [vec(), vec()];
    const negatives = [vec(), vec(), vec()];
    const candidates = Array.from({ length: 50 }, (_, label) => ({ label, vector: vec() }));
    const scale = (v: number[]) => v.map((x) => x * 16);
    const order = rankBestScore(candidates, positives, negatives, 50).map((c) => c.label);
    const scaled = rankBestScore(
      candidates.map((c) => ({ label: c.label, vector: scale(c.vector) })),
      positives.map(scale),
      negatives.map(scale),
      50,
    ).map((c) => c.label);
    expect(scaled).toEqual(order);
  });

  it('matches the distance-only description on random data', () => {
    const rng = createRng(23);
    const vec = () => Array.from({ length: 4 }, () => rng());
    const d = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0));
    for (let trial = 0; trial < 20; trial++) {
      const positives = [vec(), vec()];
      const negatives = [vec()];
      const c = vec();
      const dp = Math.min(...positives.map((p) => d(c, p)));
      const dn = Math.min(...negatives.map((n) => d(c, n)));
      const score = bestScore(c, positives, negatives);
      if (dp < dn) expect(score).toBeCloseTo(1 / (1 + dp), 12);
      else expect(score).toBeCloseTo(-1 / (1 + dn), 12);
    }
  });
});
