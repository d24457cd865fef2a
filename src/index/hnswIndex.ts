import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { DataFileError, ValidationError } from '../errors.ts';
import { categorySet, checkDimension, checkLabel, checkQuery } from './checks.ts';
import { readIndexFile, writeIndexFile } from './indexFile.ts';
import type { SearchFilter, SearchHit, Vector, VectorIndex } from './vectorIndex.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

/**
 * HNSW parameters and their trade-off:
 * - `M`: links per node. More → better recall at a given ef, bigger file, slower build.
 * - `efConstruction`: candidate list while inserting. More → better graph, slower build.
 * - `efSearch`: candidate list while querying (hnswlib's own default is 10, far too low for 0.99 recall).
 *   More → higher recall, fewer queries/s. Raised to k automatically when k is larger.
 *
 * Defaults from `npm run bench:index -- --sweep` on the 70,000 Fashion-MNIST
 * embeddings, off-centre queries, same run (shared 2-core machine, load ~9):
 * M=16/efC=200 built in 61.6 s with recall@10 0.994 at ef 64; M=16/efC=100
 * in 36.9 s, 0.991; M=24/efC=100 in 38.7 s, 0.993 and the most queries/s.
 * Hence M=24, efConstruction=100. efSearch=32: with a trained triplet model
 * (6 epochs) recall@10 is 0.991 at ef 20, 0.998 at 32, 0.9993 at 50; a
 * weakly trained model needs ~64 for 0.99 (the server's HNSW_EF_SEARCH).
 */
export interface HnswParams {
  M: number;
  efConstruction: number;
  efSearch: number;
  /** Seed of the level generator, so a build is reproducible. */
  seed: number;
}

export const DEFAULT_HNSW_PARAMS: HnswParams = { M: 24, efConstruction: 100, efSearch: 32, seed: 100 };

/**
 * One hnswlib graph: grows its capacity on demand, remembers its ef, and
 * retries with a larger ef when hnswlib silently returns fewer than k (which
 * it does when soft-deleted nodes thin out the candidates).
 */
class Graph {
  private ef = -1;
  /** Live (not soft-deleted) labels. */
  readonly live = new Set<number>();

  constructor(readonly hnsw: Hnsw) {}

  static create(dim: number, p: HnswParams, capacity: number): Graph {
    const hnsw = new HierarchicalNSW('l2', dim);
    hnsw.initIndex(Math.max(16, capacity), p.M, p.efConstruction, p.seed);
    return new Graph(hnsw);
  }

  add(label: number, point: number[]): void {
    if (!this.live.has(label) && this.hnsw.getCurrentCount() >= this.hnsw.getMaxElements()) {
      // resizeIndex reallocates the whole graph: grow geometrically so adds stay amortised O(1).
      this.hnsw.resizeIndex(Math.ceil(this.hnsw.getMaxElements() * 1.5) + 16);
    }
    // An existing label (live or soft-deleted) is updated in place and undeleted by hnswlib.
    this.hnsw.addPoint(point, label);
    this.live.add(label);
  }

  remove(label: number): void {
    if (this.live.delete(label)) this.hnsw.markDelete(label);
  }

  search(query: number[], k: number, efSearch: number, allow?: (label: number) => boolean): SearchHit[] {
    const want = Math.min(k, this.live.size);
    if (want === 0) return [];
    const stored = this.hnsw.getCurrentCount();
    let ef = Math.max(efSearch, want);
    for (;;) {
      this.setEf(ef);
      const r = allow ? this.hnsw.searchKnn(query, want, allow) : this.hnsw.searchKnn(query, want);
      if (r.neighbors.length >= want || ef >= stored) {
        return r.neighbors.map((label, i) => ({ label, distance: Math.sqrt(r.distances[i]) }));
      }
      ef = Math.min(ef * 2, stored);
    }
  }

  setEf(ef: number): void {
    if (ef !== this.ef) {
      this.hnsw.setEf(ef);
      this.ef = ef;
    }
  }
}

/**
 * `VectorIndex` over hnswlib-node's HierarchicalNSW in 'l2' space (which
 * returns squared distances: `search` takes the square root): one graph of
 * the whole catalog. Filters (categories, `allow`) go through hnswlib's
 * filter callback; a filter matching few items is better answered by an
 * exact scan of its matches, which the serving planner does
 * (src/serving/filteredSearch.ts). One graph keeps every vector once in
 * memory: a second graph per category doubled the index's footprint and its
 * build time.
 */
export class HnswIndex implements VectorIndex {
  private readonly categoryOf = new Map<number, string>();
  /** Live items per category, so a category filter knows how many results it can have. */
  private readonly categorySizes = new Map<string, number>();

  private constructor(
    private readonly graph: Graph,
    readonly dim: number,
    readonly params: HnswParams,
  ) {}

  /** An empty index with room for `capacity` items (it grows on demand). */
  static create(dim: number, params: Partial<HnswParams> = {}, capacity = 1024): HnswIndex {
    const p = { ...DEFAULT_HNSW_PARAMS, ...params };
    checkParams(p);
    return new HnswIndex(Graph.create(dim, p, capacity), dim, p);
  }

  /**
   * Reads an index file written by `save`. `categories` (label → category,
   * from the catalog) is the truth: labels in the file but absent from it are
   * soft-deleted. Verify the file's checksum first (the build's manifest):
   * hnswlib does not validate its input.
   */
  static load(path: string, dim: number, categories: Map<number, string>, params: Partial<HnswParams> = {}) {
    const p = { ...DEFAULT_HNSW_PARAMS, ...params };
    checkParams(p);
    let graph: Graph | null = null;
    readIndexFile(
      path,
      dim,
      (tmpPath) => {
        const hnsw = new HierarchicalNSW('l2', dim);
        try {
          hnsw.readIndexSync(tmpPath);
        } catch (err) {
          throw new DataFileError(
            `cannot read index file ${path}: ${(err as Error).message}`,
            'INDEX_FILE_CORRUPT',
          );
        }
        graph = new Graph(hnsw);
      },
      (entry) => entry.category === null,
    );
    if (!graph)
      throw new DataFileError(`index file ${path} has no whole-catalog graph`, 'INDEX_FILE_CORRUPT');
    const index = new HnswIndex(graph, dim, p);
    const main: Graph = graph;
    for (const label of main.hnsw.getIdsList()) {
      const category = categories.get(label);
      if (category === undefined) {
        softDelete(main.hnsw, label);
        continue;
      }
      main.live.add(label);
      index.setCategory(label, category);
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

  add(label: number, vector: Vector, category: string): void {
    checkLabel(label);
    checkDimension(vector, this.dim);
    this.graph.add(label, Array.from(vector));
    this.setCategory(label, category);
  }

  remove(label: number): boolean {
    if (!this.setCategory(label, null)) return false;
    this.graph.remove(label);
    return true;
  }

  has(label: number): boolean {
    return this.categoryOf.has(label);
  }

  labels(): number[] {
    return [...this.categoryOf.keys()];
  }

  /** The stored (float32) vector of a live label, or null. */
  getVector(label: number): number[] | null {
    return this.categoryOf.has(label) ? this.graph.hnsw.getPoint(label) : null;
  }

  search(vector: Vector, k: number, filter?: SearchFilter): SearchHit[] {
    checkQuery(vector, this.dim, k);
    const allowed = categorySet(filter?.categories);
    const allow = filter?.allow;
    const query = Array.from(vector);
    if (!allowed) return this.graph.search(query, k, this.params.efSearch, allow);
    const inCategory = (label: number) => allowed.has(this.categoryOf.get(label)!);
    const pass = allow ? (label: number) => inCategory(label) && allow(label) : inCategory;
    let matching = 0;
    for (const category of allowed) matching += this.categorySizes.get(category) ?? 0;
    if (matching === 0) return [];
    return this.graph.search(query, Math.min(k, matching), this.params.efSearch, pass);
  }

  /** Records `label`'s category (null: gone); returns whether it had one. */
  private setCategory(label: number, category: string | null): boolean {
    const old = this.categoryOf.get(label);
    if (old !== undefined) this.categorySizes.set(old, this.categorySizes.get(old)! - 1);
    if (category === null) this.categoryOf.delete(label);
    else {
      this.categoryOf.set(label, category);
      this.categorySizes.set(category, (this.categorySizes.get(category) ?? 0) + 1);
    }
    return old !== undefined;
  }

  save(path: string): void {
    const dir = mkdtempSync(join(tmpdir(), 'hnsw-save-'));
    try {
      const file = join(dir, 'all.bin');
      this.graph.hnsw.writeIndexSync(file);
      writeIndexFile(path, this.dim, [{ category: null, file }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function softDelete(hnsw: Hnsw, label: number): void {
  try {
    hnsw.markDelete(label);
  } catch {
    // Already marked deleted inside the file.
  }
}

function checkParams(p: HnswParams): void {
  for (const key of ['M', 'efConstruction', 'efSearch'] as const) {
    if (!Number.isInteger(p[key]) || p[key] < 1) {
      throw new ValidationError(`HNSW parameter ${key} must be a positive integer, got ${p[key]}`);
    }
  }
  if (p.M < 2) throw new ValidationError('HNSW parameter M must be at least 2');
}
