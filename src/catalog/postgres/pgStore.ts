/**
 * The PostgreSQL catalog store: the `AsyncCatalogStore` that several serving
 * replicas share through `DATABASE_URL`. Same tables, constraints and
 * transactions as the SQLite store; the differences are the ones of the
 * medium: JSONB attributes, BYTEA images and vectors, a pool of connections,
 * and LISTEN/NOTIFY as the change feed's wake-up.
 */
import pg from 'pg';
import { redactUrl } from '../../config/env.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import {
  type AsyncCatalogStore,
  type CatalogLock,
  type ChangeListener,
  EMBEDDING_PAGE_SIZE,
  ITEM_PAGE_SIZE,
} from '../asyncStore.ts';
import type { Migration } from '../migrate.ts';
import {
  blobToVector,
  canonicalJson,
  decodeCursor,
  encodeCursor,
  type ItemValues,
  itemValues,
  sameBytes,
  sortedAttributes,
  vectorToBlob,
} from '../rows.ts';
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
} from '../store.ts';
import { listenForChanges } from './listen.ts';
import { migratePostgres, schemaVersion } from './migrate.ts';
import { isRetryable, isUniqueViolation, toDomainError } from './pgErrors.ts';
import { SQL, type Statement } from './statements.ts';

const log = createLogger('catalog');

/** Connections per store: a serving replica's reads are short; a rebuild or an import holds one at a time. */
export const DEFAULT_POOL_SIZE = 10;
/** How long a query waits for a connection before it fails as "unavailable" (503) instead of hanging. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Tries of an upsert batch that lost a race with another writer of the same ids. */
const UPSERT_ATTEMPTS = 3;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;

/**
 * COUNT(*), identities and BIGINT labels arrive as strings by default (int8
 * can exceed 2^53). The store's numbers are labels, sequence numbers and
 * counts, far below that, so they become numbers, checked; timestamps become
 * the ISO-8601 strings SQLite stores.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return parseInt8;
    if (oid === TIMESTAMPTZ_OID) {
      const parseDate = pg.types.getTypeParser(oid, 'text');
      return (text: string) => (parseDate(text) as Date).toISOString();
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} does not fit a JavaScript number`);
  return n;
}

export interface OpenPostgresOptions {
  poolSize?: number;
  /** Override the migrations (tests). */
  migrations?: Migration[];
}

/** JSONB keeps keys in its own order: sort them, so both stores return attributes alike. */
/** Rows come out named as `CatalogItem` (see statements.ts); only the attributes' key order differs. */
function toItem(r: CatalogItem): CatalogItem {
  return { ...r, attributes: sortedAttributes(r.attributes) };
}

function itemExists(id: string): ConflictError {
  return new ConflictError(`item '${id}' already exists`, 'ITEM_EXISTS');
}

function now(): string {
  return new Date().toISOString();
}

/** The batch split where an id repeats, so each run can be written in bulk and later rows see earlier ones. */
function runsWithoutRepeats(batch: readonly ItemValues[]): ItemValues[][] {
  const runs: ItemValues[][] = [];
  let run: ItemValues[] = [];
  let ids = new Set<string>();
  for (const row of batch) {
    if (ids.has(row.id)) {
      runs.push(run);
      run = [];
      ids = new Set();
    }
    ids.add(row.id);
    run.push(row);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** One writing transaction: its connection, and the changes it will append just before it commits. */
class Tx {
  readonly changes: { kind: Change['kind']; label: number | null; buildId: number | null }[] = [];

  constructor(readonly client: pg.PoolClient) {}

  async run<R extends pg.QueryResultRow>(
    statement: Statement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.client.query<R>({ ...statement, values });
  }

  change(kind: Change['kind'], label: number | null, buildId: number | null = null): void {
    this.changes.push({ kind, label, buildId });
  }
}

/**
 * Opens a pool on `url` and applies pending migrations. Throws
 * `NotReadyError` CATALOG_UNAVAILABLE when the server cannot be reached.
 */
export async function openPostgresCatalog(
  url: string,
  options: OpenPostgresOptions = {},
): Promise<PostgresCatalogStore> {
  const config: pg.PoolConfig = {
    connectionString: url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'fashion-similar',
    types: TYPES,
  };
  const pool = new pg.Pool(config);
  // An idle connection that the server drops emits here; without a listener that would end the process.
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle PostgreSQL connection lost'));
  try {
    await migratePostgres(pool, options.migrations);
  } catch (err) {
    await pool.end();
    throw toDomainError(err);
  }
  return new PostgresCatalogStore(pool, config, redactUrl(url));
}

export class PostgresCatalogStore implements AsyncCatalogStore {
  readonly kind = 'postgres';
  readonly #listeners = new Set<ChangeListener>();

  constructor(
    readonly pool: pg.Pool,
    private readonly config: pg.ClientConfig,
    readonly location: string,
  ) {}

  async schemaVersion(): Promise<number> {
    try {
      return await schemaVersion(this.pool);
    } catch (err) {
      throw toDomainError(err);
    }
  }

  async getItem(id: string): Promise<CatalogItem | null> {
    const r = await this.#one<CatalogItem>(SQL.itemById, [id]);
    return r ? toItem(r) : null;
  }

  async getItemByLabel(label: number): Promise<CatalogItem | null> {
    const r = await this.#one<CatalogItem>(SQL.itemByLabel, [label]);
    return r ? toItem(r) : null;
  }

  async listItems(options: ListItemsOptions = {}): Promise<ItemPage> {
    const limit = options.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new ValidationError(`limit must be an integer in 1..${MAX_PAGE}`, 'INVALID_LIMIT');
    }
    const after = options.cursor ? decodeCursor(options.cursor) : 0;
    // One extra row tells whether another page exists without a COUNT.
    const rows =
      options.category === undefined
        ? await this.#all<CatalogItem>(SQL.page, [after, limit + 1])
        : await this.#all<CatalogItem>(SQL.pageByCategory, [options.category, after, limit + 1]);
    const items = rows.slice(0, limit).map(toItem);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].label) : null };
  }

  async categories(): Promise<CategoryCount[]> {
    return this.#all<CategoryCount>(SQL.categories, []);
  }

  async countItems(category?: string): Promise<number> {
    const r =
      category === undefined
        ? await this.#one<{ n: number }>(SQL.count, [])
        : await this.#one<{ n: number }>(SQL.countByCategory, [category]);
    return r!.n;
  }

  async getImage(id: string): Promise<Uint8Array | null> {
    return (await this.#one<{ png: Buffer }>(SQL.image, [id]))?.png ?? null;
  }

  async labelCategories(): Promise<Map<number, string>> {
    const rows = await this.#all<{ label: number; category: string }>(SQL.labelCategories, []);
    return new Map(rows.map((r) => [r.label, r.category]));
  }

  async *itemPages(): AsyncIterableIterator<CatalogItem[]> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = await this.#all<CatalogItem>(SQL.page, [after, ITEM_PAGE_SIZE]);
      if (rows.length > 0) yield rows.map(toItem);
      if (rows.length < ITEM_PAGE_SIZE) return;
      after = rows[rows.length - 1].label;
    }
  }

  /**
   * Two replicas importing the same new ids at once: the one that loses the
   * race on the unique id runs its batch again and finds the rows written.
   */
  async upsertItems(batch: readonly NewItem[]): Promise<UpsertResult> {
    const rows = batch.map(itemValues);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#upsert(rows);
      } catch (err) {
        if (attempt >= UPSERT_ATTEMPTS || !(isUniqueViolation(err, 'items_id_key') || isRetryable(err)))
          throw err;
      }
    }
  }

  async #upsert(rows: readonly ItemValues[]): Promise<UpsertResult> {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    if (rows.length === 0) return result;
    await this.#transaction(async (tx) => {
      const ts = now();
      for (const run of runsWithoutRepeats(rows)) {
        const found = await tx.run<CatalogItem & { png: Buffer }>(SQL.itemsWithImagesForUpdate, [
          run.map((r) => r.id),
        ]);
        const existing = new Map(found.rows.map((r) => [r.id, r]));
        const fresh: ItemValues[] = [];
        for (const row of run) {
          const old = existing.get(row.id);
          if (!old) {
            fresh.push(row);
            continue;
          }
          const imageChanged = !sameBytes(row.image, old.png);
          const metaChanged =
            old.title !== row.title ||
            old.category !== row.category ||
            old.source !== row.source ||
            old.split !== row.split ||
            old.originalPath !== row.originalPath ||
            canonicalJson(old.attributes) !== row.attributes;
          if (!imageChanged && !metaChanged) {
            result.unchanged++;
            continue;
          }
          await this.#rewrite(tx, old.label, row, ts);
          if (imageChanged) {
            await tx.run(SQL.updateImage, [old.label, row.image]);
            // Old embeddings describe the old picture: drop them so catalog:embed recomputes.
            await tx.run(SQL.deleteEmbeddingsOf, [old.label]);
          }
          result.updated++;
        }
        await this.#insert(tx, fresh, ts);
        result.inserted += fresh.length;
      }
    });
    return result;
  }

  async addItem(item: NewItem, options: AddItemOptions = {}): Promise<CatalogItem> {
    const row = itemValues(item);
    try {
      return await this.#transaction(async (tx) => {
        if ((await tx.run(SQL.itemById, [row.id])).rowCount) throw itemExists(row.id);
        const [created] = await this.#insert(tx, [row], now());
        if (options.embedding) {
          const v = options.embedding.vector;
          await tx.run(SQL.putEmbeddings, [
            options.embedding.modelVersion,
            [created.label],
            [v.length],
            [vectorToBlob(v)],
            now(),
          ]);
        }
        options.onCommitting?.(created);
        return created;
      });
    } catch (err) {
      // Another writer inserted the same id between the check and the insert.
      if (isUniqueViolation(err, 'items_id_key')) throw itemExists(row.id);
      throw err;
    }
  }

  async deleteItem(id: string, hooks: WriteHooks = {}): Promise<CatalogItem | null> {
    return this.#transaction(async (tx) => {
      const r = (await tx.run<CatalogItem>(SQL.itemByIdForUpdate, [id])).rows[0];
      if (!r) return null;
      await tx.run(SQL.deleteItem, [r.label]);
      tx.change('delete', r.label);
      const deleted = toItem(r);
      hooks.onCommitting?.(deleted);
      return deleted;
    });
  }

  async updateItem(id: string, update: ItemUpdate, hooks: WriteHooks = {}): Promise<CatalogItem | null> {
    return this.#transaction(async (tx) => {
      const r = (await tx.run<CatalogItem>(SQL.itemByIdForUpdate, [id])).rows[0];
      if (!r) return null;
      const row = itemValues({ ...toItem(r), ...update, image: new Uint8Array(0) });
      const updated = await this.#rewrite(tx, r.label, row, now());
      hooks.onCommitting?.(updated);
      return updated;
    });
  }

  async putEmbeddings(modelVersion: string, rows: readonly EmbeddingRow[]): Promise<void> {
    if (rows.length === 0) return;
    // One statement cannot write a row twice (ON CONFLICT refuses): the last vector of a label wins, as in SQLite.
    const last = new Map(rows.map((r) => [r.label, r.vector]));
    const labels = [...last.keys()];
    const vectors = [...last.values()];
    await this.#transaction(async (tx) => {
      await tx.run(SQL.putEmbeddings, [
        modelVersion,
        labels,
        vectors.map((v) => v.length),
        vectors.map(vectorToBlob),
        now(),
      ]);
      for (const r of rows) tx.change('item', r.label);
    });
  }

  async getEmbedding(modelVersion: string, label: number): Promise<Float32Array | null> {
    const r = await this.#one<{ vector: Buffer }>(SQL.getEmbedding, [modelVersion, label]);
    return r ? blobToVector(r.vector) : null;
  }

  async *embeddingPages(modelVersion: string): AsyncIterableIterator<StoredEmbedding[]> {
    let after = 0;
    for (;;) {
      const rows = await this.#all<{ label: number; vector: Buffer; category: string }>(SQL.embeddingPage, [
        modelVersion,
        after,
        EMBEDDING_PAGE_SIZE,
      ]);
      if (rows.length > 0)
        yield rows.map((r) => ({ label: r.label, vector: blobToVector(r.vector), category: r.category }));
      if (rows.length < EMBEDDING_PAGE_SIZE) return;
      after = rows[rows.length - 1].label;
    }
  }

  async countEmbeddings(modelVersion: string): Promise<number> {
    return (await this.#one<{ n: number }>(SQL.countEmbeddings, [modelVersion]))!.n;
  }

  async missingEmbeddings(
    modelVersion: string,
    limit: number,
    afterLabel = Number.MIN_SAFE_INTEGER,
  ): Promise<PendingImage[]> {
    const rows = await this.#all<{ label: number; png: Buffer }>(SQL.missing, [
      modelVersion,
      afterLabel,
      limit,
    ]);
    return rows.map((r) => ({ label: r.label, image: r.png }));
  }

  async embeddingVersions(): Promise<{ modelVersion: string; count: number }[]> {
    return this.#all<{ modelVersion: string; count: number }>(SQL.embeddingVersions, []);
  }

  async recordBuild(modelVersion: string, params?: string, modelDir?: string): Promise<IndexBuild> {
    return (await this.#one<IndexBuild>(SQL.insertBuild, [
      modelVersion,
      params ?? null,
      modelDir ?? null,
      now(),
    ]))!;
  }

  async updateBuild(id: number, update: BuildUpdate): Promise<IndexBuild> {
    const finished = update.finished || update.status === 'active' || update.status === 'failed';
    const values = [
      id,
      update.status ?? null,
      update.itemCount ?? null,
      update.file ?? null,
      update.checksum ?? null,
      update.params ?? null,
      update.error ?? null,
      finished ? now() : null,
    ];
    const write = async (run: (s: Statement, v: unknown[]) => Promise<IndexBuild | undefined>) => {
      const r = await run(SQL.updateBuild, values);
      if (!r) throw new NotFoundError(`index build ${id} not found`, 'BUILD_NOT_FOUND');
      return r;
    };
    // Only an activation is a change every replica must see; the other steps are progress.
    if (update.status !== 'active') return write((s, v) => this.#one<IndexBuild>(s, v));
    return this.#transaction(async (tx) => {
      const build = await write(async (s, v) => (await tx.run<IndexBuild>(s, v)).rows[0]);
      tx.change('build', null, id);
      return build;
    });
  }

  async getBuild(id: number): Promise<IndexBuild | null> {
    return (await this.#one<IndexBuild>(SQL.getBuild, [id])) ?? null;
  }

  async listBuilds(limit = 20): Promise<IndexBuild[]> {
    return this.#all<IndexBuild>(SQL.listBuilds, [limit]);
  }

  async latestCompleteBuild(modelVersion?: string): Promise<IndexBuild | null> {
    return (await this.completeBuilds(modelVersion))[0] ?? null;
  }

  async completeBuilds(modelVersion?: string): Promise<IndexBuild[]> {
    return modelVersion === undefined
      ? this.#all<IndexBuild>(SQL.activeBuilds, [])
      : this.#all<IndexBuild>(SQL.activeBuildsOf, [modelVersion]);
  }

  async failUnfinishedBuilds(
    reason = 'interrupted: process stopped before the build finished',
  ): Promise<number> {
    return (await this.#query(SQL.failUnfinishedBuilds, [reason, now()])).rowCount ?? 0;
  }

  async changesAfter(seq: number, limit: number): Promise<Change[]> {
    return this.#all<Change>(SQL.changesAfter, [seq, limit]);
  }

  async latestChangeSeq(): Promise<number> {
    return (await this.#one<{ seq: number }>(SQL.latestChange, []))!.seq;
  }

  /** LISTEN on a connection of its own (a pooled one would be handed to queries); reconnects by itself. */
  async listenForChanges(onWake: (seq: number) => void): Promise<ChangeListener> {
    const listener = await listenForChanges(this.config, onWake, () => this.latestChangeSeq());
    this.#listeners.add(listener);
    return {
      close: async () => {
        this.#listeners.delete(listener);
        await listener.close();
      },
    };
  }

  async createJob(type: JobRecord['type'], model: string): Promise<JobRecord> {
    try {
      return (await this.#one<JobRecord>(SQL.insertJob, [type, model, now()]))!;
    } catch (err) {
      if (!isUniqueViolation(err, 'jobs_one_running')) throw err;
      const running = await this.#one<JobRecord>(SQL.unfinishedJob, [type]);
      throw new ConflictError(
        running
          ? `index rebuild job ${running.id} is still ${running.status}`
          : 'another index rebuild job is still running',
        'REBUILD_RUNNING',
      );
    }
  }

  async updateJob(id: number, update: JobUpdate): Promise<JobRecord> {
    const r = await this.#one<JobRecord>(SQL.updateJob, [
      id,
      update.status ?? null,
      update.modelVersion ?? null,
      update.buildId ?? null,
      update.progress ?? null,
      update.itemCount ?? null,
      update.error ?? null,
      now(),
    ]);
    if (!r) throw new NotFoundError(`no job with id ${id}`, 'JOB_NOT_FOUND');
    return r;
  }

  async getJob(id: number): Promise<JobRecord | null> {
    return (await this.#one<JobRecord>(SQL.getJob, [id])) ?? null;
  }

  async latestJob(): Promise<JobRecord | null> {
    return (await this.#one<JobRecord>(SQL.latestJob, [])) ?? null;
  }

  async failUnfinishedJobs(reason: string): Promise<number> {
    return (await this.#query(SQL.failUnfinishedJobs, [reason, now()])).rowCount ?? 0;
  }

  /**
   * An advisory lock on a connection of its own, held while `fn` runs: if this
   * process dies, PostgreSQL ends its session and the lock with it, so a
   * crashed replica never blocks the others.
   */
  async exclusive<T>(lock: CatalogLock, fn: () => Promise<T>): Promise<T> {
    return (await this.#locked(lock, SQL.lock, fn)).value as T;
  }

  async tryExclusive(lock: CatalogLock, fn: () => Promise<void>): Promise<boolean> {
    return (await this.#locked(lock, SQL.tryLock, fn)).ran;
  }

  async #locked<T>(
    lock: CatalogLock,
    take: Statement,
    fn: () => Promise<T>,
  ): Promise<{ ran: boolean; value?: T }> {
    const client = await this.#connect();
    let broken: Error | undefined;
    try {
      const taken = await client
        .query<{ locked?: boolean }>({ ...take, values: [lock] })
        .catch((err: Error) => {
          broken = err;
          throw toDomainError(err);
        });
      if (taken.rows[0]?.locked === false) return { ran: false };
      try {
        return { ran: true, value: await fn() };
      } finally {
        await client.query({ ...SQL.unlock, values: [lock] }).catch((err: Error) => {
          // The session is gone, and the lock with it.
          broken = err;
        });
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((l) => l.close()));
    this.#listeners.clear();
    await this.pool.end();
  }

  /** Writes an item's description (not its image) with its change. */
  async #rewrite(tx: Tx, label: number, row: ItemValues, ts: string): Promise<CatalogItem> {
    const written = await tx.run<CatalogItem>(SQL.updateItem, [
      label,
      row.title,
      row.category,
      row.source,
      row.split,
      row.originalPath,
      row.attributes,
      ts,
    ]);
    tx.change('item', label);
    return toItem(written.rows[0]);
  }

  /** Inserts items and their images in bulk; returns them in batch order. */
  async #insert(tx: Tx, rows: readonly ItemValues[], ts: string): Promise<CatalogItem[]> {
    if (rows.length === 0) return [];
    const col = <K extends keyof ItemValues>(key: K) => rows.map((r) => r[key]);
    const inserted = await tx.run<CatalogItem>(SQL.insertItems, [
      col('id'),
      col('title'),
      col('category'),
      col('source'),
      col('split'),
      col('originalPath'),
      col('attributes'),
      ts,
    ]);
    const byId = new Map(inserted.rows.map((r) => [r.id, toItem(r)]));
    const items = rows.map((r) => byId.get(r.id)!);
    await tx.run(SQL.insertImages, [items.map((i) => i.label), col('image')]);
    for (const item of items) tx.change('item', item.label);
    return items;
  }

  /**
   * Runs `fn` in a transaction and appends its changes last, under an
   * EXCLUSIVE lock on `changes` held to the commit: sequence numbers are then
   * taken in commit order, so a follower reading `changesAfter(seq)` can never
   * miss a number that commits later below one it has already seen. Writers
   * serialise only for that last step, not while they write their rows. A
   * transaction that fails appends nothing (its changes are not yet written).
   */
  async #transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx = new Tx(client);
      const out = await fn(tx);
      if (tx.changes.length > 0) {
        await tx.run(SQL.lockChanges, []);
        await tx.run(SQL.appendChanges, [
          tx.changes.map((c) => c.kind),
          tx.changes.map((c) => c.label),
          tx.changes.map((c) => c.buildId),
        ]);
      }
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection itself failed: tell the pool to discard it rather than hand it out again.
        broken = rollbackError as Error;
      }
      throw toDomainError(err);
    } finally {
      client.release(broken);
    }
  }

  /** A connection of the pool; unreachable is CATALOG_UNAVAILABLE. */
  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw toDomainError(err);
    }
  }

  async #query<R extends pg.QueryResultRow>(
    statement: Statement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>({ ...statement, values });
    } catch (err) {
      throw toDomainError(err);
    }
  }

  async #all<R extends pg.QueryResultRow>(statement: Statement, values: unknown[]): Promise<R[]> {
    return (await this.#query<R>(statement, values)).rows;
  }

  async #one<R extends pg.QueryResultRow>(statement: Statement, values: unknown[]): Promise<R | undefined> {
    return (await this.#query<R>(statement, values)).rows[0];
  }
}
