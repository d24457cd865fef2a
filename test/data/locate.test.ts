import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_DIR, loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { defaultCacheDir, locateFashionMnist, TEST_FILES, verifyFile } from '../../src/data/locate.ts';
import { DataFileError } from '../../src/errors.ts';

const SYSTEM = '/usr/share/datasets/fashion-mnist';
const root = mkdtempSync(join(tmpdir(), 'fmnist-locate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function dir(): string {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
}
/** A directory holding valid test-split files (symlinks to the system copy). */
function validDir(): string {
  const d = dir();
  for (const f of TEST_FILES) symlinkSync(join(SYSTEM, f), join(d, f));
  return d;
}
const missing = join(root, 'does-not-exist');
const noDownload = { files: TEST_FILES, download: false } as const;

describe('verifyFile', () => {
  it('accepts the Debian-recompressed files by their decompressed MD5', async () => {
    const v = await verifyFile(join(SYSTEM, TEST_FILES[1]), TEST_FILES[1]);
    expect(v.md5).toBe('15d484375f8d13e6eb1aabb0c3f46965');
    expect(v.officialGzip).toBe(false);
    expect(v.content.length).toBe(10008);
  });

  it('the bundled copy is byte-identical to the system one', async () => {
    for (const f of TEST_FILES) {
      expect(readFileSync(join(BUNDLED_DIR, f)).equals(readFileSync(join(SYSTEM, f)))).toBe(true);
    }
  });
});

describe('locateFashionMnist search order', () => {
  it('FASHION_MNIST_DIR wins over the system directory', async () => {
    const envDir = validDir();
    const r = await locateFashionMnist({
      ...noDownload,
      env: { FASHION_MNIST_DIR: envDir },
      systemDir: SYSTEM,
    });
    expect(r.source).toBe('env');
    expect(r.dir).toBe(envDir);
    expect(r.files['t10k-images-idx3-ubyte.gz']?.path).toBe(join(envDir, 't10k-images-idx3-ubyte.gz'));
  });

  it('then the system directory', async () => {
    const r = await locateFashionMnist({ ...noDownload, env: {}, systemDir: SYSTEM, cacheDir: validDir() });
    expect(r.source).toBe('system');
    expect(r.dir).toBe(SYSTEM);
  });

  it('then the user cache under $XDG_CACHE_HOME', async () => {
    const xdg = dir();
    const cache = defaultCacheDir({ XDG_CACHE_HOME: xdg });
    expect(cache).toBe(join(xdg, 'fashion-similar', 'fashion-mnist'));
    mkdirSync(cache, { recursive: true });
    for (const f of TEST_FILES) symlinkSync(join(SYSTEM, f), join(cache, f));
    const r = await locateFashionMnist({ ...noDownload, env: { XDG_CACHE_HOME: xdg }, systemDir: missing });
    expect(r.source).toBe('cache');
    expect(r.dir).toBe(cache);
  });

  it('then fallback directories (the bundled test split)', async () => {
    const r = await locateFashionMnist({
      ...noDownload,
      env: {},
      systemDir: missing,
      cacheDir: missing,
      fallbackDirs: [BUNDLED_DIR],
    });
    expect(r.source).toBe('fallback');
    const set = await loadFashionMnistSplit('test', {
      env: {},
      systemDir: missing,
      cacheDir: missing,
      download: false,
    });
    expect(set.count).toBe(10000);
  });

  it('accepts already-decompressed files (name without .gz)', async () => {
    const d = dir();
    for (const f of TEST_FILES)
      writeFileSync(join(d, f.replace(/\.gz$/, '')), gunzipSync(readFileSync(join(SYSTEM, f))));
    const r = await locateFashionMnist({ ...noDownload, env: { FASHION_MNIST_DIR: d } });
    expect(r.source).toBe('env');
    expect(r.files['t10k-labels-idx1-ubyte.gz']?.path).toBe(join(d, 't10k-labels-idx1-ubyte'));
  });

  it('skips an invalid FASHION_MNIST_DIR and one error lists every place and what was wrong', async () => {
    const envDir = dir();
    // A truncated image file and a corrupt (one flipped byte, re-gzipped) label file.
    const images = readFileSync(join(SYSTEM, TEST_FILES[0]));
    writeFileSync(join(envDir, TEST_FILES[0]), images.subarray(0, images.length >> 1));
    const labels = gunzipSync(readFileSync(join(SYSTEM, TEST_FILES[1])));
    labels[100] = (labels[100] + 1) % 10;
    writeFileSync(join(envDir, TEST_FILES[1]), labels);

    const cache = dir();
    copyFileSync(join(SYSTEM, TEST_FILES[1]), join(cache, TEST_FILES[1]));
    const attempt = locateFashionMnist({
      ...noDownload,
      env: { FASHION_MNIST_DIR: envDir },
      systemDir: missing,
      cacheDir: cache,
    });
    const err = await attempt.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    const msg = (err as DataFileError).message;
    expect((err as DataFileError).code).toBe('DATASET_NOT_FOUND');
    expect(msg).toContain(
      `FASHION_MNIST_DIR=${envDir}: ${join(envDir, TEST_FILES[0])}: gzip data is truncated or corrupt`,
    );
    expect(msg).toContain(
      `${join(envDir, 't10k-labels-idx1-ubyte.gz')}: corrupt: MD5 of the decompressed content is`,
    );
    expect(msg).toContain(`${missing} (system): directory does not exist`);
    expect(msg).toContain(`${cache} (user cache): ${join(cache, TEST_FILES[0])}: missing`);
    expect(msg).toMatch(
      /download from http:\/\/fashion-mnist\.s3-website\.eu-central-1\.amazonaws\.com: disabled/,
    );
    // The valid labels file in the cache is not reported as a problem.
    expect(msg).not.toContain(join(cache, TEST_FILES[1]));

    // The same places with a valid system directory: found there.
    const r = await locateFashionMnist({
      ...noDownload,
      env: { FASHION_MNIST_DIR: envDir },
      systemDir: SYSTEM,
      cacheDir: cache,
    });
    expect(r.source).toBe('system');
  });

  it('reports an unset FASHION_MNIST_DIR and a truncated decompressed file', async () => {
    const d = dir();
    const labels = gunzipSync(readFileSync(join(SYSTEM, TEST_FILES[1])));
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), labels.subarray(0, 9000));
    const err = await locateFashionMnist({ ...noDownload, env: {}, systemDir: d, cacheDir: missing }).catch(
      (e: unknown) => e,
    );
    const msg = (err as Error).message;
    expect(msg).toContain('FASHION_MNIST_DIR: not set');
    expect(msg).toContain(
      `${join(d, 't10k-labels-idx1-ubyte')}: truncated: 9000 bytes decompressed, expected 10008`,
    );
  });
});
