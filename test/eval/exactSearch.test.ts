import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { ValidationError } from '../../src/errors.ts';
import { exactSearch, type VectorArray } from '../../src/eval/exactSearch.ts';
import { createSelector, topKSorted } from '../../src/eval/searchKernel.ts';

/** Naive reference: every distance in float64 from differences, full sort by (distance, index). */
function naiveSearch(q: VectorArray, g: VectorArray, dim: number, k: number, leaveOneOut: boolean) {
  const nq = q.length / dim;
  const ng = g.length / dim;
  const out: { idx: number[]; dist: number[] }[] = [];
  for (let i = 0; i < nq; i++) {
    const all: { j: number; d: number }[] = [];
    for (let j = 0; j < ng; j++) {
      if (leaveOneOut && i === j) continue;
      let s = 0;
      for (let t = 0; t < dim; t++) s += (q[i * dim + t] - g[j * dim + t]) ** 2;
      all.push({ j, d: Math.sqrt(s) });
    }
    all.sort((a, b) => a.d - b.d || a.j - b.j);
    out.push({ idx: all.slice(0, k).map((e) => e.j), dist: all.slice(0, k).map((e) => e.d) });
  }
  return out;
}

function randomFloats(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (rng() - 0.5));
}

function expectSame(
  r: Awaited<ReturnType<typeof exactSearch>>,
  ref: ReturnType<typeof naiveSearch>,
  k: number,
): void {
  ref.forEach((row, i) => {
    expect(Array.from(r.indices.subarray(i * k, (i + 1) * k))).toEqual(row.idx);
    row.dist.forEach((d, j) => {
      expect(r.distances[i * k + j]).toBeCloseTo(d, 9);
    });
  });
}

describe('exactSearch vs a naive float64 search', () => {
  const dim = 13;
  const q = randomFloats(37 * dim, 1);
  const g = randomFloats(301 * dim, 2);
  const ref = naiveSearch(q, g, dim, 25, false);

  it('in this thread, odd sizes', async () => {
    expectSame(await exactSearch(q, g, dim, { k: 25, workers: 0 }), ref, 25);
  });

  it('in worker threads, with ranked labels deeper than k', async () => {
    const labels = Uint8Array.from({ length: 301 }, (_, i) => (i * 7) % 10);
    let progress = 0;
    const r = await exactSearch(q, g, dim, {
      k: 25,
      galleryLabels: labels,
      labelDepth: 120,
      workers: 2,
      onProgress: (n) => {
        progress += n;
      },
    });
    expectSame(r, ref, 25);
    expect(progress).toBe(37);
    const deep = naiveSearch(q, g, dim, 120, false);
    deep.forEach((row, i) => {
      expect(Array.from(r.labels!.subarray(i * 120, (i + 1) * 120))).toEqual(row.idx.map((j) => labels[j]));
    });
  });

  it('leave-one-out never returns the query itself', async () => {
    const r = await exactSearch(g, g, dim, { k: 10, leaveOneOut: true, workers: 2 });
    expectSame(r, naiveSearch(g, g, dim, 10, true), 10);
  });

  it('bytes (raw pixels) rank like their float values', async () => {
    const rng = createRng(3);
    const qb = Uint8Array.from({ length: 20 * 50 }, () => Math.floor(rng() * 256));
    const gb = Uint8Array.from({ length: 200 * 50 }, () => Math.floor(rng() * 256));
    const ref = naiveSearch(qb, gb, 50, 15, false);
    // In this thread on the bytes; in workers on their float32 copy.
    expectSame(await exactSearch(qb, gb, 50, { k: 15, workers: 0 }), ref, 15);
    expectSame(await exactSearch(qb, gb, 50, { k: 15, workers: 2 }), ref, 15);
  });

  it('breaks exact ties by gallery index', async () => {
    const gal = new Float32Array(40 * 2);
    for (let i = 0; i < 40; i++) gal.set([i % 4, 0], i * 2);
    const r = await exactSearch(new Float32Array([0, 0]), gal, 2, { k: 12 });
    expect(Array.from(r.indices)).toEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 1, 5]);
  });

  it('orders a collapsed embedding correctly where |x|^2+|q|^2-2x.q in float32 would not', async () => {
    // Vectors ~100 from the origin that differ by ~1e-3: the float32 expansion cancels to noise.
    const d = 64;
    const qc = randomFloats(8 * d, 4, 1e-3, 100);
    const gc = randomFloats(500 * d, 5, 1e-3, 100);
    const r = await exactSearch(qc, gc, d, { k: 20, workers: 0 });
    const ref = naiveSearch(qc, gc, d, 20, false);
    expectSame(r, ref, 20);
    // The shortcut in float32 arithmetic gets the nearest neighbour wrong for most queries.
    const f = Math.fround;
    const dot = (a: Float32Array, i: number, b: Float32Array, j: number) => {
      let s = 0;
      for (let t = 0; t < d; t++) s = f(s + f(a[i * d + t] * b[j * d + t]));
      return s;
    };
    let wrong = 0;
    for (let i = 0; i < 8; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < 500; j++) {
        const d2 = f(f(dot(qc, i, qc, i) + dot(gc, j, gc, j)) - f(2 * dot(qc, i, gc, j)));
        if (d2 < bestD) {
          bestD = d2;
          best = j;
        }
      }
      if (best !== ref[i].idx[0]) wrong++;
    }
    expect(wrong).toBeGreaterThan(4);
  });

  it('rejects bad arguments with a ValidationError', async () => {
    await expect(exactSearch(q, g, 7, { k: 5 })).rejects.toThrow(ValidationError);
    await expect(exactSearch(q, g, dim, { k: 302 })).rejects.toThrow(ValidationError);
    await expect(exactSearch(q, g, dim, { k: 5, leaveOneOut: true })).rejects.toThrow(ValidationError);
    const bad = q.slice();
    bad[5] = Number.NaN;
    await expect(exactSearch(bad, g, dim, { k: 5 })).rejects.toThrow(/not finite/);
  });
});

describe('topKSorted', () => {
  function reference(row: Float64Array, skip: number, k: number): number[] {
    return Array.from(row.keys())
      .filter((i) => i !== skip)
      .sort((a, b) => row[a] - row[b] || a - b)
      .slice(0, k);
  }
  const cases: [string, (i: number) => number][] = [
    ['random', (i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453)],
    ['all equal', () => 2.5],
    // The strided sample only sees the small values, so its threshold is too low: the full fallback.
    ['sample guesses low', (i) => (i % 25 === 0 ? 0 : 1 + i * 1e-9)],
    ['values equal in float32, different in float64', (i) => 1 + ((i * 7919) % 1000) * 1e-12],
  ];
  for (const [name, f] of cases) {
    it(name, () => {
      const n = 5000;
      const row = Float64Array.from({ length: n }, (_, i) => f(i));
      const sel = createSelector(n);
      for (const k of [1, 10, 600, 2000]) {
        const idx = new Int32Array(k);
        const keys = new Float64Array(k);
        topKSorted(sel, row, n, 17, k, idx, keys);
        expect(Array.from(idx)).toEqual(reference(row, 17, k));
      }
    });
  }
});
