import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../../src/catalog/store.ts';
import { createRng } from '../../src/data/random.ts';
import { ExactIndex } from '../../src/index/exactIndex.ts';
import { HnswIndex } from '../../src/index/hnswIndex.ts';
import type { SearchHit } from '../../src/index/vectorIndex.ts';
import { VectorTable } from '../../src/index/vectorTable.ts';
import type { Attributes } from '../../src/search/attributes.ts';
import { compileFilter, parseFilter } from '../../src/search/filter.ts';
import { FilterPlanner, searchCandidates } from '../../src/serving/filteredSearch.ts';
import { ResidentCatalog } from '../../src/serving/residentCatalog.ts';
import type { ServingSet } from '../../src/serving/servedSet.ts';
import { clusteredVectors } from '../index/vectors.ts';

const N = 3000;
const DIM = 64;
const CLUSTERS = 6;
const K = 10;
const BRANDS = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9'];
const COLOURS = ['black', 'white', 'red', 'navy'];

function item(label: number, category: string, attributes: Attributes): CatalogItem {
  return {
    label,
    id: `item-${label}`,
    title: `title ${label}`,
    category,
    source: 'api',
    split: null,
    originalPath: null,
    attributes,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}

/**
 * 3,000 clustered vectors (category c<i % 6>) with seeded attributes: brand,
 * colour and in_stock independent of the vector; the price range rises with
 * the cluster (a filter on it keeps some clusters only).
 */
function fixture() {
  const { vectors, categories, gauss } = clusteredVectors(N, DIM, CLUSTERS, 12);
  const rng = createRng(34);
  const items = new ResidentCatalog();
  const table = new VectorTable(DIM);
  const index = HnswIndex.create(DIM, {}, N);
  const exact = new ExactIndex(DIM, N);
  for (let label = 0; label < N; label++) {
    const cluster = label % CLUSTERS;
    items.put(
      item(label, categories[label], {
        brand: BRANDS[Math.floor(rng() * BRANDS.length)],
        colour: COLOURS[Math.floor(rng() * COLOURS.length)],
        price: Math.round(10 + 20 * cluster + 30 * rng()),
        in_stock: rng() < 0.8,
        sizes: ['S', 'M', 'L'].filter(() => rng() < 0.5),
      }),
    );
    table.set(label, vectors[label]);
    index.add(label, vectors[label], categories[label]);
    exact.add(label, vectors[label], categories[label]);
  }
  // Near, not on, catalog items.
  const queries = Array.from({ length: 100 }, () =>
    Float32Array.from(vectors[Math.floor(rng() * N)], (x) => x + 0.5 * gauss()),
  );
  // searchCandidates reads only `index` and `vectors`.
  const set = { index, vectors: table } as unknown as ServingSet;
  return { items, table, index, exact, set, queries };
}

const f = fixture();

/** The filter's exact answer, computed without the planner. */
function exactFiltered(json: Record<string, unknown>, q: Float32Array, k = K): SearchHit[] {
  const predicate = compileFilter(parseFilter(json));
  return f.exact.search(q, k, { allow: (label) => predicate(f.items.filterable(label)!) });
}

function matchCount(json: Record<string, unknown>): number {
  const predicate = compileFilter(parseFilter(json));
  return f.items.labels().filter((label) => predicate(f.items.filterable(label)!)).length;
}

const FILTERS: Record<string, unknown>[] = [
  { brand: { in: ['b0', 'b1', 'b2', 'b3', 'b4'] } }, // ~50 %
  { brand: 'b0', in_stock: true }, // ~8 %
  { brand: { in: ['b0', 'b1'] }, colour: 'black', sizes: { any: ['M'] } }, // ~2.5 %
  { price: { gte: 100 } }, // the last clusters only
  { category: { in: ['c1', 'c4'] }, colour: { nin: ['red'] } }, // category and attribute together
  { brand: 'b3', colour: 'navy', price: { lt: 20 } }, // a handful: fewer than k
];

describe('FilterPlanner + searchCandidates', () => {
  it('the fixture spans broad to fewer-than-k filters', () => {
    const counts = FILTERS.map(matchCount);
    expect(counts[0]).toBeGreaterThan(1200);
    expect(counts[2]).toBeLessThan(150);
    expect(counts[5]).toBeGreaterThan(0);
    expect(counts[5]).toBeLessThan(K);
  });

  it('equals exact filtered search when the exact scan is taken', () => {
    const planner = new FilterPlanner(f.items);
    for (const json of FILTERS) {
      const plan = planner.plan(parseFilter(json));
      expect(plan.matches!.length).toBe(matchCount(json));
      for (const q of f.queries) {
        // Every filter here has fewer matches than the catalog: N forces the scan.
        expect(searchCandidates(f.set, q, K, plan, N)).toEqual(exactFiltered(json, q));
      }
    }
  });

  it('the HNSW path (exactScanMax 0) keeps recall@10 >= 0.9 and returns min(k, matches) hits', () => {
    const planner = new FilterPlanner(f.items);
    for (const json of FILTERS) {
      const filter = parseFilter(json);
      const predicate = compileFilter(filter);
      const want = Math.min(K, matchCount(json));
      let found = 0;
      let total = 0;
      for (const q of f.queries) {
        const hits = searchCandidates(f.set, q, K, planner.plan(filter), 0);
        expect(hits.length, JSON.stringify(json)).toBe(want);
        for (const h of hits) expect(predicate(f.items.filterable(h.label)!)).toBe(true);
        for (let i = 1; i < hits.length; i++)
          expect(hits[i].distance).toBeGreaterThanOrEqual(hits[i - 1].distance);
        const truth = new Set(exactFiltered(json, q).map((h) => h.label));
        found += hits.filter((h) => truth.has(h.label)).length;
        total += truth.size;
      }
      expect(found / total, JSON.stringify(json)).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('recomputes the cached matches when the resident catalog changes', () => {
    const items = new ResidentCatalog();
    for (let label = 0; label < 50; label++)
      items.put(item(label, 'c0', { brand: label < 5 ? 'Acme' : 'Other' }));
    const planner = new FilterPlanner(items);
    const filter = parseFilter({ brand: 'Acme' });
    const first = planner.plan(filter);
    expect([...first.matches!]).toEqual([0, 1, 2, 3, 4]);
    // Unchanged catalog: the same cached matches.
    expect(planner.plan(parseFilter({ brand: 'Acme' })).matches).toBe(first.matches);

    const version = items.version;
    items.put(item(7, 'c0', { brand: 'Acme' }));
    expect(items.version).not.toBe(version);
    const afterPut = planner.plan(filter);
    expect([...afterPut.matches!]).toEqual([0, 1, 2, 3, 4, 7]);
    expect(afterPut.allow!(7)).toBe(true);

    items.remove(2);
    items.put(item(60, 'c0', { brand: 'Acme' })); // a label beyond the previous largest
    const afterRemove = planner.plan(filter);
    expect([...afterRemove.matches!]).toEqual([0, 1, 3, 4, 7, 60]);
    expect(afterRemove.allow!(2)).toBe(false);
    expect(afterRemove.allow!(60)).toBe(true);
  });

  it('a contradictory filter plans to none and finds nothing', () => {
    const planner = new FilterPlanner(f.items);
    for (const json of [
      { category: { in: ['c0'], nin: ['c0'] } },
      { category: 'c0', brand: 'b1', price: { gte: 50 } }, // c0 prices are 10..40
      { price: { gt: 50, lt: 40 } },
      { category: { exists: false } },
    ]) {
      const plan = planner.plan(parseFilter(json));
      expect(plan.none, JSON.stringify(json)).toBe(true);
      expect(searchCandidates(f.set, f.queries[0], K, plan)).toEqual([]);
      expect(searchCandidates(f.set, f.queries[0], K, plan, 0)).toEqual([]);
    }
  });
});
