/**
 * Online backups of a data directory: a consistent copy of the catalog taken
 * with SQLite's backup API while the server keeps reading and writing, the
 * index files of the active build it records, and a manifest (what was
 * backed up, with checksums). One tar file; `restoreBackup` unpacks it into
 * a new data directory that a server starts from as it would after a restart.
 */
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
import * as tar from 'tar-stream';
import { DataFileError, ValidationError } from '../errors.ts';
import type { LogSink } from '../log.ts';
import { openCatalog } from './sqliteStore.ts';

export const BACKUP_FORMAT = 'fashion-similar-backup/1';
const CATALOG_FILE = 'catalog.sqlite';
const MANIFEST_FILE = 'backup.json';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
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
  dataDir: string;
  out: string;
  /** The served model's directory, whose metadata goes into the manifest. */
  modelDir?: string;
  log: LogSink;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes the backup to `out` (via a temporary name and a rename); returns its manifest. */
export async function createBackup(options: BackupOptions): Promise<BackupManifest> {
  const { dataDir, log } = options;
  const catalog = join(dataDir, CATALOG_FILE);
  if (!existsSync(catalog)) throw new ValidationError(`no catalog at ${catalog}`, 'NO_CATALOG');
  const scratch = await mkdtemp(join(tmpdir(), 'backup-'));
  try {
    const copy = join(scratch, CATALOG_FILE);
    const live = openCatalog(catalog);
    try {
      await live.db.backup(copy, {
        progress: ({ totalPages, remainingPages }) => {
          log.info({ done: totalPages - remainingPages, total: totalPages }, 'backing up the catalog');
          return 1000;
        },
      });
    } finally {
      live.close();
    }
    const snapshot = openCatalog(copy);
    const build = snapshot.latestCompleteBuild();
    const items = snapshot.countItems();
    snapshot.close();
    const files: { name: string; bytes: Buffer }[] = [{ name: CATALOG_FILE, bytes: await readFile(copy) }];
    if (build?.file) {
      for (const name of [build.file, `index-${build.id}.json`]) {
        files.push({ name: `index/${name}`, bytes: await readFile(join(dataDir, 'index', name)) });
      }
      const indexFile = files[1];
      if (sha256(indexFile.bytes) !== build.checksum) {
        throw new DataFileError(
          `${indexFile.name} does not match its build's checksum`,
          'INDEX_FILE_CORRUPT',
        );
      }
    }
    const metadataPath = options.modelDir ? join(options.modelDir, 'metadata.json') : null;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
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

/** Unpacks a backup into `dataDir`, which must be empty or absent; checks every file's checksum first. */
export async function restoreBackup(from: string, dataDir: string, log: LogSink): Promise<BackupManifest> {
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
  for (const name of Object.keys(manifest.files)) {
    const path = join(dataDir, name);
    mkdirSync(dirname(path), { recursive: true });
    await writeFile(path, entries.get(name)!);
  }
  log.info({ from, dataDir, items: manifest.items, build: manifest.build }, 'backup restored');
  return manifest;
}
