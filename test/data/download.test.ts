import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { locateFashionMnist, TEST_FILES } from '../../src/data/locate.ts';
import { DataFileError } from '../../src/errors.ts';

const SYSTEM = '/usr/share/datasets/fashion-mnist';
const root = mkdtempSync(join(tmpdir(), 'fmnist-dl-'));
const missing = join(root, 'none');

/** Serves the real files under /good/, a corrupted copy (one flipped byte) under /bad/, 404 elsewhere. */
let server: Server;
let base: string;
const requests: string[] = [];
beforeAll(async () => {
  const files = new Map(TEST_FILES.map((f) => [f, readFileSync(join(SYSTEM, f))]));
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const [, kind, name] = (req.url ?? '').split('/');
    const body = files.get(name as (typeof TEST_FILES)[number]);
    if (!body || (kind !== 'good' && kind !== 'bad')) {
      res.writeHead(404).end('not found');
      return;
    }
    const out = Buffer.from(body);
    if (kind === 'bad') out[out.length - 10] ^= 0x55;
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': out.length }).end(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

describe('download into the user cache from a local HTTP server serving the real files', () => {
  it('downloads, verifies, renames into the cache; the next call finds the cache without downloading', async () => {
    const cache = join(root, 'cache1');
    const env = { FASHION_MNIST_URL: `${base}/good` };
    const r = await locateFashionMnist({ files: TEST_FILES, env, systemDir: missing, cacheDir: cache });
    expect(r.source).toBe('download');
    expect(r.dir).toBe(cache);
    expect(readdirSync(cache).sort()).toEqual([...TEST_FILES].sort()); // no temp files left behind
    expect(r.files['t10k-images-idx3-ubyte.gz']?.md5).toBe('8181f5470baa50b63fa0f6fddb340f0a');

    const before = requests.length;
    const set = await loadFashionMnistSplit('test', { env, systemDir: missing, cacheDir: cache });
    expect(set.count).toBe(10000);
    expect(requests.length).toBe(before);
  });

  it('uses $XDG_CACHE_HOME when no cache dir is given', async () => {
    const xdg = join(root, 'xdg');
    const r = await locateFashionMnist({
      files: [TEST_FILES[1]],
      env: { FASHION_MNIST_URL: `${base}/good/`, XDG_CACHE_HOME: xdg },
      systemDir: missing,
    });
    expect(r.dir).toBe(join(xdg, 'fashion-similar', 'fashion-mnist'));
    expect(readdirSync(r.dir)).toEqual([TEST_FILES[1]]);
  });

  it('rejects a corrupted download, leaves nothing in the cache, and says why', async () => {
    const cache = join(root, 'cache2');
    const err = await locateFashionMnist({
      files: TEST_FILES,
      systemDir: missing,
      cacheDir: cache,
      env: {},
      baseUrl: `${base}/bad`,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataFileError);
    const msg = (err as Error).message;
    expect(msg).toContain(`download from ${base}/bad into ${cache}: ${base}/bad/t10k-images-idx3-ubyte.gz:`);
    expect(msg).toMatch(/gzip data is truncated or corrupt|corrupt: MD5/);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('reports HTTP errors and a refused connection', async () => {
    const opts = { files: TEST_FILES, systemDir: missing, env: {} } as const;
    const e404 = await locateFashionMnist({
      ...opts,
      cacheDir: join(root, 'c3'),
      baseUrl: `${base}/nothing`,
    }).catch((e: unknown) => e);
    expect((e404 as Error).message).toContain(`${base}/nothing/t10k-images-idx3-ubyte.gz: HTTP 404`);

    // Find a free port by listening and closing, so the connection is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const refused = await locateFashionMnist({
      ...opts,
      cacheDir: join(root, 'c4'),
      baseUrl: `http://127.0.0.1:${port}`,
    }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/fetch failed \(ECONNREFUSED\)/);
  });
});
