/**
 * Online backups of a data directory: a consistent copy of the catalog taken
 * with SQLite's backup API (or `pg_dump -Fc` of a PostgreSQL catalog) while
 * the server keeps reading and writing, the index files of the active build
 * it records, and a manifest (what was backed up, with checksums). One tar
 * file; `restoreBackup` unpacks it into a new data directory that a server
 * starts from as it would after a restart (and `pg_restore`s a PostgreSQL
 * dump into an empty database).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';
import { DataFileError, ValidationError } from '../errors.ts';
import type { LogSink } from '../log.ts';
import type { AsyncCatalogStore } from './asyncStore.ts';
import { SqliteAsyncStore } from './asyncStore.ts';
import { openCatalog } from './sqliteStore.ts';
import type { IndexBuild } from './store.ts';

export const BACKUP_FORMAT = 'fashion-similar-backup/1';
const CATALOG_FILE = 'catalog.sqlite';
const PG_DUMP_FILE = 'catalog.pgdump';
const MANIFEST_FILE = 'backup.json';
/** The PostgreSQL 15 client programs (Debian `postgresql-15`); PG_BIN overrides. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

const run = promisify(execFile);

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  /** Which store the catalog file is a copy of (absent in older backups: SQLite). */
  catalog?: 'sqlite' | 'postgres';
  createdAt: string;
  items: number;
  /** The active index build in the copied catalog, or null when it has none. */
  build: { id: number; modelVersion: string } | null;
  /** The model directory's metadata.json at backup time (the weights are not copied), or null. */
  model: { dir: string; metadata: unknown } | null;
  /** Path inside the archive → sha256 hex. */
  files: Record<string, string>;
}

export interface BackupOptions {
  /** The open catalog to copy (`openStore`). */
  store: AsyncCatalogStore;
  /** DATABASE_URL of a PostgreSQL store (pg_dump connects itself). */
  databaseUrl?: string;
  dataDir: string;
  out: string;
  /** The served model's directory, whose metadata goes into the manifest. */
  modelDir?: string;
  log: LogSink;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A PostgreSQL URL without its password, and the password for pg_dump/pg_restore's environment (not argv). */
function pgConnection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return {
    dbname: parsed.toString(),
    env: password ? { ...process.env, PGPASSWORD: password } : process.env,
  };
}

function pgProgram(name: 'pg_dump' | 'pg_restore'): string {
  const path = join(PG_BIN, name);
  if (!existsSync(path)) {
    throw new ValidationError(
      `${path} not found: a PostgreSQL catalog is backed up with pg_dump and restored with pg_restore ` +
        '(apt-get install postgresql-client-15, or set PG_BIN)',
      'PG_DUMP_MISSING',
    );
  }
  return path;
}

/** The catalog copied into `scratch`: its file name there, and what it holds. */
async function copyCatalog(
  options: BackupOptions,
  scratch: string,
): Promise<{ name: string; build: IndexBuild | null; items: number }> {
  const { store, log } = options;
  if (store instanceof SqliteAsyncStore) {
    const copy = join(scratch, CATALOG_FILE);
    await store.sync.db.backup(copy, {
      progress: ({ totalPages, remainingPages }) => {
        log.info({ done: totalPages - remainingPages, total: totalPages }, 'backing up the catalog');
        return 1000;
      },
    });
    const snapshot = openCatalog(copy);
    try {
      return { name: CATALOG_FILE, build: snapshot.latestCompleteBuild(), items: snapshot.countItems() };
    } finally {
      snapshot.close();
    }
  }
  if (!options.databaseUrl) throw new ValidationError('a PostgreSQL backup needs DATABASE_URL', 'NO_CATALOG');
  const { dbname, env } = pgConnection(options.databaseUrl);
  // pg_dump reads one snapshot; the build and count below are read just before it, so the dump
  // holds at least that build and those items (the build's files are checked against its record).
  const build = await store.latestCompleteBuild();
  const items = await store.countItems();
  log.info({ catalog: store.location }, 'backing up the catalog with pg_dump');
  await run(
    pgProgram('pg_dump'),
    ['-Fc', '--no-owner', '-f', join(scratch, PG_DUMP_FILE), '--dbname', dbname],
    { env },
  );
  return { name: PG_DUMP_FILE, build, items };
}

/** Writes the backup to `out` (via a temporary name and a rename); returns its manifest. */
export async function createBackup(options: BackupOptions): Promise<BackupManifest> {
  const { dataDir, log } = options;
  const scratch = await mkdtemp(join(tmpdir(), 'backup-'));
  try {
    const { name, build, items } = await copyCatalog(options, scratch);
    const files: { name: string; bytes: Buffer }[] = [{ name, bytes: await readFile(join(scratch, name)) }];
    // A replica may not have the active build's files yet (it builds them itself): they are optional there.
    const local = build?.file && existsSync(join(dataDir, 'index', build.file));
    if (build?.file && (options.store.kind === 'sqlite' || local)) {
      for (const name of [build.file, `index-${build.id}.json`]) {
        files.push({ name: `index/${name}`, bytes: await readFile(join(dataDir, 'index', name)) });
      }
      const indexFile = files[1];
      if (options.store.kind === 'sqlite' && sha256(indexFile.bytes) !== build.checksum) {
        throw new DataFileError(
          `${indexFile.name} does not match its build's checksum`,
          'INDEX_FILE_CORRUPT',
        );
      }
    }
    const metadataPath = options.modelDir ? join(options.modelDir, 'metadata.json') : null;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      catalog: options.store.kind,
      createdAt: new Date().toISOString(),
      items,
      build: build ? { id: build.id, modelVersion: build.modelVersion } : null,
      model:
        metadataPath && existsSync(metadataPath)
          ? { dir: options.modelDir!, metadata: JSON.parse(readFileSync(metadataPath, 'utf8')) }
          : null,
      files: Object.fromEntries(files.map((f) => [f.name, sha256(f.bytes)])),
    };
    const pack = tar.pack();
    const tmpOut = `${options.out}.${process.pid}.tmp`;
    mkdirSync(dirname(resolve(options.out)), { recursive: true });
    const written = pipeline(pack, createWriteStream(tmpOut));
    pack.entry({ name: MANIFEST_FILE }, `${JSON.stringify(manifest, null, 2)}\n`);
    for (const f of files) pack.entry({ name: f.name }, f.bytes);
    pack.finalize();
    await written;
    await rename(tmpOut, options.out);
    log.info({ out: options.out, items, build: manifest.build }, 'backup written');
    return manifest;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Unpacks a backup into `dataDir`, which must be empty or absent; checks every
 * file's checksum first. A PostgreSQL backup's dump is restored into the
 * (empty) database at `databaseUrl`, in one transaction.
 */
export async function restoreBackup(
  from: string,
  dataDir: string,
  log: LogSink,
  databaseUrl = '',
): Promise<BackupManifest> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new ValidationError(
      `${dataDir} is not empty: restore into a new data directory`,
      'DATA_DIR_NOT_EMPTY',
    );
  }
  const entries = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      entries.set(header.name, Buffer.concat(chunks));
      next();
    });
    stream.resume();
  });
  await pipeline(createReadStream(from), extract);
  const raw = entries.get(MANIFEST_FILE);
  if (!raw) throw new DataFileError(`${from} is not a backup: no ${MANIFEST_FILE}`, 'BACKUP_INVALID');
  const manifest = JSON.parse(raw.toString('utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) {
    throw new DataFileError(`${from}: unknown backup format '${manifest.format}'`, 'BACKUP_INVALID');
  }
  for (const [name, digest] of Object.entries(manifest.files)) {
    const bytes = entries.get(name);
    if (!bytes || sha256(bytes) !== digest) {
      throw new DataFileError(`${from}: ${name} is missing or corrupt`, 'BACKUP_CORRUPT');
    }
    if (normalize(name).startsWith('..'))
      throw new DataFileError(`${from}: unsafe path ${name}`, 'BACKUP_INVALID');
  }
  if (manifest.catalog === 'postgres') {
    if (!databaseUrl) {
      throw new ValidationError(
        'this backup is of a PostgreSQL catalog: set DATABASE_URL to an empty database',
        'NO_CATALOG',
      );
    }
    const scratch = await mkdtemp(join(tmpdir(), 'restore-'));
    try {
      const dump = join(scratch, PG_DUMP_FILE);
      await writeFile(dump, entries.get(PG_DUMP_FILE)!);
      const { dbname, env } = pgConnection(databaseUrl);
      await run(
        pgProgram('pg_restore'),
        ['--no-owner', '--single-transaction', '--exit-on-error', '--dbname', dbname, dump],
        { env },
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  for (const name of Object.keys(manifest.files)) {
    if (name === PG_DUMP_FILE) continue;
    const path = join(dataDir, name);
    mkdirSync(dirname(path), { recursive: true });
    await writeFile(path, entries.get(name)!);
  }
  log.info({ from, dataDir, items: manifest.items, build: manifest.build }, 'backup restored');
  return manifest;
}
