import type { Pool, PoolClient } from 'pg';
import { DataFileError } from '../../errors.ts';
import { createLogger } from '../../log.ts';
import { projectPath } from '../../paths.ts';
import { type Migration, type MigrationResult, readMigrations } from '../migrate.ts';

const log = createLogger('migrate');

export const POSTGRES_MIGRATIONS_DIR = projectPath('src', 'catalog', 'postgres', 'migrations');

/** Any constant shared by every release: it serialises replicas that start (and migrate) at the same time. */
const MIGRATION_LOCK_KEY = 0x6d696772; // "migr"

export function readPostgresMigrations(): Migration[] {
  return readMigrations(POSTGRES_MIGRATIONS_DIR);
}

/** The newest migration applied. */
export async function schemaVersion(client: Pick<PoolClient, 'query'>): Promise<number> {
  const r = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return r.rows[0].v ?? 0;
}

/**
 * Applies pending migrations, each in its own transaction with its version
 * row (DDL is transactional in PostgreSQL, so a failure leaves a whole
 * version), under an advisory lock so that two replicas starting together do
 * not both apply one. A database at a version this release does not know is
 * refused, as for SQLite.
 */
export async function migratePostgres(
  pool: Pool,
  migrations: Migration[] = readPostgresMigrations(),
): Promise<MigrationResult> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const current = await schemaVersion(client);
      const latest = migrations.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new DataFileError(
          `the PostgreSQL catalog is at schema version ${current}, newer than this release knows (${latest}); ` +
            'upgrade the application or restore a matching backup',
          'SCHEMA_TOO_NEW',
        );
      }
      const applied: number[] = [];
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
            m.version,
            m.name,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        log.info({ version: m.version, migration: m.name }, 'migration applied');
        applied.push(m.version);
      }
      return { applied, version: Math.max(current, latest) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
