import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, readMigrations, schemaVersion } from '../../src/catalog/migrate.ts';
import { openCatalog } from '../../src/catalog/sqliteStore.ts';

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-migrate-'));
  dirs.push(dir);
  return join(dir, 'catalog.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('migrations', () => {
  it('creates a fresh database at the latest version with WAL and foreign keys on', () => {
    const store = openCatalog(tempDb());
    const latest = readMigrations().at(-1)!.version;
    expect(schemaVersion(store.db)).toBe(latest);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = store.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(
      expect.arrayContaining(['embeddings', 'index_builds', 'item_images', 'items', 'schema_migrations']),
    );
    store.close();
  });

  it('is a no-op when run again', () => {
    const path = tempDb();
    openCatalog(path).close();
    const db = new Database(path);
    expect(migrate(db).applied).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(readMigrations().length);
    db.close();
    // Reopening through the store applies nothing either.
    openCatalog(path).close();
  });

  it('refuses a database at a newer, unknown version with a clear message', () => {
    const path = tempDb();
    openCatalog(path).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')").run();
    db.close();
    expect(() => openCatalog(path)).toThrow(/schema version 999, newer than this release knows/);
  });

  it('applies each migration in its own transaction: a failing one leaves the previous version intact', () => {
    const db = new Database(tempDb());
    const migrations = [
      { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, name: 'two', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO missing_table VALUES (1);' },
    ];
    expect(() => migrate(db, migrations)).toThrow(/missing_table/);
    expect(schemaVersion(db)).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toContain('a');
    expect(tables).not.toContain('b');
    db.close();
  });
});
