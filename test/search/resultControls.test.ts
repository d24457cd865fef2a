import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import type { Attributes, AttributeValue } from '../../src/search/attributes.ts';
import { mmr } from '../../src/search/mmr.ts';
import {
  applyResultControls,
  type ControlAccess,
  candidateCount,
  checkResultControls,
  DIVERSITY_BLOCK,
  diversityPoolSize,
  groupValueOf,
  limitGroups,
  MAX_CANDIDATES,
  nextCandidateCount,
  page,
  type ResultControls,
  withinDistance,
} from '../../src/search/resultControls.ts';
import { expectValidationError } from './expectError.ts';

interface Hit {
  label: number;
  distance: number;
  vector: number[];
  category: string;
  attributes: Attributes;
}

const access: ControlAccess<Hit> = { groupValue: groupValueOf, vector: (h) => h.vector };

function hit(label: number, distance: number, attributes: Attributes = {}, vector = [distance]): Hit {
  return { label, distance, vector, category: label % 2 ? 'Odd' : 'Even', attributes };
}

const labels = (hs: readonly { label: number }[]) => hs.map((h) => h.label);

/** A random catalog ranked by exact distance to one query: the index's candidate list. */
function rankedCatalog(seed: number, n: number): Hit[] {
  const rng = createRng(seed);
  const brands = ['Acme', 'Bolt', 'Cora', 'Dune', 'Echo', 'Fable', 'Gale'];
  const q = [0.5, 0.5, 0.5, 0.5];
  return Array.from({ length: n }, (_, label) => {
    const vector = Array.from({ length: 4 }, () => rng());
    const attributes: Attributes = {};
    if (rng() < 0.9) attributes.brand = brands[Math.floor(rng() ** 2 * brands.length)]; // skewed
    if (rng() < 0.5) attributes.sizes = ['S', 'M', 'L'].filter(() => rng() < 0.5);
    const distance = Math.sqrt(vector.reduce((s, x, j) => s + (x - q[j]) ** 2, 0));
    return { label, distance, vector, category: label % 3 ? 'A' : 'B', attributes };
  }).sort((a, b) => a.distance - b.distance || a.label - b.label);
}

/** The serving loop: fetch candidateCount, run the controls, fetch more while they fall short. */
function search(ranking: readonly Hit[], controls: ResultControls, exclude?: ReadonlySet<number>): Hit[] {
  let asked = candidateCount(controls, { available: ranking.length, exclude: exclude?.size });
  for (;;) {
    const candidates = ranking.slice(0, asked);
    const result = applyResultControls(candidates, controls, access, exclude);
    const next = nextCandidateCount(asked, ranking.length);
    if (!result.shortOfCandidates || candidates.length < asked || next === undefined) return result.hits;
    asked = next;
  }
}

describe('checkResultControls', () => {
  const bad = (c: ResultControls, message: string, code = 'INVALID_RESULT_CONTROLS') =>
    expectValidationError(() => checkResultControls(c), code, message);

  it('fills the defaults', () => {
    expect(checkResultControls({ k: 5 })).toEqual({
      k: 5,
      offset: 0,
      maxDistance: undefined,
      groupBy: undefined,
      groupSize: 1,
      diversity: 0,
    });
    expect(
      checkResultControls({ k: 5, groupBy: 'category', groupSize: 3, diversity: 1, maxDistance: 0 }),
    ).toEqual({ k: 5, offset: 0, maxDistance: 0, groupBy: 'category', groupSize: 3, diversity: 1 });
  });

  it('names the offending parameter', () => {
    bad({ k: 0 }, 'k must be an integer ≥ 1');
    bad({ k: 2.5 }, 'k must be an integer ≥ 1');
    bad({ k: 5, offset: -1 }, 'offset must be an integer ≥ 0');
    bad({ k: 5, offset: 1.5 }, 'offset must be an integer ≥ 0');
    bad({ k: 5, maxDistance: -0.1 }, 'max_distance must be a finite number ≥ 0');
    bad({ k: 5, maxDistance: Number.NaN }, 'max_distance must be a finite number ≥ 0');
    bad({ k: 5, maxDistance: Number.POSITIVE_INFINITY }, 'max_distance must be a finite number ≥ 0');
    bad({ k: 5, groupSize: 2 }, 'group_size needs group_by');
    bad({ k: 5, groupBy: 'brand', groupSize: 0 }, 'group_size must be an integer ≥ 1');
    bad(
      { k: 5, groupBy: 'bad key' },
      "group_by: invalid key 'bad key' (1..64 characters of A-Z a-z 0-9 _ . -)",
    );
    bad({ k: 5, diversity: 1.5 }, 'diversity must be a number between 0 and 1', 'INVALID_DIVERSITY');
  });
});

describe('the single controls', () => {
  it('withinDistance keeps distance ≤ max_distance, in order', () => {
    const hs = [hit(1, 0.1), hit(2, 0.5), hit(3, 0.5), hit(4, 0.9)];
    expect(labels(withinDistance(hs, 0.5))).toEqual([1, 2, 3]);
    expect(labels(withinDistance(hs, 0))).toEqual([]);
    expect(labels(withinDistance(hs))).toEqual([1, 2, 3, 4]);
  });

  it('limitGroups keeps at most group_size per value, nearest first', () => {
    const hs = [
      hit(1, 0.1, { brand: 'A' }),
      hit(2, 0.2, { brand: 'A' }),
      hit(3, 0.3, { brand: 'B' }),
      hit(4, 0.4, { brand: 'A' }),
      hit(5, 0.5, {}),
      hit(6, 0.6, {}),
      hit(7, 0.7, { brand: 'B' }),
      hit(8, 0.8, { brand: 'C' }),
    ];
    const by = (h: Hit) => groupValueOf(h, 'brand');
    expect(labels(limitGroups(hs, 1, by))).toEqual([1, 3, 5, 6, 8]); // items without a brand are their own groups
    expect(labels(limitGroups(hs, 2, by))).toEqual([1, 2, 3, 5, 6, 7, 8]);
    expect(labels(limitGroups(hs, 3, by))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(labels(limitGroups(hs, 1, (h) => groupValueOf(h, 'category')))).toEqual([1, 2]);
  });

  it('limitGroups: values of different types are different groups', () => {
    const values: AttributeValue[] = ['1', 1, true, 'true', 1, '1'];
    const hs = values.map((v, i) => hit(i, i, { v }));
    expect(labels(limitGroups(hs, 1, (h) => groupValueOf(h, 'v')))).toEqual([0, 1, 2, 3]);
  });

  it('limitGroups: an array value needs room in every one of its groups; [] is no value', () => {
    const hs = [
      hit(1, 0.1, { tags: ['x', 'y'] }),
      hit(2, 0.2, { tags: ['y', 'z'] }), // y is full
      hit(3, 0.3, { tags: ['z'] }),
      hit(4, 0.4, { tags: ['z', 'z'] }), // duplicates count once; z is full
      hit(5, 0.5, { tags: [] }),
      hit(6, 0.6, { tags: [] }),
      hit(7, 0.7, { tags: 'w' }),
      hit(8, 0.8, { tags: ['w'] }), // the string 'w' and the element 'w' are one group
    ];
    expect(labels(limitGroups(hs, 1, (h) => groupValueOf(h, 'tags')))).toEqual([1, 3, 5, 6, 7]);
    expect(labels(limitGroups(hs, 2, (h) => groupValueOf(h, 'tags')))).toEqual([1, 2, 3, 5, 6, 7, 8]);
  });

  it('page is offset+1 .. offset+k', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6];
    expect(page(xs, 0, 3)).toEqual([0, 1, 2]);
    expect(page(xs, 3, 3)).toEqual([3, 4, 5]);
    expect(page(xs, 6, 3)).toEqual([6]);
    expect(page(xs, 10, 3)).toEqual([]);
  });
});

describe('candidate counts', () => {
  it('diversityPoolSize: 256 per started block of 128 results', () => {
    expect(diversityPoolSize(1)).toBe(256);
    expect(diversityPoolSize(DIVERSITY_BLOCK)).toBe(256);
    expect(diversityPoolSize(DIVERSITY_BLOCK + 1)).toBe(512);
    expect(diversityPoolSize(1000)).toBe(2048);
  });

  it('candidateCount over-fetches for groups, diversity and exclusions', () => {
    expect(candidateCount({ k: 10 })).toBe(10);
    expect(candidateCount({ k: 10, offset: 10 })).toBe(20);
    expect(candidateCount({ k: 10, maxDistance: 0.1 })).toBe(10);
    expect(candidateCount({ k: 10 }, { exclude: 3 })).toBe(13);
    expect(candidateCount({ k: 10, diversity: 0.5 })).toBe(256);
    expect(candidateCount({ k: 10, diversity: 0 })).toBe(10);
    expect(candidateCount({ k: 10, groupBy: 'brand' })).toBe(80);
    expect(candidateCount({ k: 10, groupBy: 'brand', groupSize: 2 })).toBe(40);
    expect(candidateCount({ k: 10, groupBy: 'brand', groupSize: 3 })).toBe(30);
    expect(candidateCount({ k: 10, groupBy: 'brand', groupSize: 50 })).toBe(20);
    expect(candidateCount({ k: 10, groupBy: 'brand', diversity: 0.2 })).toBe(256 * 8);
    expect(candidateCount({ k: 10 }, { available: 4 })).toBe(4);
    expect(candidateCount({ k: 10 }, { available: 0 })).toBe(1);
    expect(candidateCount({ k: 100, offset: 5000, groupBy: 'brand' })).toBe(MAX_CANDIDATES);
  });

  it('depends on offset and k only through offset + k', () => {
    for (const extra of [{}, { diversity: 0.5 }, { groupBy: 'brand', groupSize: 2 }]) {
      expect(candidateCount({ k: 10, offset: 10, ...extra })).toBe(candidateCount({ k: 20, ...extra }));
    }
  });

  it('nextCandidateCount grows fourfold up to the cap', () => {
    expect(nextCandidateCount(10)).toBe(40);
    expect(nextCandidateCount(10, 25)).toBe(25);
    expect(nextCandidateCount(25, 25)).toBeUndefined();
    expect(nextCandidateCount(MAX_CANDIDATES)).toBeUndefined();
    expect(nextCandidateCount(MAX_CANDIDATES - 1)).toBe(MAX_CANDIDATES);
  });
});

describe('applyResultControls', () => {
  it('applies exclude → threshold → group → diversity → page, hand-checked', () => {
    // Points on a line, query at 0. Brands: A A B A C B C D
    const brands = ['A', 'A', 'B', 'A', 'C', 'B', 'C', 'D'];
    const hs = brands.map((brand, i) => hit(i, i + 1, { brand }, [i + 1]));
    const r = (c: ResultControls, exclude?: Set<number>) =>
      labels(applyResultControls(hs, c, access, exclude).hits);
    expect(r({ k: 3 })).toEqual([0, 1, 2]);
    expect(r({ k: 3 }, new Set([1]))).toEqual([0, 2, 3]);
    expect(r({ k: 10, maxDistance: 4 })).toEqual([0, 1, 2, 3]);
    expect(r({ k: 10, groupBy: 'brand' })).toEqual([0, 2, 4, 7]);
    expect(r({ k: 10, groupBy: 'brand', maxDistance: 5 })).toEqual([0, 2, 4]);
    expect(r({ k: 2, offset: 1, groupBy: 'brand' })).toEqual([2, 4]);
    expect(r({ k: 10, groupBy: 'brand', groupSize: 2 }, new Set([0]))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // diversity runs on the grouped list: MMR with λ = 1 over [0, 2, 4, 7] (at 1, 3, 5, 8) takes 1 (the
    // nearest), 8 (the farthest from 1), then 5 (3 away from {1, 8}; 3 is only 2 away), then 3
    expect(r({ k: 4, groupBy: 'brand', diversity: 1 })).toEqual([0, 7, 4, 2]);
    expect(r({ k: 2, offset: 2, groupBy: 'brand', diversity: 1 })).toEqual([4, 2]);
    // the threshold cuts the pool before MMR sees it
    expect(r({ k: 4, diversity: 1, maxDistance: 3 })).toEqual([0, 2, 1]);
  });

  it('diversity equals mmr over the first diversityPoolSize(offset + k) candidates', () => {
    const ranking = rankedCatalog(11, 600);
    const controls = { k: 10, offset: 20, diversity: 0.4 };
    const got = applyResultControls(ranking, controls, access).hits;
    const want = mmr(ranking.slice(0, diversityPoolSize(30)), 30, 0.4).slice(20, 30);
    expect(labels(got)).toEqual(labels(want));
  });

  it('shortOfCandidates: when more candidates could change the result', () => {
    const hs = [hit(1, 0.1, { brand: 'A' }), hit(2, 0.2, { brand: 'A' }), hit(3, 0.3, { brand: 'A' })];
    expect(applyResultControls(hs, { k: 2 }, access).shortOfCandidates).toBe(false);
    expect(applyResultControls(hs, { k: 3 }, access).shortOfCandidates).toBe(false);
    expect(applyResultControls(hs, { k: 4 }, access).shortOfCandidates).toBe(true);
    expect(applyResultControls(hs, { k: 2, groupBy: 'brand' }, access).shortOfCandidates).toBe(true);
    // the threshold cut the list: anything further away is cut too
    expect(applyResultControls(hs, { k: 4, maxDistance: 0.25 }, access).shortOfCandidates).toBe(false);
    expect(applyResultControls(hs, { k: 2, diversity: 0.5 }, access).shortOfCandidates).toBe(true); // pool of 256
    expect(applyResultControls(hs, { k: 1 }, access, new Set([1, 2, 3])).shortOfCandidates).toBe(true);
  });

  it('needs the accessors the controls use', () => {
    const hs = [hit(1, 0.1)];
    expect(() => applyResultControls(hs, { k: 1, groupBy: 'brand' }, {})).toThrow(/groupValue/);
    expect(() => applyResultControls(hs, { k: 1, diversity: 0.5 }, {})).toThrow(/vector/);
    expect(labels(applyResultControls(hs, { k: 1 }).hits)).toEqual([1]);
  });

  it('validates the controls', () => {
    expectValidationError(
      () => applyResultControls([], { k: 1, offset: -1 }),
      'INVALID_RESULT_CONTROLS',
      'offset must be an integer ≥ 0',
    );
  });
});

describe('paging never repeats or skips', () => {
  const ranking = rankedCatalog(2024, 700);
  const settings: [string, Omit<ResultControls, 'k' | 'offset'>][] = [
    ['plain', {}],
    ['threshold', { maxDistance: 0.5 }],
    ['group_by brand', { groupBy: 'brand' }],
    ['group_by brand, size 3', { groupBy: 'brand', groupSize: 3 }],
    ['group_by sizes (arrays)', { groupBy: 'sizes', groupSize: 2 }],
    ['group_by category', { groupBy: 'category', groupSize: 30 }],
    ['diversity', { diversity: 0.5 }],
    ['everything', { maxDistance: 0.6, groupBy: 'brand', groupSize: 4, diversity: 0.8 }],
  ];

  for (const [name, extra] of settings) {
    it(name, () => {
      const exclude = new Set([ranking[0].label, ranking[5].label]);
      for (const k of [1, 7, 10, 32]) {
        const pages = Math.floor(DIVERSITY_BLOCK / k); // every page ends within the first block
        const full = labels(search(ranking, { k: pages * k, ...extra }, exclude));
        const paged: number[] = [];
        for (let p = 0; p < pages; p++)
          paged.push(...labels(search(ranking, { k, offset: p * k, ...extra }, exclude)));
        expect(paged, `k ${k}`).toEqual(full);
        expect(new Set(paged).size).toBe(paged.length);
        expect(paged.some((l) => exclude.has(l))).toBe(false);
      }
    });
  }

  it('offset=o&k=n is results o+1..o+n of k=o+n, beyond the first diversity block too', () => {
    for (const extra of [{ diversity: 0.5 }, { groupBy: 'brand', groupSize: 2, diversity: 0.3 }, {}]) {
      for (const [offset, k] of [
        [10, 10],
        [120, 20],
        [250, 40],
      ]) {
        const full = labels(search(ranking, { k: offset + k, ...extra }));
        expect(labels(search(ranking, { k, offset, ...extra }))).toEqual(full.slice(offset));
      }
    }
  });

  it('the results respect the controls', () => {
    const hits = search(ranking, {
      k: 50,
      maxDistance: 0.55,
      groupBy: 'brand',
      groupSize: 3,
      diversity: 0.5,
    });
    expect(hits.every((h) => h.distance <= 0.55)).toBe(true);
    const perBrand = new Map<string, number>();
    for (const h of hits) {
      const b = h.attributes.brand;
      if (typeof b === 'string') perBrand.set(b, (perBrand.get(b) ?? 0) + 1);
    }
    expect(Math.max(...perBrand.values())).toBeLessThanOrEqual(3);
    expect(hits.length).toBeGreaterThan(21); // items without a brand are never grouped away
    expect(hits.length).toBeLessThanOrEqual(50);
  });
});
