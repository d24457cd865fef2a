/**
 * Search features over real HTTP against the real server (2,000 Fashion-MNIST
 * test items with their synthetic attributes, the ONNX engine, a real HNSW
 * index): attribute filters with every operator, result controls, recommend
 * strategies, batch queries, attribute writes. Expected results come from a
 * plain exact search over the served vectors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attributes } from '../../src/search/attributes.ts';
import { compileFilter, parseFilter } from '../../src/search/filter.ts';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from './harness.ts';

const ITEMS = 2000;
const TOKEN = 'search-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Result {
  id: string;
  category: string;
  attributes: Attributes;
  distance: number;
  score?: number;
}
interface SearchBody {
  results: Result[];
  missing?: string[];
}

let prepared: Prepared;
let server: TestServer;
let png: Buffer;

async function get<T>(path: string, status = 200): Promise<T> {
  const res = await server.request(path);
  const body = (await res.json()) as T;
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

async function post<T>(
  path: string,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await server.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  expect(res.status, JSON.stringify(json)).toBe(status);
  return json;
}

function similar(query: string, image = png): Promise<Response> {
  return server.request(`/similar?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array(image),
  });
}

const q = (filter: unknown) => `filter=${encodeURIComponent(JSON.stringify(filter))}`;

/** The exact filtered nearest neighbours of an item, over the served vectors and resident attributes. */
function exactNeighbours(id: string, filter: unknown, k: number): string[] {
  const set = server.app.serving.require();
  const items = server.app.items;
  const self = items.labelOf(id)!;
  const query = set.vectors.get(self)!;
  const predicate = compileFilter(parseFilter(filter));
  return items
    .labels()
    .filter((l) => l !== self && predicate(items.filterable(l)!))
    .map((l) => {
      const v = set.vectors.get(l)!;
      let d = 0;
      for (let j = 0; j < v.length; j++) d += (v[j] - query[j]) ** 2;
      return { id: items.byLabel(l)!.id, d };
    })
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((x) => x.id);
}

/** Every catalog item matching a filter, through GET /items?filter= paging. */
async function listAll(filter: unknown): Promise<{ id: string; attributes: Attributes; category: string }[]> {
  const out: { id: string; attributes: Attributes; category: string }[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: typeof out; next_cursor: string | null } = await get(
      `/items?limit=500&${q(filter)}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

beforeAll(async () => {
  prepared = await prepareData(ITEMS);
  server = await startServer(prepared, { ADMIN_TOKEN: TOKEN });
  png = Buffer.from((await server.app.store.getImage('fmnist-test-00007'))!);
});

afterAll(async () => {
  await server?.close();
  if (prepared) removeData(prepared);
});

describe('attributes', () => {
  it('every item carries its synthetic attributes, in listings, single items and results', async () => {
    const item = await get<{ attributes: Attributes }>('/items/fmnist-test-00042');
    expect(Object.keys(item.attributes).sort()).toEqual(
      expect.arrayContaining(['brand', 'colour', 'in_stock', 'price']),
    );
    const body = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=3');
    for (const r of body.results) expect(typeof r.attributes.brand).toBe('string');
  });
});

describe('filters', () => {
  const cases: [string, unknown][] = [
    ['equality', { brand: 'Acme' }],
    ['in', { colour: { in: ['red', 'navy'] } }],
    ['nin', { brand: { nin: ['Acme', 'Borealis', 'Cobalt'] } }],
    ['numeric range', { price: { gte: 40, lt: 80 } }],
    ['gt and lte', { price: { gt: 150, lte: 250 } }],
    ['boolean', { in_stock: false }],
    ['exists false', { sizes: { exists: false } }],
    ['exists true and any', { sizes: { any: ['XS'] } }],
    ['category and attribute', { category: 'dress', in_stock: true, price: { lt: 60 } }],
  ];
  for (const [name, filter] of cases) {
    it(`${name}: results all match, and equal the exact filtered search`, async () => {
      const matching = await listAll(filter);
      const predicate = compileFilter(parseFilter(filter));
      expect(matching.length).toBeGreaterThan(0);
      for (const m of matching)
        expect(predicate({ category: m.category, attributes: m.attributes })).toBe(true);
      const body = await get<SearchBody>(`/items/fmnist-test-00042/recommendations?k=10&${q(filter)}`);
      const self = matching.some((m) => m.id === 'fmnist-test-00042') ? 1 : 0;
      expect(body.results).toHaveLength(Math.min(10, matching.length - self));
      for (const r of body.results)
        expect(predicate({ category: r.category, attributes: r.attributes })).toBe(true);
      expect(body.results.map((r) => r.id)).toEqual(exactNeighbours('fmnist-test-00042', filter, 10));
    });
  }

  it('on POST /similar (query parameter) and POST /recommendations (body), with the legacy category', async () => {
    const filter = { brand: { in: ['Dune', 'Ember'] } };
    const res = await similar(`k=5&category=Sneaker,Sandal&${q(filter)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as SearchBody;
    for (const r of body.results) {
      expect(['Dune', 'Ember']).toContain(r.attributes.brand);
      expect(['Sneaker', 'Sandal']).toContain(r.category);
    }
    const recs = await post<SearchBody>('/recommendations', {
      positive: ['fmnist-test-00042'],
      k: 5,
      filter,
    });
    for (const r of recs.results) expect(['Dune', 'Ember']).toContain(r.attributes.brand);
  });

  it('category names match case-insensitively and Fashion-MNIST label numbers are accepted', async () => {
    const byName = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=5&category=dress');
    const byNumber = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=5&category=3');
    expect(byName.results.every((r) => r.category === 'Dress')).toBe(true);
    expect(byNumber.results).toEqual(byName.results);
    const inFilter = await get<SearchBody>(
      `/items/fmnist-test-00042/recommendations?k=5&${q({ category: 'DRESS' })}`,
    );
    expect(inFilter.results).toEqual(byName.results);
  });

  it('a contradictory filter gives no results rather than an error', async () => {
    const body = await get<SearchBody>(
      `/items/fmnist-test-00042/recommendations?${q({ price: { gt: 10, lt: 5 } })}`,
    );
    expect(body.results).toEqual([]);
  });

  it('refuses bad filters with 400 and a message naming the path', async () => {
    const bad: [unknown, RegExp][] = [
      [{ brand: { like: 'Ac%' } }, /filter\.brand.*like/],
      [{ price: { gt: 'cheap' } }, /filter\.price\.gt/],
      [{ price: { in: 'x' } }, /filter\.price\.in/],
      [{ category: 'Hat' }, /filter\.category.*Hat/],
      [{ brand: {} }, /filter\.brand/],
    ];
    for (const [filter, message] of bad) {
      const body = await get<{ error: { code: string; message: string } }>(
        `/items/fmnist-test-00042/recommendations?${q(filter)}`,
        400,
      );
      expect(['INVALID_FILTER', 'UNKNOWN_CATEGORY']).toContain(body.error.code);
      expect(body.error.message).toMatch(message);
    }
    const notJson = await get<{ error: { code: string } }>('/items?filter=%7Bbrand', 400);
    expect(notJson.error.code).toBe('INVALID_FILTER');
    const long = { brand: { in: Array.from({ length: 250 }, (_, i) => `brand-${i}-${'x'.repeat(10)}`) } };
    const tooLong = await get<{ error: { code: string } }>(`/items?${q(long)}`, 400);
    expect(tooLong.error.code).toBe('INVALID_FILTER');
    const body = await post<{ error: { code: string } }>(
      '/recommendations',
      { positive: ['fmnist-test-00042'], filter: { price: { between: [1, 2] } } },
      400,
    );
    expect(body.error.code).toBe('INVALID_FILTER');
  });
});

describe('result controls', () => {
  it('offset pages neither repeat nor skip: offset=10,k=10 is the 11th-20th of k=20', async () => {
    const all = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=20');
    const first = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=10');
    const second = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=10&offset=10');
    expect([...first.results, ...second.results].map((r) => r.id)).toEqual(all.results.map((r) => r.id));
    const filtered = `${q({ in_stock: true })}`;
    const fAll = await get<SearchBody>(`/items/fmnist-test-00042/recommendations?k=20&${filtered}`);
    const fSecond = await get<SearchBody>(
      `/items/fmnist-test-00042/recommendations?k=10&offset=10&${filtered}`,
    );
    expect(fSecond.results).toEqual(fAll.results.slice(10));
  });

  it('max_distance keeps only results that close, fewer than k then', async () => {
    const all = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=20');
    const limit = all.results[4].distance;
    const near = await get<SearchBody>(`/items/fmnist-test-00042/recommendations?k=20&max_distance=${limit}`);
    expect(near.results.length).toBeGreaterThanOrEqual(5);
    expect(near.results.length).toBeLessThan(20);
    for (const r of near.results) expect(r.distance).toBeLessThanOrEqual(limit);
  });

  it('diversity 0 is the plain ranking; diversity 1 spreads the results out', async () => {
    const plain = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=10');
    const zero = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=10&diversity=0');
    expect(zero.results).toEqual(plain.results);
    const diverse = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=10&diversity=1');
    expect(diverse.results).toHaveLength(10);
    expect(diverse.results[0]).toEqual(plain.results[0]);
    expect(diverse.results.map((r) => r.id)).not.toEqual(plain.results.map((r) => r.id));
    const set = server.app.serving.require();
    const spread = (ids: string[]) => {
      const vs = ids.map((id) => set.vectors.get(server.app.items.labelOf(id)!)!);
      let min = Number.POSITIVE_INFINITY;
      for (let i = 0; i < vs.length; i++)
        for (let j = i + 1; j < vs.length; j++) {
          let d = 0;
          for (let t = 0; t < vs[i].length; t++) d += (vs[i][t] - vs[j][t]) ** 2;
          min = Math.min(min, d);
        }
      return min;
    };
    expect(spread(diverse.results.map((r) => r.id))).toBeGreaterThan(spread(plain.results.map((r) => r.id)));
  });

  it('group_by with group_size caps the results per attribute value', async () => {
    const one = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=8&group_by=brand');
    expect(new Set(one.results.map((r) => r.attributes.brand)).size).toBe(8);
    const two = await get<SearchBody>(
      '/items/fmnist-test-00042/recommendations?k=10&group_by=colour&group_size=2',
    );
    const counts = new Map<unknown, number>();
    for (const r of two.results) counts.set(r.attributes.colour, (counts.get(r.attributes.colour) ?? 0) + 1);
    expect(two.results).toHaveLength(10);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
  });

  it('refuses out-of-range controls', async () => {
    for (const query of [
      'offset=-1',
      'offset=1.5',
      'diversity=2',
      'max_distance=-1',
      'group_size=3',
      'group_by=a%20b',
    ]) {
      await get(`/items/fmnist-test-00042/recommendations?${query}`, 400);
    }
  });
});

describe('recommendations by example', () => {
  it('best_score ranks by the best similarity to a positive against the best to a negative', async () => {
    const body = await post<SearchBody>('/recommendations', {
      positive: ['fmnist-test-00042', 'fmnist-test-00007'],
      negative: ['fmnist-test-00001'],
      strategy: 'best_score',
      k: 10,
    });
    expect(body.results).toHaveLength(10);
    for (let i = 1; i < body.results.length; i++) {
      expect(body.results[i].score!).toBeLessThanOrEqual(body.results[i - 1].score!);
    }
    const ids = body.results.map((r) => r.id);
    for (const input of ['fmnist-test-00042', 'fmnist-test-00007', 'fmnist-test-00001']) {
      expect(ids).not.toContain(input);
    }
    // The nearest neighbour of either positive is a top result (score = its similarity, highest possible).
    const nearest = await get<SearchBody>('/items/fmnist-test-00042/recommendations?k=1');
    expect(ids).toContain(nearest.results[0].id);
  });

  it('ignore_missing skips unknown ids and lists them; without it they are a 404', async () => {
    const body = await post<SearchBody>('/recommendations', {
      positive: ['fmnist-test-00042', 'no-such-item'],
      ignore_missing: true,
      k: 3,
    });
    expect(body.missing).toEqual(['no-such-item']);
    expect(body.results).toHaveLength(3);
    await post('/recommendations', { positive: ['no-such-item'] }, 404);
    const none = await post<SearchBody>('/recommendations', {
      positive: ['no-such-item'],
      ignore_missing: true,
    });
    expect(none).toMatchObject({ results: [], missing: ['no-such-item'] });
  });
});

describe('batch queries', () => {
  it('POST /similar/batch (multipart and JSON) answers each image as /similar does', async () => {
    const ids = ['fmnist-test-00007', 'fmnist-test-00042', 'fmnist-test-00100'];
    const images = await Promise.all(
      ids.map(async (id) => Buffer.from((await server.app.store.getImage(id))!)),
    );
    const form = new FormData();
    for (const image of images)
      form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'q.png');
    const before =
      (await server.app.metrics.embedBatchSize.get()).values.find((v) => v.metricName?.endsWith('_count'))
        ?.value ?? 0;
    const res = await server.request('/similar/batch?k=4', { method: 'POST', body: form });
    const batch = (await res.json()) as { queries: SearchBody[] };
    expect(res.status).toBe(200);
    const after =
      (await server.app.metrics.embedBatchSize.get()).values.find((v) => v.metricName?.endsWith('_count'))
        ?.value ?? 0;
    expect(after - before).toBe(1);
    expect(batch.queries).toHaveLength(3);
    for (let i = 0; i < ids.length; i++) {
      const single = (await (await similar('k=4', images[i])).json()) as SearchBody;
      expect(batch.queries[i].results).toEqual(single.results);
      expect(batch.queries[i].results[0].id).toBe(ids[i]);
    }
    const json = await post<{ queries: SearchBody[] }>('/similar/batch?k=4', {
      images: images.map((b, i) =>
        i === 0 ? `data:image/png;base64,${b.toString('base64')}` : b.toString('base64'),
      ),
    });
    expect(json.queries.map((x) => x.results)).toEqual(batch.queries.map((x) => x.results));
  });

  it('refuses more than 32 images, an empty list and bad base64', async () => {
    const form = new FormData();
    for (let i = 0; i < 33; i++)
      form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'q.png');
    const res = await server.request('/similar/batch', { method: 'POST', body: form });
    expect(res.status).toBe(413);
    await post('/similar/batch', { images: [] }, 400);
    await post('/similar/batch', { images: ['!!!not base64!!!'] }, 400);
    await post('/similar/batch', { images: Array(33).fill(png.toString('base64')) }, 400);
  });

  it('POST /recommendations/batch answers each query as POST /recommendations does', async () => {
    const queries = [
      { positive: ['fmnist-test-00042'], k: 3 },
      { positive: ['fmnist-test-00007'], negative: ['fmnist-test-00001'], k: 2, filter: { in_stock: true } },
      { positive: ['nope'], ignore_missing: true },
    ];
    const batch = await post<{ queries: SearchBody[] }>('/recommendations/batch', { queries });
    expect(batch.queries).toHaveLength(3);
    for (let i = 0; i < queries.length; i++) {
      const single = await post<SearchBody>('/recommendations', queries[i]);
      expect(batch.queries[i]).toEqual({
        results: single.results,
        ...(single.missing ? { missing: single.missing } : {}),
      });
    }
  });
});

describe('attribute writes', () => {
  it('POST /items takes attributes; PATCH changes them and the category without re-embedding', async () => {
    const form = new FormData();
    form.append('title', 'Test dress');
    form.append('category', 'Dress');
    form.append('id', 'patch-me');
    form.append('attributes', JSON.stringify({ brand: 'Zed', price: 12.5, sizes: ['M'] }));
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'x.png');
    const res = await server.request('/items', { method: 'POST', headers: auth, body: form });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { attributes: Attributes }).attributes).toEqual({
      brand: 'Zed',
      price: 12.5,
      sizes: ['M'],
    });
    const found = await get<SearchBody>(
      `/items/fmnist-test-00007/recommendations?k=1&${q({ brand: 'Zed' })}`,
    );
    expect(found.results.map((r) => r.id)).toEqual(['patch-me']);

    const vectorBefore = Array.from(
      server.app.serving.require().vectors.get(server.app.items.labelOf('patch-me')!)!,
    );
    const patched = await server.request('/items/patch-me', {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ category: 'Bag', attributes: { brand: 'Yonder', in_stock: true } }),
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      category: 'Bag',
      attributes: { brand: 'Yonder', in_stock: true },
    });
    const vectorAfter = Array.from(
      server.app.serving.require().vectors.get(server.app.items.labelOf('patch-me')!)!,
    );
    expect(vectorAfter).toEqual(vectorBefore);
    const inBags = await get<SearchBody>(
      `/items/fmnist-test-00007/recommendations?k=1&category=Bag&${q({ brand: 'Yonder' })}`,
    );
    expect(inBags.results.map((r) => r.id)).toEqual(['patch-me']);
    const asDress = await get<SearchBody>(
      `/items/fmnist-test-00007/recommendations?k=5&category=Dress&${q({ brand: 'Zed' })}`,
    );
    expect(asDress.results).toEqual([]);
    const own = (await (await similar('k=1&category=Bag')).json()) as SearchBody;
    expect(own.results[0].id).toBe('patch-me');
  });

  it('PATCH refuses bad attributes, unknown fields, an empty body, unknown ids and no token', async () => {
    const patch = (id: string, body: unknown, headers: Record<string, string> = auth) =>
      server.request(`/items/${id}`, {
        method: 'PATCH',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await patch('fmnist-test-00042', { attributes: { price: 'x'.repeat(300) } })).status).toBe(400);
    expect((await patch('fmnist-test-00042', { attributes: { category: 'x' } })).status).toBe(400);
    expect((await patch('fmnist-test-00042', { colour: 'red' })).status).toBe(400);
    expect((await patch('fmnist-test-00042', {})).status).toBe(400);
    expect((await patch('no-such-item', { title: 'x' })).status).toBe(404);
    expect((await patch('fmnist-test-00042', { title: 'x' }, {})).status).toBe(401);
  });
});

describe('every response', () => {
  it('was below 500', () => {
    expect(server.statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});
