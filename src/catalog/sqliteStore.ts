import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Attributes } from '../search/attributes.ts';
import { type Migration, migrate, readMigrations } from './migrate.ts';
import {
  blobToVector,
  decodeCursor,
  encodeCursor,
  type ItemValues,
  itemValues,
  sameBytes,
  vectorToBlob,
} from './rows.ts';
import type {
  AddItemOptions,
  BuildStatus,
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

export interface OpenCatalogOptions {
  /** Override the migrations (tests). */
  migrations?: Migration[];
  readonly?: boolean;
}

interface ItemRow {
  label: number;
  id: string;
  title: string;
  category: string;
  source: string;
  split: string | null;
  original_path: string | null;
  attributes: string;
  created_at: string;
  updated_at: string;
}

interface JobRow {
  id: number;
  type: JobRecord['type'];
  status: BuildStatus;
  model: string;
  model_version: string | null;
  build_id: number | null;
  progress: number;
  item_count: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    model: r.model,
    modelVersion: r.model_version,
    buildId: r.build_id,
    progress: r.progress,
    itemCount: r.item_count,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

interface BuildRow {
  id: number;
  model_version: string;
  status: BuildStatus;
  item_count: number | null;
  file: string | null;
  checksum: string | null;
  params: string | null;
  model_dir: string | null;
  started_at: string;
  finished_at: string | null;
  error: string | null;
}

const ITEM_COLUMNS =
  'label, id, title, category, source, split, original_path, attributes, created_at, updated_at';
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;
/** Page size when streaming embeddings: keeps the connection free between pages (see embeddingPages). */
const EMBEDDING_PAGE = 2000;
/** Page size when streaming items (see itemPages). */
const ITEM_PAGE = 5000;

function toItem(r: ItemRow): CatalogItem {
  return {
    label: r.label,
    id: r.id,
    title: r.title,
    category: r.category,
    source: r.source,
    split: r.split,
    originalPath: r.original_path,
    attributes: JSON.parse(r.attributes) as Attributes,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toBuild(r: BuildRow): IndexBuild {
  return {
    id: r.id,
    modelVersion: r.model_version,
    status: r.status,
    itemCount: r.item_count,
    file: r.file,
    checksum: r.checksum,
    params: r.params,
    modelDir: r.model_dir,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}

function now(): string {
  return new Date().toISOString();
}

/**
 * Opens (creating if needed) the SQLite catalog and applies pending
 * migrations. Refuses a database at a newer schema version.
 */
export function openCatalog(dbPath: string, options: OpenCatalogOptions = {}): SqliteCatalogStore {
  const path = dbPath === ':memory:' ? dbPath : resolve(dbPath);
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: options.readonly ?? false });
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable against process kills in WAL mode; only an OS crash can lose the last commits.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    migrate(db, options.migrations ?? readMigrations());
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteCatalogStore(db, path);
}

/**
 * The SQLite catalog, synchronous (better-sqlite3 is): callers use it through
 * `SqliteAsyncStore`; only backups and tests reach it directly.
 */
export class SqliteCatalogStore {
  private readonly s;

  constructor(
    readonly db: Database.Database,
    readonly path: string,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      itemById: p(`SELECT ${ITEM_COLUMNS} FROM items WHERE id = ?`),
      itemByLabel: p(`SELECT ${ITEM_COLUMNS} FROM items WHERE label = ?`),
      itemWithImageById: p(
        `SELECT ${ITEM_COLUMNS}, im.png FROM items i JOIN item_images im USING (label) WHERE i.id = ?`,
      ),
      page: p(`SELECT ${ITEM_COLUMNS} FROM items WHERE label > ? ORDER BY label LIMIT ?`),
      pageByCategory: p(
        `SELECT ${ITEM_COLUMNS} FROM items WHERE category = ? AND label > ? ORDER BY label LIMIT ?`,
      ),
      categories: p('SELECT category, COUNT(*) AS count FROM items GROUP BY category ORDER BY category'),
      count: p('SELECT COUNT(*) AS n FROM items'),
      countByCategory: p('SELECT COUNT(*) AS n FROM items WHERE category = ?'),
      image: p('SELECT im.png FROM items i JOIN item_images im USING (label) WHERE i.id = ?'),
      labelCategories: p('SELECT label, category FROM items'),
      insertItem: p(
        `INSERT INTO items (id, title, category, source, split, original_path, attributes, created_at, updated_at)
         VALUES (@id, @title, @category, @source, @split, @originalPath, @attributes, @now, @now)`,
      ),
      insertImage: p('INSERT INTO item_images (label, png) VALUES (?, ?)'),
      updateItem: p(
        `UPDATE items SET title = @title, category = @category, source = @source, split = @split,
         original_path = @originalPath, attributes = @attributes, updated_at = @now WHERE label = @label`,
      ),
      updateImage: p('UPDATE item_images SET png = ? WHERE label = ?'),
      deleteItem: p('DELETE FROM items WHERE label = ?'),
      deleteEmbeddingsOf: p('DELETE FROM embeddings WHERE label = ?'),
      putEmbedding: p(
        `INSERT INTO embeddings (model_version, label, dim, vector, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (model_version, label) DO UPDATE SET dim = excluded.dim, vector = excluded.vector,
         created_at = excluded.created_at`,
      ),
      getEmbedding: p('SELECT vector FROM embeddings WHERE model_version = ? AND label = ?'),
      embeddingPage: p(
        `SELECT e.label, e.vector, i.category FROM embeddings e JOIN items i USING (label)
         WHERE e.model_version = ? AND e.label > ? ORDER BY e.label LIMIT ?`,
      ),
      countEmbeddings: p('SELECT COUNT(*) AS n FROM embeddings WHERE model_version = ?'),
      missing: p(
        `SELECT i.label, im.png FROM items i JOIN item_images im USING (label)
         WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_version = ? AND e.label = i.label)
           AND i.label > ?
         ORDER BY i.label LIMIT ?`,
      ),
      embeddingVersions: p(
        'SELECT model_version AS modelVersion, COUNT(*) AS count FROM embeddings GROUP BY model_version',
      ),
      insertBuild: p(
        `INSERT INTO index_builds (model_version, status, params, model_dir, started_at)
         VALUES (?, 'queued', ?, ?, ?)`,
      ),
      getBuild: p('SELECT * FROM index_builds WHERE id = ?'),
      listBuilds: p('SELECT * FROM index_builds ORDER BY id DESC LIMIT ?'),
      activeBuilds: p(`SELECT * FROM index_builds WHERE status = 'active' ORDER BY id DESC`),
      activeBuildsOf: p(
        `SELECT * FROM index_builds WHERE status = 'active' AND model_version = ? ORDER BY id DESC`,
      ),
      insertChange: p('INSERT INTO changes (kind, label, build_id, at) VALUES (?, ?, ?, ?)'),
      changesAfter: p(
        'SELECT seq, kind, label, build_id AS buildId FROM changes WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      latestChange: p('SELECT COALESCE(MAX(seq), 0) AS seq FROM changes'),
      insertJob: p(`INSERT INTO jobs (type, status, model, started_at) VALUES (?, 'queued', ?, ?)`),
      unfinishedJob: p(`SELECT * FROM jobs WHERE type = ? AND status NOT IN ('active', 'failed')`),
      getJob: p('SELECT * FROM jobs WHERE id = ?'),
      latestJob: p('SELECT * FROM jobs ORDER BY id DESC LIMIT 1'),
      updateJob: p(
        `UPDATE jobs SET status = COALESCE(@status, status), model_version = COALESCE(@modelVersion, model_version),
         build_id = COALESCE(@buildId, build_id), progress = COALESCE(@progress, progress),
         item_count = COALESCE(@itemCount, item_count), error = COALESCE(@error, error),
         finished_at = CASE WHEN @status IN ('active', 'failed') THEN @now ELSE finished_at END
         WHERE id = @id`,
      ),
      failUnfinishedJobs: p(
        `UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE status NOT IN ('active', 'failed')`,
      ),
      failUnfinished: p(
        `UPDATE index_builds SET status = 'failed', error = ?, finished_at = ?
         WHERE status NOT IN ('active', 'failed')`,
      ),
    };
  }

  getItem(id: string): CatalogItem | null {
    const r = this.s.itemById.get(id) as ItemRow | undefined;
    return r ? toItem(r) : null;
  }

  getItemByLabel(label: number): CatalogItem | null {
    const r = this.s.itemByLabel.get(label) as ItemRow | undefined;
    return r ? toItem(r) : null;
  }

  listItems(options: ListItemsOptions = {}): ItemPage {
    const limit = options.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new ValidationError(`limit must be an integer in 1..${MAX_PAGE}`, 'INVALID_LIMIT');
    }
    const after = options.cursor ? decodeCursor(options.cursor) : 0;
    // One extra row tells whether another page exists without a COUNT.
    const rows = (
      options.category === undefined
        ? this.s.page.all(after, limit + 1)
        : this.s.pageByCategory.all(options.category, after, limit + 1)
    ) as ItemRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(toItem);
    return { items, nextCursor: more ? encodeCursor(items[items.length - 1].label) : null };
  }

  categories(): CategoryCount[] {
    return this.s.categories.all() as CategoryCount[];
  }

  countItems(category?: string): number {
    const r = (category === undefined ? this.s.count.get() : this.s.countByCategory.get(category)) as {
      n: number;
    };
    return r.n;
  }

  getImage(id: string): Uint8Array | null {
    const r = this.s.image.get(id) as { png: Buffer } | undefined;
    return r ? r.png : null;
  }

  labelCategories(): Map<number, string> {
    const out = new Map<number, string>();
    for (const r of this.s.labelCategories.iterate() as IterableIterator<{
      label: number;
      category: string;
    }>) {
      out.set(r.label, r.category);
    }
    return out;
  }

  *itemPages(): IterableIterator<CatalogItem[]> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = this.s.page.all(after, ITEM_PAGE) as ItemRow[];
      if (rows.length > 0) yield rows.map(toItem);
      if (rows.length < ITEM_PAGE) return;
      after = rows[rows.length - 1].label;
    }
  }

  upsertItems(batch: readonly NewItem[]): UpsertResult {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    this.db
      .transaction(() => {
        const ts = now();
        for (const item of batch) {
          const row = itemValues(item);
          const existing = this.s.itemWithImageById.get(item.id) as (ItemRow & { png: Buffer }) | undefined;
          if (!existing) {
            this.insert(row, ts);
            result.inserted++;
            continue;
          }
          const imageChanged = !sameBytes(row.image, existing.png);
          const metaChanged =
            existing.title !== row.title ||
            existing.category !== row.category ||
            existing.source !== row.source ||
            existing.split !== row.split ||
            existing.original_path !== row.originalPath ||
            existing.attributes !== row.attributes;
          if (!imageChanged && !metaChanged) {
            result.unchanged++;
            continue;
          }
          this.s.updateItem.run({ ...row, label: existing.label, now: ts, image: undefined });
          this.change('item', existing.label);
          if (imageChanged) {
            this.s.updateImage.run(row.image, existing.label);
            // Old embeddings describe the old picture: drop them so catalog:embed recomputes.
            this.s.deleteEmbeddingsOf.run(existing.label);
          }
          result.updated++;
        }
      })
      .immediate();
    return result;
  }

  addItem(item: NewItem, options: AddItemOptions = {}): CatalogItem {
    const row = itemValues(item);
    return this.db
      .transaction(() => {
        if (this.s.itemById.get(row.id))
          throw new ConflictError(`item '${row.id}' already exists`, 'ITEM_EXISTS');
        const label = this.insert(row, now());
        if (options.embedding) {
          const v = options.embedding.vector;
          this.s.putEmbedding.run(options.embedding.modelVersion, label, v.length, vectorToBlob(v), now());
        }
        const created = toItem(this.s.itemByLabel.get(label) as ItemRow);
        options.onCommitting?.(created);
        return created;
      })
      .immediate();
  }

  deleteItem(id: string, hooks: WriteHooks = {}): CatalogItem | null {
    return this.db
      .transaction(() => {
        const r = this.s.itemById.get(id) as ItemRow | undefined;
        if (!r) return null;
        this.s.deleteItem.run(r.label);
        this.change('delete', r.label);
        const deleted = toItem(r);
        hooks.onCommitting?.(deleted);
        return deleted;
      })
      .immediate();
  }

  updateItem(id: string, update: ItemUpdate, hooks: WriteHooks = {}): CatalogItem | null {
    return this.db
      .transaction(() => {
        const r = this.s.itemById.get(id) as ItemRow | undefined;
        if (!r) return null;
        const current = toItem(r);
        const row = itemValues({
          ...current,
          ...update,
          image: new Uint8Array(0),
        });
        this.s.updateItem.run({ ...row, label: r.label, now: now(), image: undefined });
        this.change('item', r.label);
        const updated = toItem(this.s.itemByLabel.get(r.label) as ItemRow);
        hooks.onCommitting?.(updated);
        return updated;
      })
      .immediate();
  }

  putEmbeddings(modelVersion: string, rows: readonly EmbeddingRow[]): void {
    const ts = now();
    this.db.transaction(() => {
      for (const r of rows) {
        this.s.putEmbedding.run(modelVersion, r.label, r.vector.length, vectorToBlob(r.vector), ts);
        this.change('item', r.label);
      }
    })();
  }

  getEmbedding(modelVersion: string, label: number): Float32Array | null {
    const r = this.s.getEmbedding.get(modelVersion, label) as { vector: Buffer } | undefined;
    return r ? blobToVector(r.vector) : null;
  }

  /**
   * Pages through the table instead of holding one statement open: an open
   * better-sqlite3 iterator makes the connection refuse every other query,
   * and a rebuild yields to the event loop (and to request handlers) between
   * chunks.
   */
  *embeddingPages(modelVersion: string): IterableIterator<StoredEmbedding[]> {
    let after = 0;
    for (;;) {
      const rows = this.s.embeddingPage.all(modelVersion, after, EMBEDDING_PAGE) as {
        label: number;
        vector: Buffer;
        category: string;
      }[];
      if (rows.length > 0)
        yield rows.map((r) => ({ label: r.label, vector: blobToVector(r.vector), category: r.category }));
      if (rows.length < EMBEDDING_PAGE) return;
      after = rows[rows.length - 1].label;
    }
  }

  countEmbeddings(modelVersion: string): number {
    return (this.s.countEmbeddings.get(modelVersion) as { n: number }).n;
  }

  missingEmbeddings(
    modelVersion: string,
    limit: number,
    afterLabel = Number.MIN_SAFE_INTEGER,
  ): PendingImage[] {
    const rows = this.s.missing.all(modelVersion, afterLabel, limit) as { label: number; png: Buffer }[];
    return rows.map((r) => ({ label: r.label, image: r.png }));
  }

  embeddingVersions(): { modelVersion: string; count: number }[] {
    return this.s.embeddingVersions.all() as { modelVersion: string; count: number }[];
  }

  recordBuild(modelVersion: string, params?: string, modelDir?: string): IndexBuild {
    const info = this.s.insertBuild.run(modelVersion, params ?? null, modelDir ?? null, now());
    return this.getBuild(Number(info.lastInsertRowid))!;
  }

  updateBuild(id: number, update: BuildUpdate): IndexBuild {
    const sets: string[] = [];
    const values: (string | number)[] = [];
    const set = (column: string, value: string | number | undefined) => {
      if (value === undefined) return;
      sets.push(`${column} = ?`);
      values.push(value);
    };
    set('status', update.status);
    set('item_count', update.itemCount);
    set('file', update.file);
    set('checksum', update.checksum);
    set('params', update.params);
    set('error', update.error);
    if (update.finished || update.status === 'active' || update.status === 'failed')
      set('finished_at', now());
    if (sets.length > 0) {
      this.db.transaction(() => {
        const info = this.db
          .prepare(`UPDATE index_builds SET ${sets.join(', ')} WHERE id = ?`)
          .run(...values, id);
        if (info.changes === 0) throw new NotFoundError(`index build ${id} not found`, 'BUILD_NOT_FOUND');
        if (update.status === 'active') this.change('build', null, id);
      })();
    }
    const b = this.getBuild(id);
    if (!b) throw new NotFoundError(`index build ${id} not found`, 'BUILD_NOT_FOUND');
    return b;
  }

  getBuild(id: number): IndexBuild | null {
    const r = this.s.getBuild.get(id) as BuildRow | undefined;
    return r ? toBuild(r) : null;
  }

  listBuilds(limit = 20): IndexBuild[] {
    return (this.s.listBuilds.all(limit) as BuildRow[]).map(toBuild);
  }

  latestCompleteBuild(modelVersion?: string): IndexBuild | null {
    return this.completeBuilds(modelVersion)[0] ?? null;
  }

  completeBuilds(modelVersion?: string): IndexBuild[] {
    const rows = (
      modelVersion === undefined ? this.s.activeBuilds.all() : this.s.activeBuildsOf.all(modelVersion)
    ) as BuildRow[];
    return rows.map(toBuild);
  }

  failUnfinishedBuilds(reason = 'interrupted: process stopped before the build finished'): number {
    return this.s.failUnfinished.run(reason, now()).changes;
  }

  changesAfter(seq: number, limit: number): Change[] {
    return this.s.changesAfter.all(seq, limit) as Change[];
  }

  latestChangeSeq(): number {
    return (this.s.latestChange.get() as { seq: number }).seq;
  }

  createJob(type: JobRecord['type'], model: string): JobRecord {
    return this.db
      .transaction(() => {
        const running = this.s.unfinishedJob.get(type) as JobRow | undefined;
        if (running) {
          throw new ConflictError(
            `index rebuild job ${running.id} is still ${running.status}`,
            'REBUILD_RUNNING',
          );
        }
        const info = this.s.insertJob.run(type, model, now());
        return toJob(this.s.getJob.get(Number(info.lastInsertRowid)) as JobRow);
      })
      .immediate();
  }

  updateJob(id: number, update: JobUpdate): JobRecord {
    const info = this.s.updateJob.run({
      id,
      status: update.status ?? null,
      modelVersion: update.modelVersion ?? null,
      buildId: update.buildId ?? null,
      progress: update.progress ?? null,
      itemCount: update.itemCount ?? null,
      error: update.error ?? null,
      now: now(),
    });
    if (info.changes === 0) throw new NotFoundError(`no job with id ${id}`, 'JOB_NOT_FOUND');
    return this.getJob(id)!;
  }

  getJob(id: number): JobRecord | null {
    const r = this.s.getJob.get(id) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  latestJob(): JobRecord | null {
    const r = this.s.latestJob.get() as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  failUnfinishedJobs(reason: string): number {
    return this.s.failUnfinishedJobs.run(reason, now()).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Appends to the change feed; called inside the write's transaction. */
  private change(kind: Change['kind'], label: number | null, buildId: number | null = null): void {
    this.s.insertChange.run(kind, label, buildId, now());
  }

  private insert(row: ItemValues, ts: string): number {
    const info = this.s.insertItem.run({ ...row, now: ts, image: undefined });
    const label = Number(info.lastInsertRowid);
    this.s.insertImage.run(label, row.image);
    this.change('item', label);
    return label;
  }
}
