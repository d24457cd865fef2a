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
 * returns squared distances: `search` takes the square root).
 *
 * Category filters use one extra small graph per category, searched instead
 * of the whole-catalog graph when a filter is given (results of several
 * categories merged). bench/index.ts measured the alternatives on the 70,000
 * catalog: hnswlib-node's filter callback calls into JS for every visited
 * candidate (several times slower), and over-fetching from the one graph
 * needs k/selectivity neighbours, worse still when the query looks unlike
 * the wanted category (a shoe photo filtered to bags). The price is a second
 * copy of every vector and roughly twice the build time.
 */
export class HnswIndex implements VectorIndex {
  private readonly categoryOf = new Map<number, string>();
  private readonly parts = new Map<string, Graph>();

  private constructor(
    private readonly all: Graph,
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
   * soft-deleted, and an item whose category changed since the build moves
   * to its new category's graph. Verify the file's checksum first (the
   * build's manifest): hnswlib does not validate its input.
   */
  static load(path: string, dim: number, categories: Map<number, string>, params: Partial<HnswParams> = {}) {
    const p = { ...DEFAULT_HNSW_PARAMS, ...params };
    checkParams(p);
    let all: Graph | null = null;
    const parts = new Map<string, Graph>();
    readIndexFile(path, dim, (tmpPath, entry) => {
      const hnsw = new HierarchicalNSW('l2', dim);
      try {
        hnsw.readIndexSync(tmpPath);
      } catch (err) {
        throw new DataFileError(
          `cannot read index file ${path}: ${(err as Error).message}`,
          'INDEX_FILE_CORRUPT',
        );
      }
      const graph = new Graph(hnsw);
      if (entry.category === null) all = graph;
      else parts.set(entry.category, graph);
    });
    if (!all) throw new DataFileError(`index file ${path} has no whole-catalog graph`, 'INDEX_FILE_CORRUPT');
    const index = new HnswIndex(all, dim, p);
    const main: Graph = all;
    for (const label of main.hnsw.getIdsList()) {
      if (categories.has(label)) main.live.add(label);
      else softDelete(main.hnsw, label);
    }
    for (const [category, graph] of parts) {
      index.parts.set(category, graph);
      for (const label of graph.hnsw.getIdsList()) {
        if (categories.get(label) === category && main.live.has(label)) {
          graph.live.add(label);
          index.categoryOf.set(label, category);
        } else softDelete(graph.hnsw, label);
      }
    }
    // Live items missing from their category's graph (category changed after the build).
    for (const label of main.live) {
      if (!index.categoryOf.has(label))
        index.placeInCategory(label, categories.get(label)!, main.hnsw.getPoint(label));
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
    const point = Array.from(vector);
    this.all.add(label, point);
    const old = this.categoryOf.get(label);
    if (old !== undefined && old !== category) this.parts.get(old)?.remove(label);
    this.placeInCategory(label, category, point);
  }

  remove(label: number): boolean {
    const category = this.categoryOf.get(label);
    if (category === undefined) return false;
    this.all.remove(label);
    this.parts.get(category)?.remove(label);
    this.categoryOf.delete(label);
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
    return this.categoryOf.has(label) ? this.all.hnsw.getPoint(label) : null;
  }

  /** Live items per category. */
  categories(): Map<string, number> {
    return new Map([...this.parts].filter(([, g]) => g.live.size > 0).map(([c, g]) => [c, g.live.size]));
  }

  search(vector: Vector, k: number, filter?: SearchFilter): SearchHit[] {
    checkQuery(vector, this.dim, k);
    const allowed = categorySet(filter?.categories);
    const query = Array.from(vector);
    const allow = filter?.allow;
    if (!allowed) return this.all.search(query, k, this.params.efSearch, allow);
    const hits: SearchHit[] = [];
    for (const c of allowed) {
      const part = this.parts.get(c);
      if (part) hits.push(...part.search(query, k, this.params.efSearch, allow));
    }
    if (allowed.size === 1) return hits;
    return hits.sort((a, b) => a.distance - b.distance || a.label - b.label).slice(0, k);
  }

  save(path: string): void {
    const dir = mkdtempSync(join(tmpdir(), 'hnsw-save-'));
    try {
      const graphs: { category: string | null; graph: Graph }[] = [
        { category: null, graph: this.all },
        ...[...this.parts].map(([category, graph]) => ({ category, graph })),
      ];
      const files = graphs.map(({ category, graph }, i) => {
        const file = join(dir, `${i}.bin`);
        graph.hnsw.writeIndexSync(file);
        return { category, file };
      });
      writeIndexFile(path, this.dim, files);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private placeInCategory(label: number, category: string, point: number[]): void {
    let part = this.parts.get(category);
    if (!part) {
      part = Graph.create(this.dim, this.params, 64);
      this.parts.set(category, part);
    }
    part.add(label, point);
    this.categoryOf.set(label, category);
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
