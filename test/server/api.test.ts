/**
 * Every endpoint over real HTTP against the real server: a 2,000-item catalog
 * imported from the bundled test split into a temp SQLite file, an untrained
 * but real tfjs model (in its worker thread), a real HNSW index built on first
 * start. Covers happy paths, auth failures, 404s, validation errors and every
 * kind of bad upload; no response may be a 5xx.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_FILE } from '../../src/server/openapi.ts';
import { bombPng, makeFixtureModel, productPhoto } from './fixtures.ts';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from './harness.ts';

const ITEMS = 2000;
const TOKEN = 'test-admin-token';
const BODY_LIMIT = 300_000;

let prepared: Prepared;
let server: TestServer;
let png: Buffer;
let jpeg: Buffer;

interface Result {
  id: string;
  title: string;
  category: string;
  distance: number;
  image_url: string;
}
interface SearchBody {
  model: string;
  results: Result[];
  took_ms: number;
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts the uniform error body and returns its code. */
async function expectError(res: Response, status: number, code?: string): Promise<string> {
  expect(res.status).toBe(status);
  const body = await json<{ error: { code: string; message: string } }>(res);
  expect(Object.keys(body)).toContain('error');
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  if (code) expect(body.error.code).toBe(code);
  return body.error.code;
}

function expectRanked(body: SearchBody, k: number): void {
  expect(body.results).toHaveLength(k);
  for (let i = 1; i < body.results.length; i++) {
    expect(body.results[i].distance).toBeGreaterThanOrEqual(body.results[i - 1].distance);
  }
  for (const r of body.results) {
    expect(r.image_url).toBe(`/items/${r.id}/image`);
    expect(r.title.length).toBeGreaterThan(0);
  }
}

function rawImage(bytes: Uint8Array, type: string, query = ''): [string, RequestInit] {
  return [`/similar${query}`, { method: 'POST', headers: { 'content-type': type }, body: bytes }];
}

/** The same upload as a multipart/form-data file part (field 'image' unless told otherwise). */
function multipartImage(bytes: Uint8Array, type: string, query = '', field?: string): [string, RequestInit] {
  return [`/similar${query}`, { method: 'POST', body: form({}, { bytes, type, field }) }];
}

function form(fields: Record<string, string>, file?: { bytes: Uint8Array; type: string; field?: string }) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file) fd.append(file.field ?? 'image', new Blob([file.bytes], { type: file.type }), 'upload.bin');
  return fd;
}

beforeAll(async () => {
  prepared = await prepareData(ITEMS);
  server = await startServer(prepared, { ADMIN_TOKEN: TOKEN, BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  png = Buffer.from((await server.app.store.getImage('fmnist-test-00007'))!);
  jpeg = await productPhoto(png, 512);
});

afterAll(async () => {
  await server?.close();
  if (prepared) removeData(prepared);
});

describe('health, readiness, metrics, docs', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await json(await server.request('/healthz'))).toEqual({ status: 'ok' });
    const ready = await json<{ status: string; index_size: number; model: string }>(
      await server.request('/readyz'),
    );
    expect(ready.status).toBe('ready');
    expect(ready.index_size).toBe(ITEMS);
    expect(ready.model).toMatch(/^fixture@[0-9a-f]{12}$/);
  });

  it('serves the committed openapi.yaml, which is valid OpenAPI 3', async () => {
    const res = await server.request('/openapi.yaml');
    expect(res.status).toBe(200);
    const served = await res.text();
    expect(served).toBe(readFileSync(OPENAPI_FILE, 'utf8'));
    const result = await validate(parse(served));
    expect(result.valid, JSON.stringify(result)).toBe(true);
    const doc = parse(served) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/similar', '/items', '/items/{id}', '/recommendations', '/admin/index/rebuild']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it('renders the reference at /docs', async () => {
    const res = await server.request('/docs');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
  });

  it('answers unknown routes with the error body', async () => {
    await expectError(await server.request('/nope'), 404, 'ROUTE_NOT_FOUND');
    await expectError(await server.request('/items', { method: 'PUT' }), 404, 'ROUTE_NOT_FOUND');
  });
});

describe('catalog', () => {
  it('pages through every item with a stable cursor', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=700&cursor=${cursor}` : '?limit=700';
      const page = await json<{ items: { id: string }[]; next_cursor: string | null }>(
        await server.request(`/items${query}`),
      );
      for (const item of page.items) seen.add(item.id);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.size).toBe(ITEMS);
  });

  it('filters by category', async () => {
    const page = await json<{ items: { category: string }[] }>(
      await server.request('/items?category=Sneaker&limit=50'),
    );
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((i) => i.category === 'Sneaker')).toBe(true);
  });

  it('rejects bad list parameters', async () => {
    await expectError(await server.request('/items?limit=0'), 400, 'VALIDATION_ERROR');
    await expectError(await server.request('/items?limit=abc'), 400, 'VALIDATION_ERROR');
    await expectError(await server.request('/items?limit=1001'), 400, 'VALIDATION_ERROR');
    await expectError(await server.request('/items?cursor=garbage'), 400, 'INVALID_CURSOR');
    await expectError(await server.request('/items?category=Hats'), 400, 'UNKNOWN_CATEGORY');
  });

  it('returns one item, 404 for unknown ids, 400 for malformed ids', async () => {
    const item = await json<{ id: string; category: string; image_url: string }>(
      await server.request('/items/fmnist-test-00042'),
    );
    expect(item.id).toBe('fmnist-test-00042');
    expect(item.image_url).toBe('/items/fmnist-test-00042/image');
    await expectError(await server.request('/items/fmnist-test-99999'), 404, 'ITEM_NOT_FOUND');
    await expectError(await server.request('/items/%20bad%20id'), 400, 'VALIDATION_ERROR');
  });

  it('serves item images as PNG with caching headers', async () => {
    const res = await server.request('/items/fmnist-test-00042/image');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toContain('max-age');
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([28, 28]);
    const again = await server.request('/items/fmnist-test-00042/image', {
      headers: { 'if-none-match': etag! },
    });
    expect(again.status).toBe(304);
    await expectError(await server.request('/items/nope/image'), 404, 'ITEM_NOT_FOUND');
  });
});

describe('recommendations', () => {
  it('returns the k nearest items, never the item itself', async () => {
    const body = await json<SearchBody>(await server.request('/items/fmnist-test-00042/recommendations?k=7'));
    expectRanked(body, 7);
    expect(body.results.map((r) => r.id)).not.toContain('fmnist-test-00042');
    expect(body.model).toMatch(/^fixture@/);
    const dflt = await json<SearchBody>(await server.request('/items/fmnist-test-00042/recommendations'));
    expect(dflt.results).toHaveLength(10);
  });

  it('filters by one or several categories', async () => {
    const one = await json<SearchBody>(
      await server.request('/items/fmnist-test-00042/recommendations?k=5&category=Bag'),
    );
    expectRanked(one, 5);
    expect(one.results.every((r) => r.category === 'Bag')).toBe(true);
    const two = await json<SearchBody>(
      await server.request('/items/fmnist-test-00042/recommendations?k=20&category=Bag&category=Sandal'),
    );
    expect(two.results.every((r) => r.category === 'Bag' || r.category === 'Sandal')).toBe(true);
    const comma = await json<SearchBody>(
      await server.request('/items/fmnist-test-00042/recommendations?k=20&category=Bag,Sandal'),
    );
    expect(comma.results.map((r) => r.id)).toEqual(two.results.map((r) => r.id));
  });

  it('rejects bad parameters and unknown items', async () => {
    for (const q of ['k=0', 'k=101', 'k=abc', 'k=1.5']) {
      await expectError(
        await server.request(`/items/fmnist-test-00042/recommendations?${q}`),
        400,
        'VALIDATION_ERROR',
      );
    }
    await expectError(
      await server.request('/items/fmnist-test-00042/recommendations?category=Hats'),
      400,
      'UNKNOWN_CATEGORY',
    );
    await expectError(await server.request('/items/nope/recommendations'), 404, 'ITEM_NOT_FOUND');
  });

  it('POST /recommendations: like the positives, unlike the negatives, inputs excluded', async () => {
    const positive = ['fmnist-test-00000', 'fmnist-test-00011'];
    const negative = ['fmnist-test-00001'];
    const res = await server.request('/recommendations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ positive, negative, k: 8 }),
    });
    expect(res.status).toBe(200);
    const body = await json<SearchBody>(res);
    expectRanked(body, 8);
    for (const id of [...positive, ...negative]) expect(body.results.map((r) => r.id)).not.toContain(id);
    const onlyPositive = await json<SearchBody>(
      await server.request('/recommendations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ positive: ['fmnist-test-00000'], category: ['Sneaker'] }),
      }),
    );
    expectRanked(onlyPositive, 10);
    expect(onlyPositive.results.every((r) => r.category === 'Sneaker')).toBe(true);
  });

  it('POST /recommendations rejects bad bodies', async () => {
    const post = (body: string, type = 'application/json') =>
      server.request('/recommendations', { method: 'POST', headers: { 'content-type': type }, body });
    await expectError(await post('{"positive": ['), 400, 'INVALID_JSON');
    await expectError(await post(''), 400, 'INVALID_JSON');
    await expectError(await post('{}'), 400, 'VALIDATION_ERROR');
    await expectError(await post('{"positive": []}'), 400, 'VALIDATION_ERROR');
    await expectError(await post('{"positive": ["fmnist-test-00000"], "k": 500}'), 400, 'VALIDATION_ERROR');
    await expectError(await post('{"positive": [{"id": 1}]}'), 400, 'VALIDATION_ERROR');
    await expectError(
      await post('{"positive": ["fmnist-test-00000"], "negative": ["bad id!"]}'),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(await post('{"positive": ["fmnist-test-00000", "ghost-1"]}'), 404, 'ITEM_NOT_FOUND');
    await expectError(await post('positive=x', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('POST /similar', () => {
  it('finds a catalog image among its own nearest neighbours (raw PNG body)', async () => {
    const body = await json<SearchBody>(await server.request(...rawImage(png, 'image/png', '?k=5')));
    expectRanked(body, 5);
    expect(body.results[0].id).toBe('fmnist-test-00007');
    expect(body.results[0].distance).toBeLessThan(1e-3);
    expect(body.took_ms).toBeGreaterThan(0);
  });

  it('accepts multipart uploads, JPEG product photos and WebP', async () => {
    const multi = await json<SearchBody>(await server.request(...multipartImage(png, 'image/png', '?k=3')));
    expect(multi.results[0].id).toBe('fmnist-test-00007');
    const photo = await server.request(...rawImage(jpeg, 'image/jpeg', '?k=10'));
    expect(photo.status).toBe(200);
    expectRanked(await json<SearchBody>(photo), 10);
    const webp = await sharp(jpeg).webp().toBuffer();
    expect((await server.request(...rawImage(webp, 'image/webp'))).status).toBe(200);
    const octet = await server.request(...multipartImage(jpeg, 'application/octet-stream'));
    expect(octet.status).toBe(200);
  });

  it('filters by category', async () => {
    const body = await json<SearchBody>(
      await server.request(...rawImage(png, 'image/png', '?k=4&category=Trouser&category=Dress')),
    );
    expectRanked(body, 4);
    expect(body.results.every((r) => r.category === 'Trouser' || r.category === 'Dress')).toBe(true);
  });

  // Whether concurrent queries share a call depends on how their requests interleave; that they do when
  // they overlap is EmbedQueue's unit test (test/server/units.test.ts). Here: the HTTP path goes through it.
  it('embeds concurrent queries through the micro-batching queue, each once, each answered alike', async () => {
    const batches = async () => {
      const metrics = await (await server.request('/metrics')).text();
      const value = (name: string) =>
        Number(new RegExp(`^embedding_batch_size_${name} (\\d+)`, 'm').exec(metrics)![1]);
      return { calls: value('count'), images: value('sum') };
    };
    const before = await batches();
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => server.request(...rawImage(png, 'image/png', '?k=3'))),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const ids = await Promise.all(
      responses.map(async (r) => ((await r.json()) as SearchBody).results.map((item) => item.id).join()),
    );
    expect(new Set(ids).size).toBe(1);
    const after = await batches();
    expect(after.images - before.images).toBe(40);
    expect(after.calls - before.calls).toBeGreaterThanOrEqual(1);
    expect(after.calls - before.calls).toBeLessThanOrEqual(40);
  });

  it('rejects a Content-Type that the bytes contradict (415)', async () => {
    await expectError(await server.request(...rawImage(png, 'image/jpeg')), 415, 'CONTENT_TYPE_MISMATCH');
    await expectError(await server.request(...rawImage(jpeg, 'image/webp')), 415, 'CONTENT_TYPE_MISMATCH');
    const text = Buffer.from('this is not an image at all');
    await expectError(await server.request(...rawImage(text, 'image/png')), 415, 'CONTENT_TYPE_MISMATCH');
    await expectError(
      await server.request(...multipartImage(jpeg, 'image/png')),
      415,
      'CONTENT_TYPE_MISMATCH',
    );
  });

  it('rejects non-images and unsupported types (415)', async () => {
    const text = Buffer.from('hello, world: plain text pretending to be a file');
    await expectError(
      await server.request(...multipartImage(text, 'application/octet-stream')),
      415,
      'UNSUPPORTED_IMAGE_FORMAT',
    );
    await expectError(await server.request(...rawImage(text, 'text/plain')), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectError(await server.request(...rawImage(png, 'image/gif')), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectError(
      await server.request('/similar', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"image": "x"}',
      }),
      415,
    );
  });

  it('rejects corrupt and truncated images (422)', async () => {
    const big = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#f0f0f0' } })
      .composite([{ input: jpeg, left: 0, top: 0 }])
      .png()
      .toBuffer();
    await expectError(
      await server.request(...rawImage(big.subarray(0, big.length >> 1), 'image/png')),
      422,
      'INVALID_IMAGE',
    );
    await expectError(
      await server.request(...rawImage(jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg')),
      422,
      'INVALID_IMAGE',
    );
    const garbage = Buffer.concat([png.subarray(0, 8), Buffer.alloc(200, 7)]);
    await expectError(await server.request(...rawImage(garbage, 'image/png')), 422, 'INVALID_IMAGE');
    const jpegGarbage = Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(500, 0x41)]);
    await expectError(await server.request(...rawImage(jpegGarbage, 'image/jpeg')), 422, 'INVALID_IMAGE');
  });

  it('rejects images too large in bytes or in declared pixels (413), before decoding', async () => {
    const huge = Buffer.concat([jpeg, Buffer.alloc(BODY_LIMIT, 0)]);
    await expectError(await server.request(...rawImage(huge, 'image/jpeg')), 413, 'PAYLOAD_TOO_LARGE');
    await expectError(await server.request(...multipartImage(huge, 'image/jpeg')), 413, 'PAYLOAD_TOO_LARGE');
    const bomb = await bombPng(60_000, 60_000);
    expect(bomb.length).toBeLessThan(200);
    const started = performance.now();
    await expectError(await server.request(...rawImage(bomb, 'image/png')), 413, 'IMAGE_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('rejects empty bodies, missing or misnamed fields and broken multipart (400)', async () => {
    await expectError(await server.request(...rawImage(Buffer.alloc(0), 'image/png')), 400);
    await expectError(
      await server.request('/similar', { method: 'POST', body: form({ k: '3' }) }),
      400,
      'MISSING_IMAGE',
    );
    await expectError(
      await server.request(...multipartImage(png, 'image/png', '', 'photo')),
      400,
      'INVALID_MULTIPART',
    );
    const broken =
      '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG';
    await expectError(
      await server.request('/similar', {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
        body: broken,
      }),
      400,
    );
    await expectError(await server.request(...rawImage(png, 'image/png', '?k=0')), 400, 'VALIDATION_ERROR');
    await expectError(
      await server.request(...rawImage(png, 'image/png', '?category=Hats')),
      400,
      'UNKNOWN_CATEGORY',
    );
  });
});

describe('admin', () => {
  const newItem = (id: string) =>
    form({ id, title: 'Dark ankle boot photo', category: 'Ankle boot' }, { bytes: jpeg, type: 'image/jpeg' });

  it('requires the bearer token (401) on every admin route', async () => {
    const routes: [string, RequestInit][] = [
      ['/items', { method: 'POST', body: newItem('sku-unauth') }],
      ['/items/fmnist-test-00001', { method: 'DELETE' }],
      ['/admin/index/rebuild', { method: 'POST' }],
      ['/admin/jobs/1', {}],
    ];
    for (const [path, init] of routes) {
      const missing = await server.request(path, init);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      await expectError(missing, 401, 'UNAUTHORIZED');
      const wrong = { ...init, headers: { authorization: 'Bearer not-the-token' } };
      if (init.body) wrong.body = newItem('sku-unauth');
      await expectError(await server.request(path, wrong), 401, 'INVALID_TOKEN');
      await expectError(
        await server.request(path, {
          ...init,
          body: init.body ? newItem('sku-unauth') : undefined,
          headers: { authorization: `Basic ${TOKEN}` },
        }),
        401,
      );
    }
    await expectError(await server.request('/items/sku-unauth'), 404);
  });

  it('adds an item that is searchable at once, then deletes it', async () => {
    const created = await server.request('/items', {
      method: 'POST',
      headers: auth,
      body: newItem('sku-boot-1'),
    });
    expect(created.status).toBe(201);
    const item = await json<{ id: string; source: string; category: string }>(created);
    expect(item).toMatchObject({ id: 'sku-boot-1', source: 'api', category: 'Ankle boot' });
    expect((await server.request('/items/sku-boot-1')).status).toBe(200);
    const found = await json<SearchBody>(await server.request(...rawImage(jpeg, 'image/jpeg', '?k=3')));
    expect(found.results[0].id).toBe('sku-boot-1');
    expect(found.results[0].distance).toBeLessThan(1e-3);
    const recs = await json<SearchBody>(await server.request('/items/sku-boot-1/recommendations?k=3'));
    expectRanked(recs, 3);

    await expectError(
      await server.request('/items', { method: 'POST', headers: auth, body: newItem('sku-boot-1') }),
      409,
      'ITEM_EXISTS',
    );

    const deleted = await server.request('/items/sku-boot-1', { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(204);
    await expectError(await server.request('/items/sku-boot-1'), 404, 'ITEM_NOT_FOUND');
    const after = await json<SearchBody>(await server.request(...rawImage(jpeg, 'image/jpeg', '?k=20')));
    expect(after.results.map((r) => r.id)).not.toContain('sku-boot-1');
    await expectError(await server.request('/items/sku-boot-1', { method: 'DELETE', headers: auth }), 404);
  });

  it('generates an id when none is given', async () => {
    const res = await server.request('/items', {
      method: 'POST',
      headers: auth,
      body: form({ title: 'Anonymous', category: 'Bag' }, { bytes: png, type: 'image/png' }),
    });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    expect(id).toMatch(/^api-/);
    expect((await server.request(`/items/${id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
  });

  it('validates new items', async () => {
    const post = (body: FormData | string, headers: Record<string, string> = {}) =>
      server.request('/items', { method: 'POST', headers: { ...auth, ...headers }, body });
    await expectError(
      await post(form({ title: 'No category' }, { bytes: png, type: 'image/png' })),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await post(form({ title: '', category: 'Bag' }, { bytes: png, type: 'image/png' })),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await post(form({ id: 'bad id!', title: 'x', category: 'Bag' }, { bytes: png, type: 'image/png' })),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(
      await post(form({ title: 'x', category: 'Bag', colour: 'red' }, { bytes: png, type: 'image/png' })),
      400,
      'VALIDATION_ERROR',
    );
    await expectError(await post(form({ title: 'x', category: 'Bag' })), 400, 'MISSING_IMAGE');
    await expectError(await post('{"title":"x"}', { 'content-type': 'application/json' }), 415);
    await expectError(
      await post(
        form(
          { title: 'x', category: 'Bag' },
          { bytes: Buffer.from('not an image'), type: 'application/octet-stream' },
        ),
      ),
      415,
    );
  });

  it('rebuilds the index as a job: 202, 409 while running, then swaps in the new model', async () => {
    await makeFixtureModel(join(prepared.modelsRoot, 'other'), 'other', 11);
    await expectError(
      await server.request('/admin/index/rebuild', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"model": "missing"}',
      }),
      404,
      'MODEL_NOT_FOUND',
    );
    await expectError(
      await server.request('/admin/index/rebuild', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"model": "../etc"}',
      }),
      400,
      'VALIDATION_ERROR',
    );
    const start = await server.request('/admin/index/rebuild', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"model": "other"}',
    });
    expect(start.status).toBe(202);
    const job = await json<{ id: number; status: string; model: string }>(start);
    expect(job.model).toBe('other');
    expect(start.headers.get('location')).toBe(`/admin/jobs/${job.id}`);

    const again = await server.request('/admin/index/rebuild', { method: 'POST', headers: auth });
    expect(again.status).toBe(409);
    const conflict = await json<{ error: { code: string }; job: { id: number } }>(again);
    expect(conflict.error.code).toBe('REBUILD_RUNNING');
    expect(conflict.job.id).toBe(job.id);

    // Queries keep being answered (by the old model) while the rebuild runs.
    expect((await server.request('/items/fmnist-test-00042/recommendations?k=3')).status).toBe(200);

    let status = job.status;
    let last: {
      status: string;
      progress: number;
      error: string | null;
      model_version: string | null;
    } | null = null;
    const deadline = Date.now() + 120_000;
    while (status !== 'active' && status !== 'failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      last = await json(await server.request(`/admin/jobs/${job.id}`, { headers: auth }));
      status = last!.status;
    }
    expect(last?.error ?? null).toBeNull();
    expect(status).toBe('active');
    expect(last!.progress).toBe(1);
    const ready = await json<{ model: string; index_size: number }>(await server.request('/readyz'));
    expect(ready.model).toBe(last!.model_version);
    expect(ready.model).toMatch(/^other@/);
    expect(ready.index_size).toBe(ITEMS);
    const body = await json<SearchBody>(await server.request(...rawImage(png, 'image/png', '?k=2')));
    expect(body.model).toBe(ready.model);
    expect(body.results[0].id).toBe('fmnist-test-00007');

    await expectError(await server.request('/admin/jobs/9999', { headers: auth }), 404, 'JOB_NOT_FOUND');
    await expectError(await server.request('/admin/jobs/abc', { headers: auth }), 400, 'VALIDATION_ERROR');
  });
});

describe('status and the embedding map', () => {
  interface StatusBody {
    model: { version: string; engine: string; arch: string; evaluation: unknown; embedding_head: unknown };
    catalog: { items: number; categories: { category: string; count: number }[] };
    index: { size: number; build_id: number; params: { M: number; efSearch: number }; built_at: string };
  }
  interface MapBody {
    model: string;
    points: { id: string; category: string; x: number; y: number }[];
  }

  it('GET /status names the served model, its engine, the catalog and the index build', async () => {
    const status = await json<StatusBody>(await server.request('/status'));
    const ready = await json<{ model: string }>(await server.request('/readyz'));
    expect(status.model.version).toBe(ready.model);
    expect(status.model.engine).toBe('onnxruntime');
    expect(status.model.arch).toBe('seed');
    // The fixture model was never evaluated: no figures rather than made-up ones.
    expect(status.model.evaluation).toBeNull();
    // Nor an embedding head: the network's own embedding.
    expect(status.model.embedding_head).toEqual({ mirror_average: false, class_pull: null });
    expect(status.catalog.items).toBe(ITEMS);
    expect(status.catalog.categories.reduce((n, c) => n + c.count, 0)).toBe(ITEMS);
    expect(status.index.size).toBe(ITEMS);
    expect(status.index.params.M).toBe(24);
    expect(Date.parse(status.index.built_at)).toBeGreaterThan(0);
  });

  it('GET /map: every sampled item in [0,1]², with its category', async () => {
    // Computed in the background on first request (503 MAP_NOT_READY until then): wait in-process.
    await server.app.maps.whenDone(server.app.serving.require());
    const res = await server.request('/map');
    expect(res.status).toBe(200);
    const map = await json<MapBody>(res);
    expect(map.points).toHaveLength(ITEMS);
    for (const p of map.points) {
      expect(p.x).toBeGreaterThanOrEqual(0);
      expect(p.x).toBeLessThanOrEqual(1);
      expect(p.y).toBeGreaterThanOrEqual(0);
      expect(p.y).toBeLessThanOrEqual(1);
    }
    const sample = map.points[17];
    const item = await json<{ category: string }>(await server.request(`/items/${sample.id}`));
    expect(sample.category).toBe(item.category);
  });

  it('POST /similar?include=query returns the model input and places a catalog image on its own point', async () => {
    const res = await server.request(...rawImage(png, 'image/png', '?k=3&include=query'));
    const body = await json<SearchBody & { query: { image: string; map: { x: number; y: number } } }>(res);
    const input = Buffer.from(body.query.image.replace(/^data:image\/png;base64,/, ''), 'base64');
    const decoded = await sharp(input).raw().toBuffer({ resolveWithObject: true });
    expect([decoded.info.width, decoded.info.height]).toEqual([28, 28]);
    const stored = await sharp(png).raw().toBuffer();
    expect(Buffer.compare(decoded.data, stored)).toBe(0);
    const map = await json<MapBody>(await server.request('/map'));
    const own = map.points.find((p) => p.id === 'fmnist-test-00007')!;
    expect(body.query.map.x).toBeCloseTo(own.x, 5);
    expect(body.query.map.y).toBeCloseTo(own.y, 5);
    const plain = await json<Record<string, unknown>>(await server.request(...rawImage(png, 'image/png')));
    expect(plain).not.toHaveProperty('query');
  });
});

describe('metrics', () => {
  it('exposes request, model, search and index metrics', async () => {
    const text = await (await server.request('/metrics')).text();
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/items\/:id",status_code="200"\} \d+/m,
    );
    expect(text).toMatch(/^embedding_duration_seconds_count [1-9]\d*/m);
    expect(text).toMatch(/^search_duration_seconds_count [1-9]\d*/m);
    expect(text).toMatch(/^index_size \d+/m);
    expect(text).toMatch(/^model_info\{model_version="[^"]+"\} 1/m);
    expect(text).toMatch(/^build_info\{version="[^"]+",node_version="v\d+/m);
  });
});

describe('a server without ADMIN_TOKEN that is still loading', () => {
  let loading: TestServer;
  beforeAll(async () => {
    loading = await startServer(prepared, {}, { ready: false });
  });
  afterAll(async () => {
    await loading?.close();
  });

  it('is alive but not ready, and says so on the query routes', async () => {
    expect((await loading.request('/healthz')).status).toBe(200);
    const ready = await loading.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await json(ready)).toMatchObject({ status: 'not_ready', model: null });
    await expectError(await loading.request(...rawImage(png, 'image/png')), 503, 'NOT_READY');
    await expectError(await loading.request('/items/fmnist-test-00042/recommendations'), 503, 'NOT_READY');
    expect((await loading.request('/items/fmnist-test-00042')).status).toBe(200);
  });

  it('answers 403 on admin routes, with or without a token', async () => {
    await expectError(
      await loading.request('/admin/index/rebuild', { method: 'POST' }),
      403,
      'ADMIN_DISABLED',
    );
    await expectError(
      await loading.request('/items/fmnist-test-00001', { method: 'DELETE', headers: auth }),
      403,
      'ADMIN_DISABLED',
    );
  });

  it('never answered with a 5xx other than 503 while loading', () => {
    const bad = loading.statuses.filter((s) => s.status >= 500 && s.status !== 503);
    expect(bad).toEqual([]);
  });
});

describe('every response', () => {
  it('was below 500', () => {
    expect(server.statuses.length).toBeGreaterThan(100);
    expect(server.statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});
