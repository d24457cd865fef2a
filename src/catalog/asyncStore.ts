/**
 * The catalog seam: items/attributes, images, embeddings per model version,
 * index builds, jobs and the change feed, returning Promises because
 * PostgreSQL's driver cannot answer synchronously (the domain types are in
 * `store.ts`). `SqliteAsyncStore` wraps the synchronous SQLite store
 * (`SqliteCatalogStore`, better-sqlite3) so every caller has this one
 * interface; `PostgresCatalogStore` (`postgres/`) implements it natively.
 *
 * Both implementations pass `test/catalog/storeContract.ts`.
 */

import { schemaVersion } from './migrate.ts';
import type { SqliteCatalogStore } from './sqliteStore.ts';
import type {
  AddItemOptions,
  BuildUpdate,
  CatalogItem,
  CategoryCount,
  Change,
  EmbeddingRow,
  IndexBuild,
  ItemPage,
  ItemUpdate,
  JobRecord,
  JobUpdate,
  ListItemsOptions,
  NewItem,
  PendingImage,
  StoredEmbedding,
  UpsertResult,
  WriteHooks,
} from './store.ts';

/** Items read per query by `itemPages`: large enough to amortise a round trip, small enough to stay in memory. */
export const ITEM_PAGE_SIZE = 5000;
/** Embeddings read per query by `embeddingPages` (64 floats each, so about 0.5 MB a page). */
export const EMBEDDING_PAGE_SIZE = 2000;
/** How often the SQLite adapter looks for new changes when listening: SQLite has no notification of its own. */
export const SQLITE_WAKE_POLL_MS = 200;

export type StoreKind = 'sqlite' | 'postgres';

/**
 * Work that one process at a time may do on a shared catalog: the first
 * start's import and embedding (`startup`), and an index rebuild (`rebuild`).
 */
export type CatalogLock = 'startup' | 'rebuild';

/**
 * A wake-up subscription. A wake-up only says "there may be new changes up to
 * `seq`": it can be late, repeated or lost (a reconnect), so a consumer always
 * reads `changesAfter(itsLastSeq)` rather than trusting the number.
 */
export interface ChangeListener {
  close(): Promise<void>;
}

export interface AsyncCatalogStore {
  readonly kind: StoreKind;
  /** Where the catalog lives, for logs: a file path, or a PostgreSQL URL without its password. */
  readonly location: string;
  /** The newest migration applied to this catalog. */
  schemaVersion(): Promise<number>;

  getItem(id: string): Promise<CatalogItem | null>;
  getItemByLabel(label: number): Promise<CatalogItem | null>;
  /** Throws `ValidationError` for a malformed cursor or out-of-range limit. */
  listItems(options?: ListItemsOptions): Promise<ItemPage>;
  /** Categories with item counts, sorted by name. */
  categories(): Promise<CategoryCount[]>;
  countItems(category?: string): Promise<number>;
  /** The stored 28x28 PNG, or null when the id is unknown. */
  getImage(id: string): Promise<Uint8Array | null>;
  /** Label → category of every item (to restore an index's category filter on load). */
  labelCategories(): Promise<Map<number, string>>;
  /**
   * Every item by label ascending, one page (`ITEM_PAGE_SIZE` items, one query) at a time: no connection
   * is held between pages, and a reader of 70,000 items awaits 14 pages rather than 70,000 items.
   */
  itemPages(): AsyncIterableIterator<CatalogItem[]>;

  /**
   * Inserts or updates a batch in one transaction, keyed by `id`. Idempotent:
   * a second call with the same batch inserts nothing and changes nothing
   * (rows compare equal → `unchanged`, `updatedAt` untouched).
   */
  upsertItems(batch: readonly NewItem[]): Promise<UpsertResult>;
  /**
   * `onCommitting` runs inside the transaction, before the commit, and stays
   * synchronous: it updates in-memory state (the served index), and a throw
   * still rolls the write back.
   */
  addItem(item: NewItem, options?: AddItemOptions): Promise<CatalogItem>;
  /** Deletes an item (and its embeddings); returns the deleted row, or null when the id is unknown. */
  deleteItem(id: string, hooks?: WriteHooks): Promise<CatalogItem | null>;
  /** Changes title, category or attributes; returns the updated row, or null when the id is unknown. */
  updateItem(id: string, update: ItemUpdate, hooks?: WriteHooks): Promise<CatalogItem | null>;

  /** Writes embeddings (replacing existing ones) for a model version in one transaction. */
  putEmbeddings(modelVersion: string, rows: readonly EmbeddingRow[]): Promise<void>;
  getEmbedding(modelVersion: string, label: number): Promise<Float32Array | null>;
  /** Every embedding of a model version with its item's category, a page of `EMBEDDING_PAGE_SIZE` at a time. */
  embeddingPages(modelVersion: string): AsyncIterableIterator<StoredEmbedding[]>;
  countEmbeddings(modelVersion: string): Promise<number>;
  /** Up to `limit` items without an embedding for `modelVersion`, by label ascending, after `afterLabel`. */
  missingEmbeddings(modelVersion: string, limit: number, afterLabel?: number): Promise<PendingImage[]>;
  /** Model versions that have embeddings, with counts. */
  embeddingVersions(): Promise<{ modelVersion: string; count: number }[]>;

  /** Records a new build in status `queued`. */
  recordBuild(modelVersion: string, params?: string, modelDir?: string): Promise<IndexBuild>;
  updateBuild(id: number, update: BuildUpdate): Promise<IndexBuild>;
  getBuild(id: number): Promise<IndexBuild | null>;
  /** Newest first. */
  listBuilds(limit?: number): Promise<IndexBuild[]>;
  /** The newest `active` build (optionally for one model version). */
  latestCompleteBuild(modelVersion?: string): Promise<IndexBuild | null>;
  /** All `active` builds, newest first: the fallback chain when a file is corrupt. */
  completeBuilds(modelVersion?: string): Promise<IndexBuild[]>;
  /** Marks builds left in a non-terminal state (by a killed process) as failed; returns how many. */
  failUnfinishedBuilds(reason?: string): Promise<number>;

  /**
   * Changes after `seq`, oldest first. Numbers are handed out in commit order,
   * so a reader that has seen `seq` never later finds a smaller one appear.
   */
  changesAfter(seq: number, limit: number): Promise<Change[]>;
  /** The newest change's number, 0 when there is none. */
  latestChangeSeq(): Promise<number>;
  /** Calls `onWake` with a change number when changes may have been committed, by any process. */
  listenForChanges(onWake: (seq: number) => void): Promise<ChangeListener>;

  /** Records a queued job; throws `ConflictError` REBUILD_RUNNING while a job of its type is unfinished. */
  createJob(type: JobRecord['type'], model: string): Promise<JobRecord>;
  /** Becoming `active` or `failed` sets `finishedAt`. */
  updateJob(id: number, update: JobUpdate): Promise<JobRecord>;
  getJob(id: number): Promise<JobRecord | null>;
  /** The newest job, or null. */
  latestJob(): Promise<JobRecord | null>;
  /** Marks jobs left unfinished by a stopped process as failed with `reason`; returns how many. */
  failUnfinishedJobs(reason: string): Promise<number>;

  /**
   * Runs `fn` holding `lock` across every process sharing the catalog, waiting
   * for it when another holds it. SQLite: one machine's processes are
   * coordinated by the cluster primary (one first start, one rebuild job), so
   * `fn` just runs.
   */
  exclusive<T>(lock: CatalogLock, fn: () => Promise<T>): Promise<T>;
  /** Like `exclusive`, but without waiting: false (and `fn` not run) when another process holds `lock`. */
  tryExclusive(lock: CatalogLock, fn: () => Promise<void>): Promise<boolean>;

  close(): Promise<void>;
}

/**
 * The SQLite store behind the asynchronous interface. Every call runs
 * synchronously inside an async method, so a SQLite error becomes a rejection
 * exactly like a PostgreSQL one.
 */
export class SqliteAsyncStore implements AsyncCatalogStore {
  readonly kind = 'sqlite';
  readonly #listeners = new Set<NodeJS.Timeout>();

  constructor(
    readonly sync: SqliteCatalogStore,
    private readonly wakePollMs = SQLITE_WAKE_POLL_MS,
  ) {}

  get location(): string {
    return this.sync.path;
  }
  async schemaVersion() {
    return schemaVersion(this.sync.db);
  }

  async getItem(id: string) {
    return this.sync.getItem(id);
  }
  async getItemByLabel(label: number) {
    return this.sync.getItemByLabel(label);
  }
  async listItems(options?: ListItemsOptions) {
    return this.sync.listItems(options);
  }
  async categories() {
    return this.sync.categories();
  }
  async countItems(category?: string) {
    return this.sync.countItems(category);
  }
  async getImage(id: string) {
    return this.sync.getImage(id);
  }
  async labelCategories() {
    return this.sync.labelCategories();
  }
  async *itemPages(): AsyncIterableIterator<CatalogItem[]> {
    yield* this.sync.itemPages();
  }

  async upsertItems(batch: readonly NewItem[]) {
    return this.sync.upsertItems(batch);
  }
  async addItem(item: NewItem, options?: AddItemOptions) {
    return this.sync.addItem(item, options);
  }
  async deleteItem(id: string, hooks?: WriteHooks) {
    return this.sync.deleteItem(id, hooks);
  }
  async updateItem(id: string, update: ItemUpdate, hooks?: WriteHooks) {
    return this.sync.updateItem(id, update, hooks);
  }

  async putEmbeddings(modelVersion: string, rows: readonly EmbeddingRow[]) {
    this.sync.putEmbeddings(modelVersion, rows);
  }
  async getEmbedding(modelVersion: string, label: number) {
    return this.sync.getEmbedding(modelVersion, label);
  }
  async *embeddingPages(modelVersion: string): AsyncIterableIterator<StoredEmbedding[]> {
    yield* this.sync.embeddingPages(modelVersion);
  }
  async countEmbeddings(modelVersion: string) {
    return this.sync.countEmbeddings(modelVersion);
  }
  async missingEmbeddings(modelVersion: string, limit: number, afterLabel?: number) {
    return this.sync.missingEmbeddings(modelVersion, limit, afterLabel);
  }
  async embeddingVersions() {
    return this.sync.embeddingVersions();
  }

  async recordBuild(modelVersion: string, params?: string, modelDir?: string) {
    return this.sync.recordBuild(modelVersion, params, modelDir);
  }
  async updateBuild(id: number, update: BuildUpdate) {
    return this.sync.updateBuild(id, update);
  }
  async getBuild(id: number) {
    return this.sync.getBuild(id);
  }
  async listBuilds(limit?: number) {
    return this.sync.listBuilds(limit);
  }
  async latestCompleteBuild(modelVersion?: string) {
    return this.sync.latestCompleteBuild(modelVersion);
  }
  async completeBuilds(modelVersion?: string) {
    return this.sync.completeBuilds(modelVersion);
  }
  async failUnfinishedBuilds(reason?: string) {
    return this.sync.failUnfinishedBuilds(reason);
  }

  async changesAfter(seq: number, limit: number) {
    return this.sync.changesAfter(seq, limit);
  }
  async latestChangeSeq() {
    return this.sync.latestChangeSeq();
  }

  /**
   * Short polling of the newest change number: it sees writes of every
   * process on this database file, which is all a wake-up has to promise.
   */
  async listenForChanges(onWake: (seq: number) => void): Promise<ChangeListener> {
    let seen = this.sync.latestChangeSeq();
    const timer = setInterval(() => {
      let latest: number;
      try {
        latest = this.sync.latestChangeSeq();
      } catch {
        // A busy or closing database: the next tick looks again, and a consumer polls anyway.
        return;
      }
      if (latest === seen) return;
      seen = latest;
      onWake(latest);
    }, this.wakePollMs);
    timer.unref();
    this.#listeners.add(timer);
    return {
      close: async () => {
        clearInterval(timer);
        this.#listeners.delete(timer);
      },
    };
  }

  async createJob(type: JobRecord['type'], model: string) {
    return this.sync.createJob(type, model);
  }
  async updateJob(id: number, update: JobUpdate) {
    return this.sync.updateJob(id, update);
  }
  async getJob(id: number) {
    return this.sync.getJob(id);
  }
  async latestJob() {
    return this.sync.latestJob();
  }
  async failUnfinishedJobs(reason: string) {
    return this.sync.failUnfinishedJobs(reason);
  }

  async exclusive<T>(_lock: CatalogLock, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async tryExclusive(_lock: CatalogLock, fn: () => Promise<void>): Promise<boolean> {
    await fn();
    return true;
  }

  async close(): Promise<void> {
    for (const timer of this.#listeners) clearInterval(timer);
    this.#listeners.clear();
    this.sync.close();
  }
}
