/**
 * Limits and protections of an internet-facing server, over real HTTP:
 * rate limits (429 with the envelope and Retry-After on the expensive routes
 * only), the bounded image work (503 OVERLOADED with Retry-After, in the HTTP
 * admission and in the embedding queue itself), the optional read token
 * (API_TOKEN) beside the admin token, CORS off by default and on for the
 * configured origins, helmet's headers, and the /docs page rendering under
 * them in a real browser.
 */
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import type { Embedder } from '../../src/model/embedder.contract.ts';
import { ImageWork } from '../../src/server/imageWork.ts';
import { EmbedQueue } from '../../src/serving/embedQueue.ts';
import { productPhoto } from './fixtures.ts';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from './harness.ts';

const ADMIN = 'limits-admin-token';
const READ = 'limits-read-token';
const ITEM = 'fmnist-test-00003';
const CHROMIUM = '/usr/bin/chromium';

let prepared: Prepared;
let png: Buffer;

async function expectEnvelope(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
}

const rawPng = (body: Uint8Array, query = '') =>
  [`/similar${query}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body }] as const;

beforeAll(async () => {
  prepared = await prepareData(200);
});

afterAll(() => {
  if (prepared) removeData(prepared);
});

describe('rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(prepared, { RATE_LIMIT_PER_MINUTE: '3' });
    png = Buffer.from((await server.app.store.getImage('fmnist-test-00007'))!);
  });
  afterAll(() => server?.close());

  it('POST /similar: 3 per minute, then 429 RATE_LIMITED with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await server.request(...rawPng(png));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
      await res.arrayBuffer();
    }
    const limited = await server.request(...rawPng(png));
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    await expectEnvelope(limited, 429, 'RATE_LIMITED');
  });

  it('the batch routes are limited too, each on its own', async () => {
    const body = JSON.stringify({ queries: [{ positive: [ITEM], k: 2 }] });
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    for (let i = 0; i < 3; i++)
      expect((await server.request('/recommendations/batch', init)).status).toBe(200);
    await expectEnvelope(await server.request('/recommendations/batch', init), 429, 'RATE_LIMITED');
    const images = JSON.stringify({ images: [png.toString('base64')] });
    const batch = { method: 'POST', headers: { 'content-type': 'application/json' }, body: images };
    expect((await server.request('/similar/batch', batch)).status).toBe(200);
  });

  it('TRUST_PROXY: behind a proxy each X-Forwarded-For client has its own limit; without it, the socket address counts', async () => {
    const proxied = await startServer(prepared, { RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1' });
    try {
      const from = (client: string) =>
        proxied.request('/similar', {
          method: 'POST',
          headers: { 'content-type': 'image/png', 'x-forwarded-for': client },
          body: png,
        });
      for (const client of ['203.0.113.1', '203.0.113.2']) {
        expect((await from(client)).status).toBe(200);
        expect((await from(client)).status).toBe(200);
        await expectEnvelope(await from(client), 429, 'RATE_LIMITED');
      }
    } finally {
      await proxied.close();
    }
    // The server of this block does not trust proxies: a forged header does not buy a new limit.
    const forged = await server.request('/similar', {
      method: 'POST',
      headers: { 'content-type': 'image/png', 'x-forwarded-for': '198.51.100.7' },
      body: png,
    });
    await expectEnvelope(forged, 429, 'RATE_LIMITED');
  });

  it('the cheap routes are not limited', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await server.request(`/items/${ITEM}/recommendations?k=2`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      await res.arrayBuffer();
    }
  });
});

describe('bounded image work', () => {
  it('EmbedQueue refuses past maxPending with 503 OVERLOADED, and takes images again once drained', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const embedder = {
      dim: 2,
      modelVersion: 'fake@1',
      engine: 'fake',
      async embed(_input: Float32Array, n: number) {
        await gate;
        return new Float32Array(n * 2);
      },
      dispose() {},
    } as unknown as Embedder;
    const queue = new EmbedQueue(embedder, { maxBatch: 2, waitMs: 0, maxPending: 3 });
    const pixels = () => new Float32Array(IMAGE_PIXELS);
    const accepted = [queue.embed(pixels()), queue.embed(pixels()), queue.embed(pixels())];
    expect(queue.pending).toBe(3);
    await expect(queue.embed(pixels())).rejects.toMatchObject({ status: 503, code: 'OVERLOADED' });
    release();
    await Promise.all(accepted);
    await queue.drain();
    expect(queue.pending).toBe(0);
    await expect(queue.embed(pixels())).resolves.toHaveLength(2);
  });

  it('ImageWork admits up to max images in progress and releases them when the work ends', async () => {
    const work = new ImageWork(4);
    let release: () => void = () => {};
    const held = work.run(3, () => new Promise<void>((resolve) => (release = resolve)));
    expect(work.inProgress).toBe(3);
    await expect(work.run(2, async () => 'no')).rejects.toMatchObject({ status: 503, code: 'OVERLOADED' });
    await expect(work.run(1, async () => 'yes')).resolves.toBe('yes');
    release();
    await held;
    expect(work.inProgress).toBe(0);
    await expect(work.run(4, async () => 'all')).resolves.toBe('all');
    await expect(work.run(1, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(work.inProgress).toBe(0);
  });

  it('over HTTP: concurrent batches past EMBED_QUEUE_MAX get 503 OVERLOADED with Retry-After, none a 5xx else', async () => {
    const server = await startServer(prepared, { EMBED_QUEUE_MAX: '32', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const photo = (await productPhoto(png, 768)).toString('base64');
      const body = JSON.stringify({ images: Array(32).fill(photo) });
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => server.request('/similar/batch', init)),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      for (const res of responses) {
        if (res.status !== 503) {
          await res.arrayBuffer();
          continue;
        }
        expect(res.headers.get('retry-after')).toBe('1');
        await expectEnvelope(res, 503, 'OVERLOADED');
      }
      expect(server.app.imageWork.inProgress).toBe(0);
      expect((await server.request(...rawPng(png))).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('503 while loading', () => {
  it('the query routes answer 503 NOT_READY with Retry-After until the model and index are loaded', async () => {
    const loading = await startServer(prepared, {}, { ready: false });
    try {
      const res = await loading.request(...rawPng(png));
      expect(res.headers.get('retry-after')).toBe('5');
      await expectEnvelope(res, 503, 'NOT_READY');
      expect((await loading.request('/readyz')).status).toBe(503);
    } finally {
      await loading.close();
    }
  });
});

describe('API_TOKEN', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(prepared, { API_TOKEN: READ, ADMIN_TOKEN: ADMIN });
  });
  afterAll(() => server?.close());

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it('closes the read routes: 401 without or with a wrong token, 200 with the read or the admin token', async () => {
    for (const path of [
      '/items?limit=1',
      `/items/${ITEM}`,
      `/items/${ITEM}/image`,
      `/items/${ITEM}/recommendations`,
      '/status',
    ]) {
      const missing = await server.request(path);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      await expectEnvelope(missing, 401, 'UNAUTHORIZED');
      await expectEnvelope(await server.request(path, bearer('nope')), 401, 'INVALID_TOKEN');
      await expectEnvelope(await server.request(path, bearer(`${READ}x`)), 401, 'INVALID_TOKEN');
      const ok = await server.request(path, bearer(READ));
      expect(ok.status, path).toBe(200);
      await ok.arrayBuffer();
      expect((await server.request(path, bearer(ADMIN))).status, path).toBe(200);
    }
    await expectEnvelope(await server.request(...rawPng(png)), 401, 'UNAUTHORIZED');
    const withToken = await server.request('/similar', {
      method: 'POST',
      headers: { 'content-type': 'image/png', authorization: `Bearer ${READ}` },
      body: png,
    });
    expect(withToken.status).toBe(200);
  });

  it('leaves health, readiness, metrics and the docs open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.yaml', '/docs', '/docs/json']) {
      const res = await server.request(path);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
  });

  it('the read token opens no admin route', async () => {
    await expectEnvelope(
      await server.request(`/items/${ITEM}`, { method: 'DELETE', ...bearer(READ) }),
      401,
      'INVALID_TOKEN',
    );
    expect((await server.request(`/items/${ITEM}`, bearer(READ))).status).toBe(200);
  });
});

describe('CORS and security headers', () => {
  it('default: no CORS headers, preflights are 404, helmet headers on every response', async () => {
    const server = await startServer(prepared, {});
    try {
      const res = await server.request('/items?limit=1', { headers: { origin: 'https://evil.example' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-site');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      await res.arrayBuffer();
      const error = await server.request('/nope');
      expect(error.headers.get('x-content-type-options')).toBe('nosniff');
      await expectEnvelope(error, 404, 'ROUTE_NOT_FOUND');
      const preflight = await server.request('/similar', {
        method: 'OPTIONS',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(404);
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });

  it('CORS_ORIGINS: the listed origins only, preflights included, with the useful headers exposed', async () => {
    const server = await startServer(prepared, {
      CORS_ORIGINS: 'https://shop.example, https://www.shop.example',
      API_TOKEN: READ,
    });
    try {
      const preflight = await server.request('/similar', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
      const allowed = await server.request('/items?limit=1', {
        headers: { origin: 'https://www.shop.example', authorization: `Bearer ${READ}` },
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://www.shop.example');
      expect(allowed.headers.get('access-control-expose-headers')).toContain('retry-after');
      expect(allowed.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      const other = await server.request('/items?limit=1', {
        headers: { origin: 'https://evil.example', authorization: `Bearer ${READ}` },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });

  // Chromium is installed by .ci/run (as for the web page's tests): no skip that could hide a failure.
  it('/docs renders in Chromium under the security headers, with no CSP violation', async () => {
    const server = await startServer(prepared, {});
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${server.base}/docs`);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
      expect(await page.textContent('.swagger-ui .info .title')).toContain('fashion-similar');
      await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
      expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
