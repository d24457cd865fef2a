/**
 * The one way every entry point (server, CLIs) opens the catalog:
 * PostgreSQL when `DATABASE_URL` is set (replicas share it), else the
 * embedded SQLite file in `DATA_DIR`.
 */
import { join } from 'node:path';
import type { Config } from '../config/env.ts';
import type { LogSink } from '../log.ts';
import { type AsyncCatalogStore, SqliteAsyncStore } from './asyncStore.ts';
import { openPostgresCatalog } from './postgres/pgStore.ts';
import { openCatalog } from './sqliteStore.ts';

/** Where the SQLite catalog lives inside DATA_DIR. */
export function catalogPath(dataDir: string): string {
  return join(dataDir, 'catalog.sqlite');
}

export interface OpenStoreOptions {
  /** A SQLite file other than `DATA_DIR/catalog.sqlite` (the CLIs' `--db`); ignored with DATABASE_URL. */
  sqlitePath?: string;
  log?: LogSink;
}

/** Opens (and migrates) the configured catalog; throws NotReadyError CATALOG_UNAVAILABLE when PostgreSQL is unreachable. */
export async function openStore(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>,
  options: OpenStoreOptions = {},
): Promise<AsyncCatalogStore> {
  const store = config.DATABASE_URL
    ? await openPostgresCatalog(config.DATABASE_URL)
    : new SqliteAsyncStore(openCatalog(options.sqlitePath ?? catalogPath(config.DATA_DIR)));
  options.log?.info({ store: { kind: store.kind, location: store.location } }, 'catalog opened');
  return store;
}
