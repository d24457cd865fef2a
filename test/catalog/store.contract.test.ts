import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAsyncStore } from '../../src/catalog/asyncStore.ts';
import { migratePostgres, readPostgresMigrations } from '../../src/catalog/postgres/migrate.ts';
import { openPostgresCatalog, type PostgresCatalogStore } from '../../src/catalog/postgres/pgStore.ts';
import { openCatalog } from '../../src/catalog/sqliteStore.ts';
import { NotReadyError } from '../../src/errors.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { describeStoreContract, item } from './storeContract.ts';

/** Fast enough for the wake-up test, slow enough not to matter. */
const SQLITE_TEST_POLL_MS = 20;

describeStoreContract('SQLite (async adapter)', () => {
  let dir = '';
  const path = () => join(dir, 'catalog.sqlite');
  return {
    async open() {
      dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
      return new SqliteAsyncStore(openCatalog(path()), SQLITE_TEST_POLL_MS);
    },
    async openAnother() {
      return new SqliteAsyncStore(openCatalog(path()), SQLITE_TEST_POLL_MS);
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describeStoreContract('PostgreSQL 15', () => {
  let url = '';
  return {
    async open() {
      url = await server.createDatabase();
      return openPostgresCatalog(url);
    },
    openAnother: () => openPostgresCatalog(url),
    // Each test has a database of its own; they all go with the cluster.
    cleanup: async () => {},
  };
});

describe('PostgreSQL store: the medium', () => {
  async function withStore<T>(fn: (store: PostgresCatalogStore, url: string) => Promise<T>): Promise<T> {
    const url = await server.createDatabase();
    const store = await openPostgresCatalog(url);
    try {
      return await fn(store, url);
    } finally {
      await store.close();
    }
  }

  it('migrates a new database once, even when two replicas start together', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([openPostgresCatalog(url), openPostgresCatalog(url)]);
    const versions = await a.pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(versions.rows).toEqual(
      readPostgresMigrations().map((m) => ({ version: m.version, name: m.name })),
    );
    expect(await migratePostgres(b.pool)).toEqual({
      applied: [],
      version: readPostgresMigrations().at(-1)!.version,
    });
    const tables = await a.pool.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'changes',
      'embeddings',
      'index_builds',
      'item_images',
      'items',
      'jobs',
      'schema_migrations',
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a database at a newer, unknown version with a clear message', async () => {
    await withStore(async (store, url) => {
      await store.pool.query(`INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`);
      const opening = openPostgresCatalog(url);
      await expect(opening).rejects.toThrow(/schema version 999, newer than this release knows/);
      await expect(opening).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' });
    });
  });

  it('applies each migration in its own transaction: a failing one leaves the previous version intact', async () => {
    const url = await server.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const migrations = [
      { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO missing_table VALUES (1);' },
    ];
    await expect(migratePostgres(pool, migrations)).rejects.toThrow(/missing_table/);
    const tables = await pool.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.rows.map((r) => r.table_name).sort()).toEqual(['a', 'schema_migrations']);
    expect((await pool.query('SELECT MAX(version) AS v FROM schema_migrations')).rows[0].v).toBe(1);
    await pool.end();
  });

  it('stores attributes as JSONB, images and vectors as bytes', async () => {
    await withStore(async (store) => {
      const added = await store.addItem(
        { ...item(1), attributes: { price: 12.5, sizes: ['S'] } },
        { embedding: { modelVersion: 'm', vector: new Float32Array([1, 2]) } },
      );
      const row = await store.pool.query(
        `SELECT attributes->>'price' AS price, pg_typeof(attributes)::text AS type, octet_length(png) AS png,
           octet_length(vector) AS vector
         FROM items JOIN item_images USING (label) JOIN embeddings USING (label) WHERE label = $1`,
        [added.label],
      );
      expect(row.rows[0]).toEqual({ price: '12.5', type: 'jsonb', png: 3, vector: 8 });
    });
  });

  it('reconnects a LISTEN connection that the server dropped, and wakes the listener', async () => {
    await withStore(async (store, url) => {
      const wakes: number[] = [];
      const listener = await store.listenForChanges((seq) => wakes.push(seq));
      const database = new URL(url).pathname.slice(1);
      const killed = await server.admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'fashion-similar listen'`,
        [database],
      );
      expect(killed.rowCount).toBe(1);
      await store.addItem(item(1));
      const seq = await store.latestChangeSeq();
      // The write may land before the new LISTEN (the reconnect then reports the latest number) or after it.
      await expect.poll(() => wakes.includes(seq), { timeout: 5000, interval: 20 }).toBe(true);
      await store.addItem(item(2));
      await expect.poll(() => wakes.includes(seq + 1), { timeout: 5000, interval: 20 }).toBe(true);
      await listener.close();
    });
  });

  it('recovers pooled connections the server dropped', async () => {
    await withStore(async (store, url) => {
      await store.addItem(item(1));
      await server.admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [new URL(url).pathname.slice(1)],
      );
      await expect.poll(() => store.countItems().catch(() => -1), { timeout: 5000, interval: 50 }).toBe(1);
    });
  });

  it('reports an unreachable server as NotReadyError CATALOG_UNAVAILABLE', async () => {
    // Nothing listens on port 1 (tcpmux) on a test machine: the connection is refused at once.
    const opening = openPostgresCatalog('postgres://postgres@127.0.0.1:1/none');
    await expect(opening).rejects.toBeInstanceOf(NotReadyError);
    await expect(opening).rejects.toMatchObject({ code: 'CATALOG_UNAVAILABLE', status: 503 });
  });
});
