import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { ExactIndex } from '../../src/index/exactIndex.ts';
import { HnswIndex } from '../../src/index/hnswIndex.ts';
import { writeIndexFile } from '../../src/index/indexFile.ts';
import { TopK } from '../../src/index/topK.ts';
import { clusteredVectors } from './vectors.ts';

const dir = mkdtempSync(join(tmpdir(), 'index-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The slow obvious reference: every distance, sorted. */
function naive(
  vectors: Float32Array[],
  q: ArrayLike<number>,
  k: number,
  keep: (i: number) => boolean = () => true,
) {
  return vectors
    .map((v, i) => ({ label: i, distance: Math.sqrt(v.reduce((s, x, j) => s + (x - q[j]) ** 2, 0)) }))
    .filter((h) => keep(h.label))
    .sort((a, b) => a.distance - b.distance || a.label - b.label)
    .slice(0, k);
}

describe('TopK', () => {
  it('keeps the k smallest, ties by label', () => {
    const t = new TopK(3);
    for (const [d, l] of [
      [5, 1],
      [1, 2],
      [3, 3],
      [1, 0],
      [9, 4],
      [3, 1],
    ])
      t.push(d, l);
    expect(t.distances).toEqual([1, 1, 3]);
    expect(t.labels).toEqual([0, 2, 1]);
  });
});

describe('ExactIndex', () => {
  it('returns euclidean (not squared) distances, hand-computed', () => {
    const idx = new ExactIndex(2, 1);
    idx.add(1, [0, 0], 'a');
    idx.add(2, [3, 4], 'b');
    idx.add(3, [1, 1], 'a');
    expect(idx.search([0, 0], 2)).toEqual([
      { label: 1, distance: 0 },
      { label: 3, distance: Math.SQRT2 },
    ]);
    expect(idx.search([0, 0], 5, { categories: ['b'] })).toEqual([{ label: 2, distance: 5 }]);
    expect(idx.remove(1)).toBe(true);
    expect(idx.remove(1)).toBe(false);
    expect(idx.search([0, 0], 5).map((h) => h.label)).toEqual([3, 2]);
    expect(() => idx.search([0], 1)).toThrow(ValidationError);
    expect(() => idx.search([0, 0], 0)).toThrow(ValidationError);
  });

  it('matches the naive reference on random data', () => {
    const { vectors, categories } = clusteredVectors(500, 8, 5, 3);
    const idx = new ExactIndex(8, 16);
    vectors.forEach((v, i) => {
      idx.add(i, v, categories[i]);
    });
    for (let q = 0; q < 20; q++) {
      const query = vectors[q * 7].map((x) => x + 0.1);
      const got = idx.search(query, 10);
      const want = naive(vectors, query, 10);
      expect(got.map((h) => h.label)).toEqual(want.map((h) => h.label));
      got.forEach((h, i) => {
        expect(h.distance).toBeCloseTo(want[i].distance, 4);
      });
    }
  });
});

describe('HnswIndex', () => {
  const n = 2000;
  const dim = 64;
  const { vectors, categories, gauss } = clusteredVectors(n, dim, 10, 5);
  const build = () => {
    const idx = HnswIndex.create(dim, { M: 16, efConstruction: 100, efSearch: 50 }, 100);
    vectors.forEach((v, i) => {
      idx.add(i, v, categories[i]);
    });
    return idx;
  };
  const hnsw = build();
  const exact = new ExactIndex(dim, n);
  vectors.forEach((v, i) => {
    exact.add(i, v, categories[i]);
  });
  const queries = Array.from({ length: 100 }, (_, q) => vectors[q * 13].map((x) => x + 0.5 * gauss()));

  it('grows past its initial capacity (100) and reaches recall@10 >= 0.98 against exact search', () => {
    expect(hnsw.size).toBe(n);
    let hits = 0;
    for (const q of queries) {
      const want = new Set(exact.search(q, 10).map((h) => h.label));
      const got = hnsw.search(q, 10);
      expect(got).toHaveLength(10);
      for (let i = 1; i < got.length; i++)
        expect(got[i].distance).toBeGreaterThanOrEqual(got[i - 1].distance);
      hits += got.filter((h) => want.has(h.label)).length;
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.98);
  });

  it('returns euclidean distances (hnswlib returns squared ones)', () => {
    const [hit] = hnsw.search(queries[0], 1);
    const d = Math.sqrt(vectors[hit.label].reduce((s, x, j) => s + (x - queries[0][j]) ** 2, 0));
    expect(hit.distance).toBeCloseTo(d, 3);
  });

  it('filtered search returns k matching items when k exist, whatever the query looks like', () => {
    for (const q of queries.slice(0, 30)) {
      for (const cats of [['c3'], ['c0', 'c9']]) {
        const got = hnsw.search(q, 10, { categories: cats });
        expect(got).toHaveLength(10);
        expect(got.every((h) => cats.includes(categories[h.label]))).toBe(true);
        const want = exact.search(q, 10, { categories: cats }).map((h) => h.label);
        expect(got.filter((h) => want.includes(h.label)).length).toBeGreaterThanOrEqual(9);
      }
    }
    expect(hnsw.search(queries[0], 10, { categories: ['nope'] })).toEqual([]);
    expect(hnsw.search(queries[0], 10, { categories: [] })).toHaveLength(10);
  });

  it('returns every item when k exceeds the size, and handles an empty index', () => {
    const small = HnswIndex.create(dim);
    expect(small.search(queries[0], 5)).toEqual([]);
    small.add(7, vectors[0], 'a');
    small.add(8, vectors[1], 'b');
    expect(
      small
        .search(queries[0], 50)
        .map((h) => h.label)
        .sort(),
    ).toEqual([7, 8]);
    expect(small.search(queries[0], 50, { categories: ['b'] }).map((h) => h.label)).toEqual([8]);
  });

  it('makes adds and deletes visible to the next search', () => {
    const idx = build();
    const q = queries[1];
    const before = idx.search(q, 5);
    expect(idx.remove(before[0].label)).toBe(true);
    expect(idx.remove(before[0].label)).toBe(false);
    expect(idx.search(q, 5).map((h) => h.label)).not.toContain(before[0].label);
    expect(idx.size).toBe(n - 1);
    idx.add(50_000, q, 'c1');
    expect(idx.search(q, 1)[0]).toEqual({ label: 50_000, distance: 0 });
    expect(idx.search(q, 1, { categories: ['c1'] })[0].label).toBe(50_000);
    // Re-adding a deleted label brings it back.
    idx.add(before[0].label, vectors[before[0].label], categories[before[0].label]);
    expect(idx.search(q, 6).map((h) => h.label)).toContain(before[0].label);
    expect(idx.size).toBe(n + 1);
  });

  it('still returns k results after most items are deleted', () => {
    const idx = build();
    for (let i = 0; i < n; i++) if (i % 20 !== 0) idx.remove(i);
    expect(idx.size).toBe(100);
    for (const q of queries.slice(0, 10)) {
      const got = idx.search(q, 10);
      expect(got).toHaveLength(10);
      expect(got.every((h) => h.label % 20 === 0)).toBe(true);
    }
  });

  it('saves and loads: the same answers, categories from the catalog, stale labels dropped', () => {
    const path = join(dir, 'hnsw.bin');
    hnsw.save(path);
    const cats = new Map(categories.map((c, i) => [i, c]));
    cats.delete(0);
    const loaded = HnswIndex.load(path, dim, cats, { efSearch: 50 });
    expect(loaded.size).toBe(n - 1);
    expect(loaded.has(0)).toBe(false);
    for (const q of queries.slice(1, 10)) {
      expect(loaded.search(q, 10, { categories: ['c2'] }).every((h) => categories[h.label] === 'c2')).toBe(
        true,
      );
      const a = hnsw.search(q, 10).filter((h) => h.label !== 0);
      const b = loaded.search(q, 10);
      expect(b.slice(0, a.length).map((h) => h.label)).toEqual(a.map((h) => h.label));
    }
    expect(() => HnswIndex.load(path, 32, cats)).toThrow(/dimension 64, expected 32/);
  });

  it('loads files of older builds, which also held one graph per category, from their whole-catalog graph', () => {
    // The older layout: hnswlib's graph of every item, then one of a category's items.
    const graphFile = (name: string, labels: number[]) => {
      const graph = new hnswlib.HierarchicalNSW('l2', dim);
      graph.initIndex(labels.length, 16, 100, 100);
      for (const l of labels) graph.addPoint(Array.from(vectors[l]), l);
      const file = join(dir, name);
      graph.writeIndexSync(file);
      return file;
    };
    const all = vectors.map((_, i) => i);
    const older = join(dir, 'older.bin');
    writeIndexFile(older, dim, [
      { category: null, file: graphFile('whole.graph', all) },
      {
        category: 'c2',
        file: graphFile(
          'c2.graph',
          all.filter((i) => categories[i] === 'c2'),
        ),
      },
    ]);
    const loaded = HnswIndex.load(older, dim, new Map(categories.map((c, i) => [i, c])));
    expect(loaded.size).toBe(n);
    for (const q of queries.slice(0, 5)) {
      expect(loaded.search(q, 10).map((h) => h.label)).toEqual(naive(vectors, q, 10).map((h) => h.label));
    }
  });
});
