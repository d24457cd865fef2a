import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { DataFileError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { projectPath } from '../paths.ts';

const log = createLogger('migrate');

export const DEFAULT_MIGRATIONS_DIR = projectPath('migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationResult {
  /** Versions applied by this call, ascending. */
  applied: number[];
  /** Schema version after the call. */
  version: number;
}

const FILE_PATTERN = /^(\d+)_([\w-]+)\.sql$/;

/** Reads `NNNN_name.sql` files in version order; duplicate versions are a packaging bug. */
export function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql: readFileSync(join(dir, file), 'utf8'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new DataFileError(`two migrations share version ${migrations[i].version} in ${dir}`);
    }
  }
  return migrations;
}

export function schemaVersion(db: Database): number {
  ensureVersionTable(db);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function ensureVersionTable(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
}

/**
 * Applies pending migrations, each in its own transaction together with its
 * version row, so a crash leaves the schema at a whole version. A database
 * written by a newer release (a version this code does not know) is refused:
 * running old code on it could silently misread or corrupt it.
 */
export function migrate(db: Database, migrations: Migration[] = readMigrations()): MigrationResult {
  const current = schemaVersion(db);
  const latest = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  if (current > latest) {
    throw new DataFileError(
      `database ${db.name} is at schema version ${current}, newer than this release knows (${latest}); ` +
        'upgrade the application or restore a matching backup',
      'SCHEMA_TOO_NEW',
    );
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }).immediate();
    log.info({ version: m.version, migration: m.name, db: db.name }, 'migration applied');
    applied.push(m.version);
  }
  return { applied, version: Math.max(current, latest) };
}
