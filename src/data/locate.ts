import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import cliProgress from 'cli-progress';
import { DataFileError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { gunzipIfNeeded, isGzip } from './idx.ts';

const log = createLogger('data');

interface KnownFile {
  /** MD5 of the official .gz as published by Zalando Research. */
  gzipMd5: string;
  /** MD5 of the decompressed IDX content: survives recompression (Debian ships recompressed files). */
  md5: string;
  size: number;
}

export const FASHION_MNIST_FILES = {
  'train-images-idx3-ubyte.gz': {
    gzipMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    md5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    size: 47040016,
  },
  'train-labels-idx1-ubyte.gz': {
    gzipMd5: '25c81989df183df01b3e8a0aad5dffbe',
    md5: '9018921c3c673c538a1fc5bad174d6f9',
    size: 60008,
  },
  't10k-images-idx3-ubyte.gz': {
    gzipMd5: 'bef4ecab320f06d8554ea6380940ec79',
    md5: '8181f5470baa50b63fa0f6fddb340f0a',
    size: 7840016,
  },
  't10k-labels-idx1-ubyte.gz': {
    gzipMd5: 'bb300cfdad3c16e7a12a480ee83cd310',
    md5: '15d484375f8d13e6eb1aabb0c3f46965',
    size: 10008,
  },
} as const satisfies Record<string, KnownFile>;

export type FashionMnistFileName = keyof typeof FASHION_MNIST_FILES;
export const TRAIN_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'] as const;
export const TEST_FILES = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;
export const ALL_FILES = [...TRAIN_FILES, ...TEST_FILES] as const;

export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
export const OFFICIAL_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';

export interface LocateOptions {
  /** Which files are needed (default: all four). */
  files?: readonly FashionMnistFileName[];
  /** Environment to read FASHION_MNIST_DIR, FASHION_MNIST_URL, XDG_CACHE_HOME from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Default /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist). */
  systemDir?: string;
  /** Default $XDG_CACHE_HOME or ~/.cache, plus /fashion-similar/fashion-mnist. */
  cacheDir?: string;
  /** Tried after the cache and before downloading, e.g. the test split bundled in the repo. */
  fallbackDirs?: readonly string[];
  /** Default true. */
  download?: boolean;
  /** Default $FASHION_MNIST_URL or the official host. */
  baseUrl?: string;
  /** Time allowed until response headers arrive (default 30 s) and for the whole body (default 15 min). */
  connectTimeoutMs?: number;
  downloadTimeoutMs?: number;
}

export interface VerifiedFile {
  name: FashionMnistFileName;
  path: string;
  /** Decompressed IDX bytes, ready for parseIdxImages/parseIdxLabels. */
  content: Uint8Array;
  /** MD5 of the decompressed content. */
  md5: string;
  /** True when the file is the byte-identical official .gz. */
  officialGzip: boolean;
}

export interface LocatedFiles {
  dir: string;
  source: 'env' | 'system' | 'cache' | 'fallback' | 'download';
  files: Partial<Record<FashionMnistFileName, VerifiedFile>>;
}

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'fashion-similar', 'fashion-mnist');
}

/** Reads, decompresses and checks one file against the known size and MD5; throws DataFileError saying what is wrong. */
export async function verifyFile(path: string, name: FashionMnistFileName): Promise<VerifiedFile> {
  const known: KnownFile = FASHION_MNIST_FILES[name];
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataFileError(
      code === 'ENOENT' ? `${path}: missing` : `${path}: unreadable (${(err as Error).message})`,
      code === 'ENOENT' ? 'DATA_FILE_MISSING' : 'DATA_FILE_UNREADABLE',
    );
  }
  const officialGzip = isGzip(bytes) && md5(bytes) === known.gzipMd5;
  const content = gunzipIfNeeded(bytes, path);
  if (content.length !== known.size) {
    throw new DataFileError(
      `${path}: ${content.length < known.size ? 'truncated' : 'too long'}: ${content.length} bytes decompressed, expected ${known.size}`,
      content.length < known.size ? 'DATA_FILE_TRUNCATED' : 'DATA_FILE_CORRUPT',
    );
  }
  const sum = md5(content);
  if (sum !== known.md5) {
    throw new DataFileError(
      `${path}: corrupt: MD5 of the decompressed content is ${sum}, expected ${known.md5}`,
      'DATA_FILE_CORRUPT',
    );
  }
  return { name, path, content, md5: sum, officialGzip };
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The .gz name, or the same file already decompressed (without .gz), whichever exists. */
async function pathInDir(dir: string, name: FashionMnistFileName): Promise<string> {
  const gz = join(dir, name);
  if (await fileExists(gz)) return gz;
  const raw = join(dir, name.replace(/\.gz$/, ''));
  return (await fileExists(raw)) ? raw : gz;
}

interface DirResult {
  found: Partial<Record<FashionMnistFileName, VerifiedFile>>;
  problems: string[];
}

async function examineDir(dir: string, names: readonly FashionMnistFileName[]): Promise<DirResult> {
  const found: DirResult['found'] = {};
  const problems: string[] = [];
  try {
    if (!(await stat(dir)).isDirectory()) return { found, problems: ['not a directory'] };
  } catch {
    return { found, problems: ['directory does not exist'] };
  }
  for (const name of names) {
    try {
      found[name] = await verifyFile(await pathInDir(dir, name), name);
    } catch (err) {
      problems.push(err instanceof DataFileError ? err.message : String(err));
    }
  }
  return { found, problems };
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause ? `${err.message} (${cause.code ?? cause.message})` : err.message;
}

/** Downloads url into dest via a unique temp file, verifies it, then renames it into place (atomic). */
async function download(
  url: string,
  dest: string,
  name: FashionMnistFileName,
  connectTimeoutMs: number,
  downloadTimeoutMs: number,
): Promise<VerifiedFile> {
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const controller = new AbortController();
  let timer = setTimeout(
    () => controller.abort(new Error(`no response within ${connectTimeoutMs} ms`)),
    connectTimeoutMs,
  );
  const bar = new cliProgress.SingleBar(
    { format: `${name} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  try {
    const res = await fetch(url, { signal: controller.signal });
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new Error(`download took longer than ${downloadTimeoutMs} ms`)),
      downloadTimeoutMs,
    );
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get('content-length') ?? 0);
    bar.start(total, 0);
    let received = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        bar.update(received);
        cb(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      progress,
      createWriteStream(tmp),
    );
    if (total > 0 && received !== total) throw new Error(`received ${received} of ${total} bytes`);
    const verified = await verifyFile(tmp, name);
    await rename(tmp, dest);
    return { ...verified, path: dest };
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
    bar.stop();
  }
}

/**
 * Finds verified copies of the requested Fashion-MNIST files: FASHION_MNIST_DIR, then the system
 * directory, then the user cache, then any fallback directories, else downloads the missing ones into
 * the cache. All files of one result come from one place. Throws one DataFileError listing every
 * place looked and what was wrong there.
 */
export async function locateFashionMnist(opts: LocateOptions = {}): Promise<LocatedFiles> {
  const env = opts.env ?? process.env;
  const names = opts.files ?? ALL_FILES;
  const cacheDir = opts.cacheDir ?? defaultCacheDir(env);
  const places: { label: string; dir: string; source: LocatedFiles['source'] }[] = [];
  const report: string[] = [];
  if (env.FASHION_MNIST_DIR) {
    places.push({
      label: `FASHION_MNIST_DIR=${env.FASHION_MNIST_DIR}`,
      dir: env.FASHION_MNIST_DIR,
      source: 'env',
    });
  } else {
    report.push('FASHION_MNIST_DIR: not set');
  }
  const systemDir = opts.systemDir ?? SYSTEM_DIR;
  places.push({ label: `${systemDir} (system)`, dir: systemDir, source: 'system' });
  places.push({ label: `${cacheDir} (user cache)`, dir: cacheDir, source: 'cache' });
  for (const dir of opts.fallbackDirs ?? [])
    places.push({ label: `${dir} (bundled)`, dir, source: 'fallback' });

  let cached: DirResult | undefined;
  for (const place of places) {
    const result = await examineDir(place.dir, names);
    if (place.source === 'cache') cached = result;
    if (result.problems.length === 0) {
      log.debug({ dir: place.dir, source: place.source }, 'fashion-mnist files found');
      return { dir: place.dir, source: place.source, files: result.found };
    }
    report.push(`${place.label}: ${result.problems.join('; ')}`);
    // An explicitly configured directory that does not work deserves a word even if a later place does.
    if (place.source === 'env')
      log.warn({ dir: place.dir, problems: result.problems }, 'FASHION_MNIST_DIR unusable');
  }

  const baseUrl = (opts.baseUrl ?? env.FASHION_MNIST_URL ?? OFFICIAL_BASE_URL).replace(/\/+$/, '');
  if (opts.download === false) {
    report.push(`download from ${baseUrl}: disabled`);
  } else {
    const files = { ...cached?.found };
    const failures: string[] = [];
    await mkdir(cacheDir, { recursive: true }).catch((err: Error) => failures.push(errorText(err)));
    for (const name of names) {
      if (files[name] || failures.length > 0) continue;
      const url = `${baseUrl}/${name}`;
      log.info({ url, dest: cacheDir }, 'downloading fashion-mnist file');
      try {
        files[name] = await download(
          url,
          join(cacheDir, name),
          name,
          opts.connectTimeoutMs ?? 30_000,
          opts.downloadTimeoutMs ?? 15 * 60_000,
        );
      } catch (err) {
        failures.push(`${url}: ${errorText(err)}`);
      }
    }
    if (failures.length === 0) return { dir: cacheDir, source: 'download', files };
    report.push(`download from ${baseUrl} into ${cacheDir}: ${failures.join('; ')}`);
  }
  throw new DataFileError(
    `Fashion-MNIST files ${names.join(', ')} not found or invalid. Looked in:\n` +
      report.map((line) => `  - ${line}`).join('\n') +
      '\nSet FASHION_MNIST_DIR to a directory holding them, install the Debian package ' +
      'dataset-fashion-mnist, or set FASHION_MNIST_URL to a reachable mirror.',
    'DATASET_NOT_FOUND',
  );
}
