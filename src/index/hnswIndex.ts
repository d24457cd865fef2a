import { closeSync, openSync, readSync } from 'node:fs';
import hnswlib from 'hnswlib-node';
import { DataFileError, ValidationError } from '../errors.ts';
import { categorySet, checkLabel, checkQuery } from './checks.ts';
import { TopK } from './topK.ts';
import type { SearchFilter, SearchHit, Vector, VectorIndex } from './vectorIndex.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

/**
 * HNSW parameters and their trade-off (defaults from `npm run bench:index`):
 * - `M`: links per node. More → better recall at a given ef, bigger file, slower build.
 * - `efConstruction`: candidate list while inserting. More → better graph, slower build.
 * - `efSearch`: candidate list while querying (hnswlib's own default is 10, far too low for 0.99 recall).
 *   More → higher recall, fewer queries/s. Raised to k automatically when k is larger.
 */
export interface HnswParams {
  M: number;
  efConstruction: number;
  efSearch: number;
  /** Seed of the level generator, so a build is reproducible. */
  seed: number;
}

export const DEFAULT_HNSW_PARAMS: HnswParams = { M: 16, efConstruction: 200, efSearch: 50, seed: 100 };

/**
 * Category filters (measured in bench/index.ts): hnswlib-node's filter
 * callback calls into JS for every visited candidate and ran ~100 q/s, so it
 * is not used. A filtered query first over-fetches from the one graph
 * (k / selectivity x OVERFETCH_SLACK neighbours): fast when the query looks
 * like the wanted categories. When that does not yield k matches (a shoe
 * photo filtered to bags), or when few items match at all, the matching
 * items are scanned exactly: bounded cost, and always k results when k
 * items match.
 */
const EXACT_FILTER_MAX_ITEMS = 2000;
const OVERFETCH_SLACK = 2;
/** Over-fetching beyond this many neighbours costs more than the exact scan. */
const OVERFETCH_MAX = 1000;

/**
 * `VectorIndex` over hnswlib-node's HierarchicalNSW in 'l2' space (which
 * returns squared distances: `search` takes the square root). Keeps each
 * live label's category and a float32 copy of its vector in JS, for filtered
 * scans and verification without a native call per item.
 */
export class HnswIndex implements VectorIndex {
  private readonly categoryOf = new Map<number, string>();
  private readonly vectorOf = new Map<number, Float32Array>();
  private readonly labelsByCategory = new Map<string, Set<number>>();
  private currentEf = -1;

  private constructor(
    private readonly hnsw: Hnsw,
    readonly dim: number,
    readonly params: HnswParams,
  ) {}

  /** An empty index with room for `capacity` items (it grows on demand). */
  static create(dim: number, params: Partial<HnswParams> = {}, capacity = 1024): HnswIndex {
    const p = { ...DEFAULT_HNSW_PARAMS, ...params };
    checkParams(p);
    const hnsw = new HierarchicalNSW('l2', dim);
    hnsw.initIndex(Math.max(16, capacity), p.M, p.efConstruction, p.seed);
    return new HnswIndex(hnsw, dim, p);
  }

  /**
   * Reads an index file written by `save`. `categories` (label → category,
   * from the catalog) restores the filter data; labels in the file but absent
   * from `categories` are soft-deleted, so pass the catalog's current items.
   * Verify the file's checksum first: hnswlib does not validate its input.
   */
  static load(path: string, dim: number, categories: Map<number, string>, params: Partial<HnswParams> = {}) {
    const p = { ...DEFAULT_HNSW_PARAMS, ...params };
    checkParams(p);
    const fileDim = dimensionOfFile(path);
    if (fileDim !== dim)
      throw new DataFileError(`index file ${path} has dimension ${fileDim}, expected ${dim}`);
    const hnsw = new HierarchicalNSW('l2', dim);
    try {
      hnsw.readIndexSync(path);
    } catch (err) {
      throw new DataFileError(
        `cannot read index file ${path}: ${(err as Error).message}`,
        'INDEX_FILE_CORRUPT',
      );
    }
    const index = new HnswIndex(hnsw, dim, p);
    const stale: number[] = [];
    for (const label of hnsw.getIdsList()) {
      const category = categories.get(label);
      if (category === undefined) stale.push(label);
      else index.track(label, category, Float32Array.from(hnsw.getPoint(label)));
    }
    for (const label of stale) {
      try {
        hnsw.markDelete(label);
      } catch {
        // Already marked deleted inside the file: nothing to do.
      }
    }
    return index;
  }

  get size(): number {
    return this.categoryOf.size;
  }

  get efSearch(): number {
    return this.params.efSearch;
  }

  /** Query-time accuracy/speed knob; takes effect on the next search. */
  setEfSearch(ef: number): void {
    checkParams({ ...this.params, efSearch: ef });
    this.params.efSearch = ef;
  }

  /** Points stored in the native index, deleted ones included (what capacity is measured against). */
  get storedCount(): number {
    return this.hnsw.getCurrentCount();
  }

  get capacity(): number {
    return this.hnsw.getMaxElements();
  }

  add(label: number, vector: Vector, category: string): void {
    checkLabel(label);
    if (vector.length !== this.dim) {
      throw new ValidationError(
        `vector has ${vector.length} values, the index expects ${this.dim}`,
        'INVALID_VECTOR',
      );
    }
    const known = this.hnsw.getCurrentCount();
    if (!this.categoryOf.has(label) && known >= this.hnsw.getMaxElements()) {
      // resizeIndex reallocates the whole graph: grow geometrically so live adds stay amortised O(1).
      this.hnsw.resizeIndex(Math.ceil(this.hnsw.getMaxElements() * 1.5) + 16);
    }
    // An existing label (live or soft-deleted) is updated in place and undeleted by hnswlib.
    this.hnsw.addPoint(Array.from(vector), label);
    this.untrack(label);
    this.track(label, category, Float32Array.from(vector));
  }

  remove(label: number): boolean {
    if (!this.categoryOf.has(label)) return false;
    this.hnsw.markDelete(label);
    this.untrack(label);
    return true;
  }

  has(label: number): boolean {
    return this.categoryOf.has(label);
  }

  labels(): number[] {
    return [...this.categoryOf.keys()];
  }

  /** The vector of a live label, or null. */
  getVector(label: number): Float32Array | null {
    return this.vectorOf.get(label) ?? null;
  }

  categories(): Map<string, number> {
    return new Map([...this.labelsByCategory].map(([c, set]) => [c, set.size]));
  }

  search(vector: Vector, k: number, filter?: SearchFilter): SearchHit[] {
    checkQuery(vector, this.dim, k);
    const allowed = categorySet(filter?.categories);
    const query = Array.from(vector);
    if (!allowed) return this.searchGraph(query, Math.min(k, this.size));
    let matching = 0;
    for (const c of allowed) matching += this.labelsByCategory.get(c)?.size ?? 0;
    if (matching === 0) return [];
    const want = Math.min(k, matching);
    if (matching > EXACT_FILTER_MAX_ITEMS) {
      const fetch = Math.min(
        this.hnsw.getCurrentCount(),
        Math.ceil(want * (this.size / matching) * OVERFETCH_SLACK),
      );
      if (fetch <= OVERFETCH_MAX) {
        this.setEf(Math.max(this.params.efSearch, fetch));
        const r = this.hnsw.searchKnn(query, fetch);
        const hits: SearchHit[] = [];
        for (let i = 0; i < r.neighbors.length && hits.length < want; i++) {
          const label = r.neighbors[i];
          if (allowed.has(this.categoryOf.get(label) ?? ''))
            hits.push({ label, distance: Math.sqrt(r.distances[i]) });
        }
        if (hits.length === want) return hits;
      }
    }
    return this.scanCategories(query, want, allowed);
  }

  /**
   * hnswlib-node's own filter callback, exposed only so bench/index.ts can
   * measure it against the strategy `search` uses.
   */
  searchWithCallback(vector: Vector, k: number, allow: (label: number) => boolean): SearchHit[] {
    checkQuery(vector, this.dim, k);
    this.setEf(Math.max(this.params.efSearch, k));
    const r = this.hnsw.searchKnn(Array.from(vector), Math.min(k, this.hnsw.getCurrentCount()), allow);
    return r.neighbors.map((label, i) => ({ label, distance: Math.sqrt(r.distances[i]) }));
  }

  save(path: string): void {
    this.hnsw.writeIndexSync(path);
  }

  /**
   * Graph search that retries with a larger ef until `want` hits are found:
   * hnswlib silently returns fewer than k when soft-deleted nodes thin out
   * the candidates.
   */
  private searchGraph(query: number[], want: number): SearchHit[] {
    if (want <= 0) return [];
    const stored = this.hnsw.getCurrentCount();
    let ef = Math.max(this.params.efSearch, want);
    for (;;) {
      this.setEf(ef);
      const r = this.hnsw.searchKnn(query, want);
      if (r.neighbors.length >= want || ef >= stored) {
        return r.neighbors.map((label, i) => ({ label, distance: Math.sqrt(r.distances[i]) }));
      }
      ef = Math.min(ef * 2, stored);
    }
  }

  /** Exact search over the items of the allowed categories. */
  private scanCategories(query: number[], k: number, allowed: Set<string>): SearchHit[] {
    const top = new TopK(k);
    const dim = this.dim;
    for (const c of allowed) {
      for (const label of this.labelsByCategory.get(c) ?? []) {
        const v = this.vectorOf.get(label)!;
        const bound = top.bound;
        let sum = 0;
        for (let j = 0; j < dim && sum <= bound; j++) {
          const d = v[j] - query[j];
          sum += d * d;
        }
        if (sum <= bound) top.push(sum, label);
      }
    }
    return top.labels.map((label, i) => ({ label, distance: Math.sqrt(top.distances[i]) }));
  }

  private setEf(ef: number): void {
    if (ef !== this.currentEf) {
      this.hnsw.setEf(ef);
      this.currentEf = ef;
    }
  }

  private track(label: number, category: string, vector: Float32Array): void {
    this.categoryOf.set(label, category);
    this.vectorOf.set(label, vector);
    let set = this.labelsByCategory.get(category);
    if (!set) {
      set = new Set();
      this.labelsByCategory.set(category, set);
    }
    set.add(label);
  }

  private untrack(label: number): void {
    const old = this.categoryOf.get(label);
    if (old === undefined) return;
    this.categoryOf.delete(label);
    this.vectorOf.delete(label);
    const set = this.labelsByCategory.get(old)!;
    set.delete(label);
    if (set.size === 0) this.labelsByCategory.delete(old);
  }
}

/**
 * hnswlib's file does not record the dimension it was built with, and reads
 * any file with whatever dimension it is told: derive it from the header
 * (six little-endian size_t fields; the vector sits between offsetData and
 * labelOffset as dim float32s) so a mismatch is refused instead of misread.
 */
function dimensionOfFile(path: string): number {
  const header = Buffer.alloc(48);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, header, 0, 48, 0) < 48) throw new DataFileError(`index file ${path} is truncated`);
  } finally {
    closeSync(fd);
  }
  const labelOffset = Number(header.readBigUInt64LE(32));
  const offsetData = Number(header.readBigUInt64LE(40));
  return (labelOffset - offsetData) / Float32Array.BYTES_PER_ELEMENT;
}

function checkParams(p: HnswParams): void {
  for (const key of ['M', 'efConstruction', 'efSearch'] as const) {
    if (!Number.isInteger(p[key]) || p[key] < 1) {
      throw new ValidationError(`HNSW parameter ${key} must be a positive integer, got ${p[key]}`);
    }
  }
  if (p.M < 2) throw new ValidationError('HNSW parameter M must be at least 2');
}
