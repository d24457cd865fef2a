/**
 * The catalog seam: items, their images, embeddings per model version and
 * index builds. SQLite (`SqliteCatalogStore`, opened with `openCatalog`) is the
 * one implementation today; the interface stays free of SQLite types so a
 * PostgreSQL store can follow.
 *
 * All methods are synchronous (better-sqlite3 is): call them from the request
 * path only for small reads/writes; bulk work (import, embed, rebuild) batches.
 */

import type { Attributes } from '../search/attributes.ts';

/** One catalog item as stored (without the image bytes). */
export interface CatalogItem {
  /** Internal integer key; also the item's label in the HNSW index. Never reused after a delete. */
  label: number;
  /** External, unique id, e.g. `fmnist-test-00042` or a shop's SKU. */
  id: string;
  title: string;
  /** Category used for filtered search, e.g. a Fashion-MNIST class name. */
  category: string;
  /** Where the item came from: `fashion-mnist`, `folder` or `api`. */
  source: string;
  /** Dataset split for Fashion-MNIST items (`train` | `test`), otherwise null. */
  split: string | null;
  /** Path of the original photo for folder imports, otherwise null. */
  originalPath: string | null;
  /** Shop attributes (brand, price, ...), validated by `parseAttributes`; `{}` when none. */
  attributes: Attributes;
  /** ISO-8601 UTC timestamps. */
  createdAt: string;
  updatedAt: string;
}

/** An item to insert or upsert. `image` is the preprocessed 28x28 grayscale PNG (see `encodePng28`). */
export interface NewItem {
  id: string;
  title: string;
  category: string;
  source?: string;
  split?: string | null;
  originalPath?: string | null;
  attributes?: Attributes;
  image: Uint8Array;
}

/** A change of an item's description (PATCH): its image, and so its embedding, stay as they are. */
export interface ItemUpdate {
  title?: string;
  category?: string;
  attributes?: Attributes;
}

export interface ListItemsOptions {
  category?: string;
  /** 1..1000, default 50. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`; omit for the first page. */
  cursor?: string | null;
}

/**
 * A page ordered by label ascending. The cursor encodes the last label seen, so
 * pages stay stable while items are added (new labels are always larger) or
 * deleted (a deleted item simply does not appear).
 */
export interface ItemPage {
  items: CatalogItem[];
  /** null on the last page. */
  nextCursor: string | null;
}

export interface CategoryCount {
  category: string;
  count: number;
}

export interface UpsertResult {
  inserted: number;
  /** Rows whose title/category/split/image changed; their embeddings are dropped (image may differ). */
  updated: number;
  unchanged: number;
}

export interface EmbeddingRow {
  label: number;
  /** `dim` float32 values. */
  vector: Float32Array;
}

/** An embedding with its item's category, as needed to build a filtered index. */
export interface StoredEmbedding extends EmbeddingRow {
  category: string;
}

/** An item that still needs an embedding for some model version. */
export interface PendingImage {
  label: number;
  /** The stored 28x28 PNG. */
  image: Uint8Array;
}

export type BuildStatus = 'queued' | 'embedding' | 'building' | 'verifying' | 'active' | 'failed';
export const TERMINAL_BUILD_STATUSES: readonly BuildStatus[] = ['active', 'failed'];

/** One index build (the rebuild state machine: queued → embedding → building → verifying → active | failed). */
export interface IndexBuild {
  id: number;
  modelVersion: string;
  status: BuildStatus;
  itemCount: number | null;
  /** Index file name relative to `DATA_DIR/index/`, e.g. `index-12.bin`. */
  file: string | null;
  /** sha256 hex of the index file. */
  checksum: string | null;
  /** HNSW parameters as JSON text, e.g. `{"M":16,"efConstruction":200,"efSearch":50}`. */
  params: string | null;
  /** The model directory the build's embeddings came from, when recorded. */
  modelDir: string | null;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface BuildUpdate {
  status?: BuildStatus;
  itemCount?: number;
  file?: string;
  checksum?: string;
  params?: string;
  error?: string;
  /** Sets `finishedAt` to now (done automatically for `active` and `failed`). */
  finished?: boolean;
}

/**
 * Options for the single-item writes. `onCommitting` runs inside the SQLite
 * transaction after the row is written; if it throws, the write is rolled back
 * and the error rethrown. This is how the live index update and the SQLite
 * write happen in one logical step (see `src/index/liveOps.ts`).
 */
export interface WriteHooks {
  onCommitting?: (item: CatalogItem) => void;
}

export interface AddItemOptions extends WriteHooks {
  /** Stored with the item in the same transaction. */
  embedding?: { modelVersion: string; vector: Float32Array };
}

/**
 * One entry of the change feed. `item`: the item or one of its embeddings was
 * written (re-read it); `delete`: the item is gone; `build`: an index build
 * became active.
 */
export interface Change {
  seq: number;
  kind: 'item' | 'delete' | 'build';
  label: number | null;
  buildId: number | null;
}

/** A background job (an index rebuild) as stored: it outlives the process that ran it. */
export interface JobRecord {
  id: number;
  type: 'index-rebuild';
  status: BuildStatus;
  /** The model asked for (a name beside MODEL_DIR), or the served version. */
  model: string;
  modelVersion: string | null;
  buildId: number | null;
  /** Fraction done of the current phase. */
  progress: number;
  itemCount: number | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export type JobUpdate = Partial<
  Pick<JobRecord, 'status' | 'modelVersion' | 'buildId' | 'progress' | 'itemCount' | 'error'>
>;

export interface CatalogStore {
  /** Absolute path of the database file (or `:memory:`). */
  readonly path: string;

  getItem(id: string): CatalogItem | null;
  getItemByLabel(label: number): CatalogItem | null;
  /** Throws `ValidationError` for a malformed cursor or out-of-range limit. */
  listItems(options?: ListItemsOptions): ItemPage;
  /** Categories with item counts, sorted by name. */
  categories(): CategoryCount[];
  countItems(category?: string): number;
  /** The stored 28x28 PNG, or null when the id is unknown. */
  getImage(id: string): Uint8Array | null;
  /** Label → category of every item (to restore an index's category filter on load). */
  labelCategories(): Map<number, string>;
  /** Every item by label ascending, read page by page (the connection stays usable between pages). */
  iterateItems(): IterableIterator<CatalogItem>;

  /**
   * Inserts or updates a batch in one transaction, keyed by `id`. Idempotent:
   * a second call with the same batch inserts nothing and changes nothing
   * (rows compare equal → `unchanged`, `updatedAt` untouched).
   */
  upsertItems(batch: readonly NewItem[]): UpsertResult;
  /** Inserts one item; throws `ConflictError` (409) when the id exists. */
  addItem(item: NewItem, options?: AddItemOptions): CatalogItem;
  /** Deletes an item (and its embeddings); returns the deleted row, or null when the id is unknown. */
  deleteItem(id: string, hooks?: WriteHooks): CatalogItem | null;
  /** Changes title, category or attributes; returns the updated row, or null when the id is unknown. */
  updateItem(id: string, update: ItemUpdate, hooks?: WriteHooks): CatalogItem | null;

  /** Writes embeddings (replacing existing ones) for a model version in one transaction. */
  putEmbeddings(modelVersion: string, rows: readonly EmbeddingRow[]): void;
  getEmbedding(modelVersion: string, label: number): Float32Array | null;
  /** Every embedding of a model version with its item's category, by label ascending. */
  iterateEmbeddings(modelVersion: string): IterableIterator<StoredEmbedding>;
  countEmbeddings(modelVersion: string): number;
  /** Up to `limit` items without an embedding for `modelVersion`, by label ascending, after `afterLabel`. */
  missingEmbeddings(modelVersion: string, limit: number, afterLabel?: number): PendingImage[];
  /** Model versions that have embeddings, with counts. */
  embeddingVersions(): { modelVersion: string; count: number }[];

  /** Records a new build in status `queued`. */
  recordBuild(modelVersion: string, params?: string, modelDir?: string): IndexBuild;
  updateBuild(id: number, update: BuildUpdate): IndexBuild;
  getBuild(id: number): IndexBuild | null;
  /** Newest first. */
  listBuilds(limit?: number): IndexBuild[];
  /** The newest `active` build (optionally for one model version). */
  latestCompleteBuild(modelVersion?: string): IndexBuild | null;
  /** All `active` builds, newest first: the fallback chain when a file is corrupt. */
  completeBuilds(modelVersion?: string): IndexBuild[];
  /** Marks builds left in a non-terminal state (by a killed process) as failed; returns how many. */
  failUnfinishedBuilds(reason?: string): number;

  /** Changes after `seq`, oldest first, at most `limit` (every write appends one in its transaction). */
  changesAfter(seq: number, limit: number): Change[];
  /** The newest change's number, 0 when there is none. */
  latestChangeSeq(): number;

  /** Records a queued job; throws `ConflictError` REBUILD_RUNNING while a job of its type is unfinished. */
  createJob(type: JobRecord['type'], model: string): JobRecord;
  /** Becoming `active` or `failed` sets `finishedAt`. */
  updateJob(id: number, update: JobUpdate): JobRecord;
  getJob(id: number): JobRecord | null;
  /** The newest job, or null. */
  latestJob(): JobRecord | null;
  /** Marks jobs left unfinished by a stopped process as failed with `reason`; returns how many. */
  failUnfinishedJobs(reason: string): number;

  close(): void;
}
