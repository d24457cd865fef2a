/**
 * The exact search's hot loops, shared by exactSearch.ts (small jobs, in its own thread) and
 * searchWorker.ts. Types only annotate: the statements are what V8 optimises, keep their shape.
 */

export type VectorArray = Float32Array | Float64Array | Uint8Array;

/** One search: inputs and the output arrays (shared memory when workers run it). */
export interface SearchJob {
  queries: VectorArray;
  gallery: VectorArray;
  dim: number;
  k: number;
  labelDepth: number;
  galleryLabels: Uint8Array | null;
  leaveOneOut: boolean;
  outIndices: Int32Array;
  outDistances: Float64Array;
  outLabels: Uint8Array | null;
}

/** Queries per block: the distance rows of one block (QUERY_BLOCK x gallery float64) stay in memory. */
const QUERY_BLOCK = 16;
/** Gallery rows per tile: a tile (up to ~800 KB at 784-d bytes) stays in L2 while a block sweeps it. */
const GALLERY_TILE = 1024;

/**
 * Squared euclidean distances from queries [q0, q1) to every gallery row, written to `rows`
 * (row r = query q0 + r). Differences are squared and summed in float64 (JS numbers), never via
 * |x|^2 + |q|^2 - 2x.q, which cancels catastrophically when vectors are close to each other.
 * Register blocking: 4 queries x 2 gallery rows per inner loop so each load feeds several products.
 */
export function squaredDistanceRows(
  queries: VectorArray,
  gallery: VectorArray,
  dim: number,
  q0: number,
  q1: number,
  rows: Float64Array,
): void {
  const ng = gallery.length / dim;
  const last = q1 - 1;
  for (let g0 = 0; g0 < ng; g0 += GALLERY_TILE) {
    const g1 = Math.min(ng, g0 + GALLERY_TILE);
    const gPairEnd = g0 + ((g1 - g0) & ~1);
    for (let q = q0; q < q1; q += 4) {
      // A short last group repeats the last query: the extra rows are computed and simply overwritten.
      const qa = q,
        qb = Math.min(q + 1, last),
        qc = Math.min(q + 2, last),
        qd = Math.min(q + 3, last);
      const a = qa * dim,
        b = qb * dim,
        c = qc * dim,
        e = qd * dim;
      const ra = (qa - q0) * ng,
        rb = (qb - q0) * ng,
        rc = (qc - q0) * ng,
        rd = (qd - q0) * ng;
      for (let g = g0; g < gPairEnd; g += 2) {
        const go = g * dim;
        const ho = go + dim;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0,
          t0 = 0,
          t1 = 0,
          t2 = 0,
          t3 = 0;
        for (let d = 0; d < dim; d++) {
          const x = gallery[go + d];
          const y = gallery[ho + d];
          const v0 = queries[a + d];
          const v1 = queries[b + d];
          const v2 = queries[c + d];
          const v3 = queries[e + d];
          let u = v0 - x;
          s0 += u * u;
          u = v1 - x;
          s1 += u * u;
          u = v2 - x;
          s2 += u * u;
          u = v3 - x;
          s3 += u * u;
          u = v0 - y;
          t0 += u * u;
          u = v1 - y;
          t1 += u * u;
          u = v2 - y;
          t2 += u * u;
          u = v3 - y;
          t3 += u * u;
        }
        rows[ra + g] = s0;
        rows[rb + g] = s1;
        rows[rc + g] = s2;
        rows[rd + g] = s3;
        rows[ra + g + 1] = t0;
        rows[rb + g + 1] = t1;
        rows[rc + g + 1] = t2;
        rows[rd + g + 1] = t3;
      }
      if (gPairEnd < g1) {
        const go = gPairEnd * dim;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        for (let d = 0; d < dim; d++) {
          const x = gallery[go + d];
          let u = queries[a + d] - x;
          s0 += u * u;
          u = queries[b + d] - x;
          s1 += u * u;
          u = queries[c + d] - x;
          s2 += u * u;
          u = queries[e + d] - x;
          s3 += u * u;
        }
        rows[ra + gPairEnd] = s0;
        rows[rb + gPairEnd] = s1;
        rows[rc + gPairEnd] = s2;
        rows[rd + gPairEnd] = s3;
      }
    }
  }
}

const SAMPLE_SIZE = 1024;
const RADIX_BITS = 11;
const RADIX_SIZE = 1 << RADIX_BITS;
const RADIX_MASK = RADIX_SIZE - 1;

/** Reusable buffers of topKSorted: ping-pong pairs for the radix passes. */
export interface Selector {
  readonly sample: Float64Array;
  readonly keys: readonly [Float64Array, Float64Array];
  readonly idx: readonly [Int32Array, Int32Array];
  readonly f32: Float32Array;
  /** bits[0] views f32's buffer. */
  readonly bits: readonly [Uint32Array, Uint32Array];
  readonly counts: Int32Array;
}

/**
 * Reusable buffers for topKSorted on rows of up to n values.
 */
export function createSelector(n: number): Selector {
  const f32 = new Float32Array(n);
  return {
    sample: new Float64Array(SAMPLE_SIZE),
    keys: [new Float64Array(n), new Float64Array(n)],
    idx: [new Int32Array(n), new Int32Array(n)],
    f32,
    // Non-negative float32 bit patterns order like the values: the radix sort keys.
    bits: [new Uint32Array(f32.buffer), new Uint32Array(n)],
    counts: new Int32Array(RADIX_SIZE),
  };
}

/**
 * The k smallest of row[0..n) (skipping position `skip`, -1 for none), in ascending (value, position)
 * order, exactly: positions go to outIdx, values to outKeys (both length >= k).
 *
 * Branchy quickselect costs ~1.5 ms per 60,000-row here (unpredictable comparisons), so instead:
 * a threshold from a strided sample keeps ~k candidates in one predictable pass (all of them if the
 * sample guessed low); a stable LSD radix sort orders the candidates by their float32-rounded value
 * (rounding is monotone, so this is nearly the exact order and keeps position order among equals);
 * a final insertion pass with the exact float64 comparison fixes the few neighbours that rounded
 * to the same float32.
 */
export function topKSorted(
  sel: Selector,
  row: Float64Array,
  n: number,
  skip: number,
  k: number,
  outIdx: Int32Array,
  outKeys: Float64Array,
): void {
  let threshold = Infinity;
  if (k * 4 < n) {
    const m = Math.min(SAMPLE_SIZE, n);
    const step = n / m;
    const sample = sel.sample.subarray(0, m);
    for (let i = 0; i < m; i++) sample[i] = row[Math.floor(i * step)];
    sample.sort();
    const q = Math.min(m - 1, Math.ceil((k / n) * m * 1.15) + 8);
    threshold = sample[q];
  }
  let keys = sel.keys[0];
  let idx = sel.idx[0];
  let c = 0;
  for (let i = 0; i < n; i++) {
    const v = row[i];
    if (v <= threshold && i !== skip) {
      keys[c] = v;
      idx[c] = i;
      c++;
    }
  }
  if (c < k) {
    c = 0;
    for (let i = 0; i < n; i++) {
      if (i === skip) continue;
      keys[c] = row[i];
      idx[c] = i;
      c++;
    }
  }
  const f32 = sel.f32;
  for (let i = 0; i < c; i++) f32[i] = keys[i];
  let bits = sel.bits[0];
  let keys2 = sel.keys[1];
  let idx2 = sel.idx[1];
  let bits2 = sel.bits[1];
  const counts = sel.counts;
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let i = 0; i < c; i++) counts[(bits[i] >>> shift) & RADIX_MASK]++;
    let sum = 0;
    for (let b = 0; b < RADIX_SIZE; b++) {
      const t = counts[b];
      counts[b] = sum;
      sum += t;
    }
    for (let i = 0; i < c; i++) {
      const p = counts[(bits[i] >>> shift) & RADIX_MASK]++;
      bits2[p] = bits[i];
      keys2[p] = keys[i];
      idx2[p] = idx[i];
    }
    [bits, bits2] = [bits2, bits];
    [keys, keys2] = [keys2, keys];
    [idx, idx2] = [idx2, idx];
  }
  for (let i = 1; i < c; i++) {
    const kk = keys[i];
    const ki = idx[i];
    if (keys[i - 1] < kk || (keys[i - 1] === kk && idx[i - 1] < ki)) continue;
    let j = i - 1;
    while (j >= 0 && (keys[j] > kk || (keys[j] === kk && idx[j] > ki))) {
      keys[j + 1] = keys[j];
      idx[j + 1] = idx[j];
      j--;
    }
    keys[j + 1] = kk;
    idx[j + 1] = ki;
  }
  for (let i = 0; i < k; i++) {
    outIdx[i] = idx[i];
    outKeys[i] = keys[i];
  }
}

/**
 * Exact top-k for queries [q0, q1): fills `outIndices`/`outDistances` (k per query, euclidean
 * distance, ascending, ties by gallery index) and, when `galleryLabels` is given, `outLabels` with the
 * labels of the first `labelDepth` neighbours. `leaveOneOut`: query i is gallery item i and is skipped.
 * `onBlock(doneQueries)` is called after each block.
 */
export function searchRange(job: SearchJob, q0: number, q1: number, onBlock?: (done: number) => void): void {
  const { queries, gallery, dim, k, labelDepth, galleryLabels, leaveOneOut } = job;
  const ng = gallery.length / dim;
  const depth = Math.max(k, labelDepth);
  const rows = new Float64Array(QUERY_BLOCK * ng);
  const sel = createSelector(ng);
  const keys = new Float64Array(depth);
  const idx = new Int32Array(depth);
  for (let b0 = q0; b0 < q1; b0 += QUERY_BLOCK) {
    const b1 = Math.min(q1, b0 + QUERY_BLOCK);
    squaredDistanceRows(queries, gallery, dim, b0, b1, rows);
    for (let q = b0; q < b1; q++) {
      const row = rows.subarray((q - b0) * ng, (q - b0 + 1) * ng);
      topKSorted(sel, row, ng, leaveOneOut ? q : -1, depth, idx, keys);
      const ko = q * k;
      for (let r = 0; r < k; r++) {
        job.outIndices[ko + r] = idx[r];
        job.outDistances[ko + r] = Math.sqrt(keys[r]);
      }
      if (galleryLabels) {
        const lo = q * labelDepth;
        for (let r = 0; r < labelDepth; r++) job.outLabels![lo + r] = galleryLabels[idx[r]];
      }
    }
    if (onBlock) onBlock(b1 - b0);
  }
}
