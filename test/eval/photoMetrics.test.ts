import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { ValidationError } from '../../src/errors.ts';
import { exactSearch } from '../../src/eval/exactSearch.ts';
import { categoryPrecision, exactItemHits, meanByClass } from '../../src/eval/photoMetrics.ts';

describe('photo metrics on hand-computed cases', () => {
  // Three queries, k = 4 ranked gallery indices each; targets 7, 2, 9.
  const indices = new Int32Array([...[3, 7, 1, 0], ...[2, 5, 6, 4], ...[1, 3, 5, 8]]);
  const targets = [7, 2, 9];

  it('exact-item hits at k and at 1', () => {
    expect([...exactItemHits(indices, 4, targets)]).toEqual([1, 1, 0]);
    expect([...exactItemHits(indices, 4, targets, 1)]).toEqual([0, 1, 0]);
    expect([...exactItemHits(indices, 4, targets, 2)]).toEqual([1, 1, 0]);
  });

  it('category precision of the first k labels', () => {
    const labels = new Uint8Array([...[0, 0, 1, 0, 2], ...[1, 1, 1, 1, 1], ...[2, 0, 0, 0, 2]]);
    const p = categoryPrecision(labels, 5, [0, 1, 2], 4);
    expect([...p]).toEqual([3 / 4, 1, 1 / 4]);
    expect([...categoryPrecision(labels, 5, [0, 1, 2], 5)]).toEqual([3 / 5, 1, 2 / 5]);
  });

  it('means overall and per class, NaN for a class without queries', () => {
    const m = meanByClass([1, 0, 0.5, 1], [0, 0, 2, 2], 3);
    expect(m.overall).toBe(2.5 / 4);
    expect(m.perClass[0]).toBe(0.5);
    expect(m.perClass[1]).toBeNaN();
    expect(m.perClass[2]).toBe(0.75);
  });

  it('rejects inconsistent shapes', () => {
    expect(() => exactItemHits(indices, 5, targets)).toThrow(ValidationError);
    expect(() => exactItemHits(indices, 4, targets, 5)).toThrow(ValidationError);
    expect(() => categoryPrecision(new Uint8Array(10), 5, [0, 1], 6)).toThrow(ValidationError);
    expect(() => meanByClass([1], [3], 3)).toThrow(ValidationError);
  });
});

describe('photo metrics against a naive reference', () => {
  // Random "clean" vectors, "photos" = clean + noise; a naive sort of all distances is the reference.
  const rng = createRng(5);
  const dim = 8;
  const n = 60;
  const clean = Float32Array.from({ length: n * dim }, () => rng());
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
  const items = [4, 17, 23, 40, 59, 0, 31];
  const photos = new Float32Array(items.length * dim);
  items.forEach((j, i) => {
    for (let d = 0; d < dim; d++) photos[i * dim + d] = clean[j * dim + d] + 0.15 * (rng() - 0.5);
  });
  const naiveRanking = (q: number) =>
    Array.from({ length: n }, (_, g) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += (photos[q * dim + d] - clean[g * dim + d]) ** 2;
      return { g, s };
    })
      .sort((a, b) => a.s - b.s || a.g - b.g)
      .map((x) => x.g);

  it('recall@k and precision@k equal counting on a full sort', async () => {
    const k = 10;
    const r = await exactSearch(photos, clean, dim, { k, galleryLabels: labels, labelDepth: k, workers: 0 });
    const queryLabels = items.map((j) => labels[j]);
    for (const atK of [1, 3, 10]) {
      const hits = exactItemHits(r.indices, k, items, atK);
      items.forEach((j, q) => {
        expect(hits[q]).toBe(naiveRanking(q).slice(0, atK).includes(j) ? 1 : 0);
      });
    }
    const p = categoryPrecision(r.labels!, k, queryLabels, k);
    items.forEach((_, q) => {
      const same = naiveRanking(q)
        .slice(0, k)
        .filter((g) => labels[g] === queryLabels[q]).length;
      expect(p[q]).toBeCloseTo(same / k, 12);
    });
    const naiveRecall = items.filter((j, q) => naiveRanking(q).slice(0, k).includes(j)).length / items.length;
    expect(meanByClass(exactItemHits(r.indices, k, items), queryLabels, 3).overall).toBeCloseTo(
      naiveRecall,
      12,
    );
  });
});
