/**
 * The catalog's domain types: items, their images, embeddings per model
 * version, index builds, jobs and changes, shared by both stores and every
 * caller. The store interface is `AsyncCatalogStore` (`asyncStore.ts`).
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
 * Options for the single-item writes. `onCommitting` runs inside the store's
 * transaction after the row is written, synchronously; if it throws, the write
 * is rolled back and the error rethrown. This is how the live index update and
 * the catalog write happen in one logical step (see `CatalogService`).
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
