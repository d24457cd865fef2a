/**
 * The vector index seam. `HnswIndex` (src/index/hnswIndex.ts, hnswlib-node) is
 * the serving implementation; `ExactIndex` (src/index/exactIndex.ts) is the
 * brute-force oracle for tests and tiny catalogs. Labels are the catalog's
 * integer item labels (`CatalogItem.label`).
 */

export type Vector = Float32Array | readonly number[];

export interface SearchHit {
  label: number;
  /** Euclidean distance (NOT squared), ascending in a result list. */
  distance: number;
}

export interface SearchFilter {
  /** Keep only items whose category is one of these; an empty or absent list means no filter. */
  categories?: readonly string[];
  /**
   * Keep only labels for which this returns true (attribute filters). The
   * index calls it for the candidates it visits: meant for filters that
   * match a good share of the items (see src/serving/filteredSearch.ts).
   */
  allow?: (label: number) => boolean;
}

export interface VectorIndex {
  /** Vector dimension (64 for the project's embedders). */
  readonly dim: number;
  /** Number of live (not deleted) items. */
  readonly size: number;

  /**
   * The k nearest live items, nearest first. Returns min(k, matching items)
   * hits: with a filter, still k hits when at least k items match (an
   * approximate index may return fewer under a very selective `allow`). Throws
   * `ValidationError` when the vector's length differs from `dim` or k < 1.
   */
  search(vector: Vector, k: number, filter?: SearchFilter): SearchHit[];
  /** Adds (or replaces) an item; grows capacity as needed. */
  add(label: number, vector: Vector, category: string): void;
  /** Removes an item; returns false when the label was not present. */
  remove(label: number): boolean;
  has(label: number): boolean;
  /** Live labels (unordered). */
  labels(): number[];
  /**
   * Writes the index to `path` synchronously (no temp file/rename: the build
   * code does that). Categories are not part of the file: they are restored
   * from the catalog on load.
   */
  save(path: string): void;
}
