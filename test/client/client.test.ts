/**
 * The typed client (client/index.ts, generated from openapi.yaml) against the
 * real server over HTTP; and the generated schema is the one the current
 * openapi.yaml gives.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFashionClient } from '../../client/index.ts';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from '../server/harness.ts';

let prepared: Prepared;
let server: TestServer;

beforeAll(async () => {
  prepared = await prepareData(300);
  server = await startServer(prepared, { ADMIN_TOKEN: 'client-token' });
});

afterAll(async () => {
  await server?.close();
  if (prepared) removeData(prepared);
});

describe('typed client', () => {
  it('lists, fetches, recommends, searches by photo and updates through the generated types', async () => {
    const api = createFashionClient(server.base);
    const page = await api.GET('/items', { params: { query: { limit: 2 } } });
    expect(page.error).toBeUndefined();
    expect(page.data!.items).toHaveLength(2);
    const id = page.data!.items[0].id;

    const item = await api.GET('/items/{id}', { params: { path: { id } } });
    expect(item.data!.id).toBe(id);
    expect(typeof item.data!.attributes).toBe('object');

    const recs = await api.GET('/items/{id}/recommendations', {
      params: { path: { id }, query: { k: 3, filter: JSON.stringify({ in_stock: true }) } },
    });
    expect(recs.data!.results).toHaveLength(3);
    for (const r of recs.data!.results) expect(r.attributes.in_stock).toBe(true);

    const posted = await api.POST('/recommendations', {
      body: { positive: [id], k: 2, strategy: 'best_score' },
    });
    expect(posted.data!.results).toHaveLength(2);

    const png = (await server.app.store.getImage(id))!;
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'q.png');
    const similar = await api.POST('/similar', {
      params: { query: { k: 1 } },
      body: form as never,
      bodySerializer: (body) => body as unknown as FormData,
    });
    expect(similar.data!.results[0].id).toBe(id);

    const missing = await api.GET('/items/{id}', { params: { path: { id: 'no-such-item' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ error: { code: 'ITEM_NOT_FOUND' } });

    const admin = createFashionClient(server.base, { headers: { authorization: 'Bearer client-token' } });
    const updated = await admin.PATCH('/items/{id}', {
      params: { path: { id } },
      body: { attributes: { brand: 'Typed' } },
    });
    expect(updated.data!.attributes).toEqual({ brand: 'Typed' });
  });

  it('was generated from the current openapi.yaml', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/openapi.ts', '--check'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/up to date/);
  });
});
