/**
 * src/server/routes/web.ts over Fastify's inject, on a temporary "built page": headers, ETags and 304s,
 * compression, content types, unknown and unsafe asset names, and the 503 of a page that is not built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorsPlugin } from '../../src/server/plugins/errors.ts';
import {
  CONTENT_SECURITY_POLICY,
  etagMatches,
  pickEncoding,
  webRoutes,
} from '../../src/server/routes/web.ts';

const INDEX = `<!doctype html><html lang="en"><head><title>t</title><script type="module" src="/assets/index-AbCd1234.js"></script></head><body>${'<p>page</p>'.repeat(200)}</body></html>`;
const JS = `console.log(${JSON.stringify('x'.repeat(3000))});`;
const CSS = 'body{color:#111}';

let dir: string;
let app: FastifyInstance;
let empty: FastifyInstance;

async function serve(root: string): Promise<FastifyInstance> {
  const server = Fastify();
  await server.register(errorsPlugin);
  await server.register(webRoutes, { dir: root });
  await server.ready();
  return server;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'web-routes-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'index-AbCd1234.js'), JS);
  writeFileSync(join(dir, 'assets', 'index-EfGh5678.css'), CSS);
  writeFileSync(join(dir, 'secret.txt'), 'not an asset');
  app = await serve(dir);
  empty = await serve(join(dir, 'missing'));
});

afterAll(async () => {
  await app?.close();
  await empty?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('web routes', () => {
  it('serves index.html at / with no-cache, an ETag and a same-origin-only CSP', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toBe(INDEX);
    expect((await app.inject({ url: '/index.html' })).body).toBe(INDEX);

    const again = await app.inject({ url: '/', headers: { 'if-none-match': res.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(res.headers.etag);
    expect(again.headers['cache-control']).toBe('no-cache');
  });

  it('serves hashed assets as immutable with their content types', async () => {
    const js = await app.inject({ url: '/assets/index-AbCd1234.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe(JS);
    const css = await app.inject({ url: '/assets/index-EfGh5678.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const head = await app.inject({ method: 'HEAD', url: '/assets/index-EfGh5678.css' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('compresses text when the client accepts it, with an ETag per encoding', async () => {
    const gz = await app.inject({ url: '/assets/index-AbCd1234.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(JS);
    const br = await app.inject({
      url: '/assets/index-AbCd1234.js',
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(JS);
    expect(new Set([gz.headers.etag, br.headers.etag]).size).toBe(2);
    const plain = await app.inject({ url: '/assets/index-AbCd1234.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.etag).not.toBe(gz.headers.etag);
    // Tiny files are sent as they are.
    const css = await app.inject({
      url: '/assets/index-EfGh5678.css',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(css.headers['content-encoding']).toBeUndefined();
  });

  it('answers 404 ASSET_NOT_FOUND for unknown or unsafe asset names', async () => {
    for (const url of [
      '/assets/nope-12345678.js',
      '/assets/../secret.txt',
      '/assets/%2e%2e%2fsecret.txt',
      '/assets/.hidden',
      '/assets/a/b.js',
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('not an asset');
    }
    const res = await app.inject({ url: '/assets/nope-12345678.js' });
    expect(res.json()).toEqual({ error: { code: 'ASSET_NOT_FOUND', message: expect.any(String) } });
  });

  it('answers 503 WEB_NOT_BUILT when the page has not been built', async () => {
    for (const url of ['/', '/index.html', '/assets/index-AbCd1234.js']) {
      const res = await empty.inject({ url });
      expect(res.statusCode, url).toBe(503);
      const body = res.json() as { error: { code: string; message: string } };
      expect(body.error.code).toBe('WEB_NOT_BUILT');
      expect(body.error.message).toContain('npm run build:web');
    }
  });

  it('notices a rebuilt page without a restart', async () => {
    const before = await app.inject({ url: '/' });
    const changed = INDEX.replace('<title>t</title>', '<title>t2</title>');
    writeFileSync(join(dir, 'index.html'), changed);
    const after = await app.inject({ url: '/', headers: { 'if-none-match': before.headers.etag as string } });
    expect(after.statusCode).toBe(200);
    expect(after.body).toBe(changed);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('parses Accept-Encoding and If-None-Match', () => {
    expect(pickEncoding(undefined)).toBe('identity');
    expect(pickEncoding('gzip;q=0, br;q=0')).toBe('identity');
    expect(pickEncoding('gzip, br;q=0')).toBe('gzip');
    expect(pickEncoding('*')).toBe('br');
    expect(pickEncoding('identity')).toBe('identity');
    expect(etagMatches('"a", "b"', '"b"')).toBe(true);
    expect(etagMatches('W/"b"', '"b"')).toBe(true);
    expect(etagMatches('*', '"b"')).toBe(true);
    expect(etagMatches('"c"', '"b"')).toBe(false);
    expect(etagMatches(undefined, '"b"')).toBe(false);
  });
});
