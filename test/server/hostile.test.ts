import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bombPng, productPhoto } from './fixtures.ts';
import {
  BAD_INTEGERS,
  BAD_NUMBERS,
  encode,
  HOSTILE_STRINGS,
  int,
  pick,
  type Random,
  rng,
} from './generators.ts';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from './harness.ts';
import { exchange } from './rawHttp.ts';

const SEED = Number(process.env.HOSTILE_SEED ?? 14);
const TOKEN = 'hostile-admin-token';
const ITEM = 'fmnist-test-00005';
const ITEMS = 500;
const BODY_LIMIT = 300_000;
/** RSS growth allowed over the whole suite (decoders and allocators keep some memory). */
const RSS_GROWTH_MAX = 400 * 1024 * 1024;

let prepared: Prepared;
let server: TestServer;
let png: Buffer;
let jpeg: Buffer;
let webp: Buffer;

interface Case {
  kind: string;
  name: string;
  path: string;
  init?: RequestInit;
  /** Randomly corrupted images may decode: 2xx allowed. */
  mayPass?: boolean;
}

interface Outcome {
  kind: string;
  name: string;
  status: number;
  code: string | null;
  problem: string | null;
}

/** A JPEG whose frame header (SOF0/SOF2) claims width x height. */
function bombJpeg(source: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(source);
  for (let i = 2; i < out.length - 9; i++) {
    if (out[i] === 0xff && (out[i + 1] === 0xc0 || out[i + 1] === 0xc2)) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
  }
  throw new Error('no SOF marker');
}

/** A WebP (VP8X) header claiming a canvas of width x height, with no image data. */
function bombWebp(width: number, height: number): Buffer {
  const chunk = Buffer.alloc(18);
  chunk.write('VP8X', 0, 'latin1');
  chunk.writeUInt32LE(10, 4);
  chunk.writeUIntLE(width - 1, 12, 3);
  chunk.writeUIntLE(height - 1, 15, 3);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + chunk.length, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, chunk]);
}

function corrupt(random: Random, bytes: Buffer, flips: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < flips; i++) out[int(random, 16, out.length - 1)] ^= 1 + int(random, 0, 254);
  return out;
}

const auth = { authorization: `Bearer ${TOKEN}` };

function raw(bytes: Uint8Array, type: string, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': type, ...headers }, body: bytes };
}

function multipart(
  files: { bytes: Uint8Array; type: string; field?: string }[],
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(f.field ?? 'image', new Blob([f.bytes], { type: f.type }), 'upload.bin');
  return form;
}

function json(method: string, body: string, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body };
}

/** The bad images: [name, bytes, declared type, may decode]. */
async function badImages(random: Random): Promise<[string, Buffer, string, boolean][]> {
  const list: [string, Buffer, string, boolean][] = [
    ['png bomb 60000x60000', await bombPng(60_000, 60_000), 'image/png', false],
    ['png bomb 1x2^31', await bombPng(1, 2 ** 31 - 1), 'image/png', false],
    ['png 0x0', await bombPng(0, 0), 'image/png', false],
    ['jpeg bomb 65500x65500', bombJpeg(jpeg, 65_500, 65_500), 'image/jpeg', false],
    ['jpeg 0x0', bombJpeg(jpeg, 0, 0), 'image/jpeg', false],
    ['webp bomb 16384x16384', bombWebp(16_384, 16_384), 'image/webp', false],
    ['png magic + zeros', Buffer.concat([png.subarray(0, 8), Buffer.alloc(300)]), 'image/png', false],
    ['jpeg magic + AAAA', Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(500, 0x41)]), 'image/jpeg', false],
    ['webp magic only', Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'), 'image/webp', false],
    [
      'gif',
      Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04', 'latin1'),
      'image/gif',
      false,
    ],
    [
      'svg with script',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      'image/svg+xml',
      false,
    ],
    ['bmp', Buffer.concat([Buffer.from('BM', 'latin1'), Buffer.alloc(60)]), 'image/bmp', false],
    ['tiff', Buffer.concat([Buffer.from('II*\x00', 'latin1'), Buffer.alloc(60)]), 'image/tiff', false],
    ['pdf', Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj'), 'application/pdf', false],
    [
      'zip',
      Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]),
      'application/zip',
      false,
    ],
    ['html as png', Buffer.from('<html><body>hi</body></html>'), 'image/png', false],
    ['jpeg bytes declared png', jpeg, 'image/png', false],
    ['png bytes declared webp', png, 'image/webp', false],
    ['empty', Buffer.alloc(0), 'image/png', false],
  ];
  for (const cut of [8, 16, 29, 40, 60]) {
    list.push([`png truncated to ${cut} bytes`, png.subarray(0, cut), 'image/png', false]);
  }
  for (const fraction of [0.05, 0.2, 0.5]) {
    const n = Math.floor(jpeg.length * fraction);
    list.push([`jpeg truncated to ${n} bytes`, jpeg.subarray(0, n), 'image/jpeg', false]);
    const w = Math.max(12, Math.floor(webp.length * fraction));
    list.push([`webp truncated to ${w} bytes`, webp.subarray(0, w), 'image/webp', false]);
  }
  for (let i = 0; i < 4; i++) {
    list.push([`png with ${i + 1} flipped bytes`, corrupt(random, png, i + 1), 'image/png', true]);
    list.push([
      `jpeg with ${8 * (i + 1)} flipped bytes`,
      corrupt(random, jpeg, 8 * (i + 1)),
      'image/jpeg',
      true,
    ]);
  }
  return list;
}

async function imageCases(random: Random): Promise<Case[]> {
  const cases: Case[] = [];
  for (const [name, bytes, type, mayPass] of await badImages(random)) {
    const b64 = bytes.toString('base64');
    cases.push(
      {
        kind: 'bad image',
        name: `/similar raw: ${name}`,
        path: '/similar',
        init: raw(bytes, type),
        mayPass,
      },
      {
        kind: 'bad image',
        name: `/similar multipart: ${name}`,
        path: '/similar?k=3',
        init: { method: 'POST', body: multipart([{ bytes, type }]) },
        mayPass,
      },
      {
        kind: 'bad image',
        name: `/similar/batch multipart: ${name}`,
        path: '/similar/batch',
        init: {
          method: 'POST',
          body: multipart([
            { bytes: png, type: 'image/png' },
            { bytes, type },
          ]),
        },
        mayPass,
      },
    );
    // JSON batches declare no type: a type mismatch is no fault there.
    if (!name.includes('declared')) {
      cases.push({
        kind: 'bad image',
        name: `/similar/batch json: ${name}`,
        path: '/similar/batch',
        init: json('POST', JSON.stringify({ images: [png.toString('base64'), b64] })),
        mayPass,
      });
    }
    if (!mayPass) {
      cases.push({
        kind: 'bad image',
        name: `POST /items: ${name}`,
        path: '/items',
        init: {
          method: 'POST',
          headers: auth,
          body: multipart([{ bytes, type }], {
            title: 'hostile',
            category: 'Sneaker',
            id: 'hostile-image-item',
          }),
        },
      });
    }
  }
  return cases;
}

function multipartCases(): Case[] {
  const manyFields: Record<string, string> = {};
  for (let i = 0; i < 100; i++) manyFields[`f${i}`] = 'x';
  const raw = (body: string, type: string): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const part = (name: string, filename: string | null, type: string, data: string) =>
    `--XYZ\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\nContent-Type: ${type}\r\n\r\n${data}\r\n`;
  const pngText = png.toString('latin1');
  return [
    {
      kind: 'bad multipart',
      name: 'two images on /similar',
      path: '/similar',
      init: {
        method: 'POST',
        body: multipart([
          { bytes: png, type: 'image/png' },
          { bytes: png, type: 'image/png' },
        ]),
      },
    },
    {
      kind: 'bad multipart',
      name: 'image in field "file"',
      path: '/similar',
      init: { method: 'POST', body: multipart([{ bytes: png, type: 'image/png', field: 'file' }]) },
    },
    {
      kind: 'bad multipart',
      name: '100 text fields',
      path: '/similar',
      init: { method: 'POST', body: multipart([{ bytes: png, type: 'image/png' }], manyFields) },
    },
    {
      kind: 'bad multipart',
      name: 'no file at all',
      path: '/similar',
      init: { method: 'POST', body: multipart([], { k: '3' }) },
    },
    {
      kind: 'bad multipart',
      name: 'no boundary',
      path: '/similar',
      init: raw(part('image', 'a.png', 'image/png', pngText), 'multipart/form-data'),
    },
    {
      kind: 'bad multipart',
      name: 'wrong boundary',
      path: '/similar',
      init: raw(
        `${part('image', 'a.png', 'image/png', pngText)}--XYZ--\r\n`,
        'multipart/form-data; boundary=ABC',
      ),
    },
    {
      kind: 'bad multipart',
      name: 'unterminated',
      path: '/similar',
      init: raw(
        part('image', 'a.png', 'image/png', pngText.slice(0, 50)),
        'multipart/form-data; boundary=XYZ',
      ),
    },
    {
      kind: 'bad multipart',
      name: 'header garbage',
      path: '/similar',
      init: raw('--XYZ\r\n\u0000\u0001garbage\r\n\r\n\r\n--XYZ--\r\n', 'multipart/form-data; boundary=XYZ'),
    },
    {
      kind: 'bad multipart',
      name: '33 images on /similar/batch',
      path: '/similar/batch',
      init: {
        method: 'POST',
        body: multipart(Array.from({ length: 33 }, () => ({ bytes: png, type: 'image/png' }))),
      },
    },
    {
      kind: 'bad multipart',
      name: 'POST /items with a 10 KB title',
      path: '/items',
      init: {
        method: 'POST',
        headers: auth,
        body: multipart([{ bytes: png, type: 'image/png' }], {
          title: 't'.repeat(10_000),
          category: 'Sneaker',
        }),
      },
    },
    {
      kind: 'bad multipart',
      name: 'POST /items with an unknown field',
      path: '/items',
      init: {
        method: 'POST',
        headers: auth,
        body: multipart([{ bytes: png, type: 'image/png' }], { title: 't', category: 'Sneaker', price: '1' }),
      },
    },
    {
      kind: 'bad multipart',
      name: 'POST /items with prototype attributes',
      path: '/items',
      init: {
        method: 'POST',
        headers: auth,
        body: multipart([{ bytes: png, type: 'image/png' }], {
          title: 't',
          category: 'Sneaker',
          attributes: '{"__proto__":{"x":1}}',
        }),
      },
    },
    {
      kind: 'bad multipart',
      name: 'POST /items with an injection id',
      path: '/items',
      init: {
        method: 'POST',
        headers: auth,
        body: multipart([{ bytes: png, type: 'image/png' }], {
          title: 't',
          category: 'Sneaker',
          id: "x'; DROP TABLE items; --",
        }),
      },
    },
  ];
}

/** Non-canonical numbers and hostile strings in every query and path parameter. */
function parameterCases(random: Random): Case[] {
  const cases: Case[] = [];
  const numeric: Record<string, 'integer' | 'number'> = {
    k: 'integer',
    offset: 'integer',
    group_size: 'integer',
    max_distance: 'number',
    diversity: 'number',
  };
  const searchRoutes: [string, (q: string) => [string, RequestInit | undefined]][] = [
    ['GET recommendations', (q) => [`/items/${ITEM}/recommendations?${q}`, undefined]],
    ['POST /similar', (q) => [`/similar?${q}`, raw(png, 'image/png')]],
    [
      'POST /similar/batch',
      (q) => [`/similar/batch?${q}`, json('POST', JSON.stringify({ images: [png.toString('base64')] }))],
    ],
  ];
  for (const [route, make] of searchRoutes) {
    for (const [name, type] of Object.entries(numeric)) {
      const list = type === 'integer' ? BAD_INTEGERS : BAD_NUMBERS;
      for (let i = 0; i < 3; i++) {
        const value = pick(random, list);
        const extra = name === 'group_size' ? '&group_by=brand' : '';
        const [path, init] = make(`${name}=${encode(value)}${extra}`);
        cases.push({ kind: 'odd parameter', name: `${route} ${name}=${JSON.stringify(value)}`, path, init });
      }
    }
    for (const name of ['category', 'filter', 'group_by', 'include']) {
      if (name === 'include' && route !== 'POST /similar') continue;
      for (let i = 0; i < 3; i++) {
        const value = pick(random, HOSTILE_STRINGS);
        const [path, init] = make(`${name}=${encode(value)}`);
        cases.push({
          kind: 'injection',
          name: `${route} ${name}=${JSON.stringify(value.slice(0, 40))}`,
          path,
          init,
          // Probes that happen to be well-formed: an attribute name to group by, a Fashion-MNIST label.
          mayPass:
            (name === 'group_by' && /^[A-Za-z0-9_.-]{1,64}$/.test(value)) ||
            (name === 'category' && /^[0-9]$/.test(value)),
        });
      }
    }
  }
  for (const [name, type] of [
    ['limit', 'integer'],
    ['cursor', 'string'],
    ['category', 'string'],
    ['filter', 'string'],
  ] as const) {
    for (let i = 0; i < 4; i++) {
      const value = type === 'integer' ? pick(random, BAD_INTEGERS) : pick(random, HOSTILE_STRINGS);
      cases.push({
        kind: type === 'integer' ? 'odd parameter' : 'injection',
        name: `GET /items ${name}=${JSON.stringify(value.slice(0, 40))}`,
        path: `/items?${name}=${encode(value)}`,
      });
    }
  }
  for (const value of HOSTILE_STRINGS) {
    const id = encode(value);
    if (id === '' || value === '/' || value === '?' || value === '#') continue;
    for (const suffix of ['', '/image', '/recommendations']) {
      cases.push({
        kind: 'injection',
        name: `GET /items/${JSON.stringify(value.slice(0, 30))}${suffix}`,
        path: `/items/${id}${suffix}`,
      });
    }
  }
  const deep = `${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}`;
  const filters: [string, string][] = [
    ['nested 2,500 deep', deep],
    ['nested arrays', `{"brand":{"in":${'['.repeat(5000)}${']'.repeat(5000)}}}`],
    ['prototype keys', '{"__proto__":{"brand":"x"},"constructor":{"in":["x"]}}'],
    ['operator injection', '{"brand":{"$where":"sleep(1000)"}}'],
    ['a number', '5'],
    ['not JSON', "brand='x' OR 1=1"],
  ];
  for (const [name, value] of filters) {
    for (const path of ['/items', `/items/${ITEM}/recommendations`]) {
      cases.push({
        kind: 'injection',
        name: `GET ${path} filter: ${name}`,
        path: `${path}?filter=${encode(value)}`,
      });
    }
  }
  for (const value of [
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x1',
    'NaN',
    'Infinity',
    '99999999999999999999',
    '%00',
    "1' OR '1'='1",
  ]) {
    cases.push({
      kind: 'odd parameter',
      name: `GET /admin/jobs/${value}`,
      path: `/admin/jobs/${encode(value)}`,
      init: { headers: auth },
    });
  }
  return cases;
}

function tokenCases(): Case[] {
  const tokens: [string, Record<string, string>][] = [
    ['no header', {}],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['wrong token', { authorization: 'Bearer wrong' }],
    ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['token + suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['token with a space inside', { authorization: `Bearer ${TOKEN} ${TOKEN}` }],
    ['basic auth', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
    ['bare token', { authorization: TOKEN }],
    ['10 KB token', { authorization: `Bearer ${'a'.repeat(10_000)}` }],
    ['unicode token', { authorization: 'Bearer t\u00f6ken' }],
  ];
  const form = () => multipart([{ bytes: png, type: 'image/png' }], { title: 'x', category: 'Sneaker' });
  const routes: [string, string, () => RequestInit][] = [
    ['POST', '/items', () => ({ body: form() })],
    [
      'PATCH',
      `/items/${ITEM}`,
      () => ({ body: '{"title":"pwned"}', headers: { 'content-type': 'application/json' } }),
    ],
    ['DELETE', `/items/${ITEM}`, () => ({})],
    ['POST', '/admin/index/rebuild', () => ({ body: '{}', headers: { 'content-type': 'application/json' } })],
    ['GET', '/admin/jobs/1', () => ({})],
  ];
  const cases: Case[] = [];
  for (const [method, path, init] of routes) {
    for (const [name, headers] of tokens) {
      const base = init();
      cases.push({
        kind: 'bad token',
        name: `${method} ${path}: ${name}`,
        path,
        init: { ...base, method, headers: { ...(base.headers as Record<string, string>), ...headers } },
      });
    }
  }
  return cases;
}

/** Parameter combinations, each within its bounds, that would cost seconds of CPU together. */
function expensiveCases(): Case[] {
  const ids = (n: number, from: number) =>
    Array.from({ length: n }, (_, i) => `fmnist-test-${String(from + i).padStart(5, '0')}`);
  const heavy = { positive: ids(100, 0), negative: ids(100, 100), k: 100, offset: 900 };
  const queries: [string, Record<string, unknown>][] = [
    ['best_score 100 x 100 at offset 900', { ...heavy, strategy: 'best_score' }],
    ['best_score 100 positives, k 10', { positive: ids(100, 0), k: 10, strategy: 'best_score' }],
    [
      'best_score with group_by',
      { positive: ids(20, 0), k: 10, strategy: 'best_score', group_by: 'category' },
    ],
    ['diversity at offset 900', { ...heavy, diversity: 1 }],
    ['diversity with group_by', { ...heavy, diversity: 0.5, group_by: 'brand', group_size: 1 }],
  ];
  const cases: Case[] = [];
  for (const [name, query] of queries) {
    cases.push(
      {
        kind: 'expensive query',
        name: `POST /recommendations: ${name}`,
        path: '/recommendations',
        init: json('POST', JSON.stringify(query)),
      },
      {
        kind: 'expensive query',
        name: `POST /recommendations/batch: 32 x ${name}`,
        path: '/recommendations/batch',
        init: json('POST', JSON.stringify({ queries: Array(32).fill(query) })),
      },
    );
  }
  const plainHeavy = { positive: ids(1, 0), k: 100, offset: 900, group_by: 'category', group_size: 1 };
  cases.push({
    kind: 'expensive query',
    name: 'POST /recommendations/batch: 32 grouped queries at offset 900',
    path: '/recommendations/batch',
    init: json('POST', JSON.stringify({ queries: Array(32).fill(plainHeavy) })),
  });
  for (const q of ['diversity=1&offset=900&k=100', 'diversity=0.2&offset=400&k=100']) {
    cases.push(
      {
        kind: 'expensive query',
        name: `GET recommendations?${q}`,
        path: `/items/${ITEM}/recommendations?${q}`,
      },
      {
        kind: 'expensive query',
        name: `POST /similar?${q}`,
        path: `/similar?${q}`,
        init: raw(png, 'image/png'),
      },
    );
  }
  cases.push({
    kind: 'expensive query',
    name: 'POST /similar/batch: 32 images grouped at offset 900',
    path: '/similar/batch?k=100&offset=900&group_by=category',
    init: json('POST', JSON.stringify({ images: Array(32).fill(png.toString('base64')) })),
  });
  return cases;
}

function bodyCases(): Case[] {
  const big = Buffer.alloc(BODY_LIMIT + 1, 0x41);
  const recommendations = '/recommendations';
  const cases: Case[] = [
    {
      kind: 'oversized body',
      name: 'raw image past the body limit',
      path: '/similar',
      init: raw(Buffer.concat([jpeg, big]), 'image/jpeg'),
    },
    {
      kind: 'oversized body',
      name: 'multipart file past the body limit',
      path: '/similar',
      init: { method: 'POST', body: multipart([{ bytes: Buffer.concat([jpeg, big]), type: 'image/jpeg' }]) },
    },
    {
      kind: 'oversized body',
      name: 'JSON past the body limit',
      path: recommendations,
      init: json('POST', JSON.stringify({ positive: [ITEM], pad: 'x'.repeat(BODY_LIMIT) })),
    },
    {
      kind: 'oversized body',
      name: 'batch JSON past the body limit',
      path: '/similar/batch',
      init: json('POST', JSON.stringify({ images: [big.toString('base64')] })),
    },
    {
      kind: 'oversized body',
      name: '101 positives',
      path: recommendations,
      init: json('POST', JSON.stringify({ positive: Array(101).fill(ITEM) })),
    },
    {
      kind: 'oversized body',
      name: '33 batch queries',
      path: '/recommendations/batch',
      init: json('POST', JSON.stringify({ queries: Array(33).fill({ positive: [ITEM] }) })),
    },
    {
      kind: 'oversized body',
      name: '21 categories',
      path: recommendations,
      init: json('POST', JSON.stringify({ positive: [ITEM], category: Array(21).fill('Sneaker') })),
    },
    {
      kind: 'oversized body',
      name: 'a 17 KB filter',
      path: recommendations,
      init: json(
        'POST',
        JSON.stringify({
          positive: [ITEM],
          filter: { brand: { in: Array.from({ length: 2000 }, (_, i) => `b${i}xxxx`) } },
        }),
      ),
    },
  ];
  const types = [
    'text/plain',
    'application/xml',
    'application/x-www-form-urlencoded',
    'application/jsonx',
    'application/octet-stream',
    'image/png',
    'text/html',
    '',
  ];
  for (const type of types) {
    const body = JSON.stringify({ positive: [ITEM] });
    for (const path of [recommendations, '/recommendations/batch', `/items/${ITEM}`]) {
      const method = path.startsWith('/items') ? 'PATCH' : 'POST';
      cases.push({
        kind: 'wrong content type',
        name: `${method} ${path} as ${JSON.stringify(type)}`,
        path,
        init: { method, headers: { ...(type ? { 'content-type': type } : {}), ...auth }, body },
      });
    }
  }
  for (const type of ['text/plain', 'application/xml', 'image/gif', 'application/x-www-form-urlencoded']) {
    cases.push({
      kind: 'wrong content type',
      name: `POST /similar as ${type}`,
      path: '/similar',
      init: raw(png, type),
    });
    cases.push({
      kind: 'wrong content type',
      name: `POST /items as ${type}`,
      path: '/items',
      init: raw(png, type, auth),
    });
  }
  const nasty: [string, string][] = [
    ['deeply nested array (50,000)', `{"positive":${'['.repeat(50_000)}${']'.repeat(50_000)}}`],
    [
      'deeply nested filter (30,000)',
      `{"positive":["${ITEM}"],"filter":${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}}`,
    ],
    ['__proto__ key', `{"positive":["${ITEM}"],"__proto__":{"polluted":true}}`],
    ['constructor.prototype', `{"positive":["${ITEM}"],"constructor":{"prototype":{"polluted":true}}}`],
    ['__proto__ in the filter', `{"positive":["${ITEM}"],"filter":{"__proto__":{"brand":"x"}}}`],
    ['k: 1e400', `{"positive":["${ITEM}"],"k":1e400}`],
    ['k: -1e400', `{"positive":["${ITEM}"],"k":-1e400}`],
    ['k: "Infinity"', `{"positive":["${ITEM}"],"k":"Infinity"}`],
    ['k: true', `{"positive":["${ITEM}"],"k":true}`],
    ['k: [5]', `{"positive":["${ITEM}"],"k":[5]}`],
    ['max_distance: 1e400', `{"positive":["${ITEM}"],"max_distance":1e400}`],
    ['diversity: "0.5"', `{"positive":["${ITEM}"],"diversity":"0.5"}`],
    ['NaN literal', `{"positive":["${ITEM}"],"k":NaN}`],
    ['trailing garbage', `{"positive":["${ITEM}"]}garbage`],
    ['two documents', `{"positive":["${ITEM}"]}{"positive":["${ITEM}"]}`],
    ['empty body', ''],
    ['just null', 'null'],
    ['an array', `[{"positive":["${ITEM}"]}]`],
    ['a string', '"positive"'],
    ['truncated', `{"positive":["${ITEM}"`],
    ['unknown field', `{"positive":["${ITEM}"],"limit":5}`],
    ['injection id', `{"positive":["x' OR '1'='1"]}`],
    ['ids with NUL', `{"positive":["${ITEM}\\u0000"]}`],
    ['strategy injection', `{"positive":["${ITEM}"],"strategy":"average_vector; rm -rf /"}`],
  ];
  for (const [name, body] of nasty) {
    cases.push({
      kind: 'nasty JSON',
      name: `POST /recommendations: ${name}`,
      path: recommendations,
      init: json('POST', body),
    });
  }
  for (const [name, body] of nasty.slice(0, 12)) {
    const batch = body.startsWith('{"positive"') ? `{"queries":[${body}]}` : body;
    cases.push({
      kind: 'nasty JSON',
      name: `POST /recommendations/batch: ${name}`,
      path: '/recommendations/batch',
      init: json('POST', batch),
    });
  }
  const patch: [string, string][] = [
    ['empty object', '{}'],
    ['unknown field', '{"image":"x"}'],
    ['title too long', JSON.stringify({ title: 't'.repeat(501) })],
    ['title a number', '{"title":5}'],
    ['attributes a string', '{"attributes":"x"}'],
    [
      '65 attributes',
      JSON.stringify({ attributes: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${i}`, 1])) }),
    ],
    ['attributes with __proto__', '{"attributes":{"__proto__":{"x":1}}}'],
    ['nested attributes', `{"attributes":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`],
    ['attribute key injection', '{"attributes":{"a; DROP TABLE items":1}}'],
  ];
  for (const [name, body] of patch) {
    cases.push({
      kind: 'nasty JSON',
      name: `PATCH /items/:id (admin): ${name}`,
      path: `/items/${ITEM}`,
      init: json('PATCH', body, auth),
    });
  }
  for (const [name, body] of [
    ['model traversal', '{"model":"../../etc"}'],
    ['model absolute', '{"model":"/etc/passwd"}'],
    ['model unknown', '{"model":"no-such-model"}'],
    ['model number', '{"model":5}'],
    ['extra field', '{"model":"fixture","force":true}'],
    ['array', '[]'],
  ] as const) {
    cases.push({
      kind: 'nasty JSON',
      name: `POST /admin/index/rebuild (admin): ${name}`,
      path: '/admin/index/rebuild',
      init: json('POST', body, auth),
    });
  }
  cases.push(
    {
      kind: 'nasty JSON',
      name: 'batch JSON: not base64',
      path: '/similar/batch',
      init: json('POST', '{"images":["%%%%"]}'),
    },
    {
      kind: 'nasty JSON',
      name: 'batch JSON: data URL of an svg',
      path: '/similar/batch',
      init: json(
        'POST',
        `{"images":["data:image/svg+xml;base64,${Buffer.from('<svg/>').toString('base64')}"]}`,
      ),
    },
    {
      kind: 'nasty JSON',
      name: 'batch JSON: 33 images',
      path: '/similar/batch',
      init: json('POST', JSON.stringify({ images: Array(33).fill(png.toString('base64')) })),
    },
    {
      kind: 'nasty JSON',
      name: 'batch JSON: images a string',
      path: '/similar/batch',
      init: json('POST', JSON.stringify({ images: png.toString('base64') })),
    },
  );
  return cases;
}

/** Protocol garbage over a raw socket: [name, bytes]. */
const GARBAGE: [string, string][] = [
  ['unknown method', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['garbage line', '\x00\x01\x02\x03 garbage\r\n\r\n'],
  ['HTTP/9.9', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['header 32 KB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(32_000)}\r\n\r\n`],
  [
    'negative Content-Length',
    'POST /similar HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: -5\r\n\r\n',
  ],
  [
    'Content-Length with chunked',
    'POST /similar HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'bad chunk size',
    'POST /similar HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n',
  ],
  [
    '10,000-character id',
    `GET /items/${'i'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  ],
  ['bad percent-encoding', 'GET /items/%C0%AF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  [
    'request smuggling TE.CL',
    'POST /recommendations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n',
  ],
  ['no Host', 'GET /items HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'],
];

let fixedBefore: { count: number; similar: string; recommend: string };

async function fixedAnswers() {
  const ready = (await (await server.request('/readyz')).json()) as { index_size: number };
  const similar = await server.request('/similar?k=10', raw(png, 'image/png'));
  const recommend = await server.request(`/items/${ITEM}/recommendations?k=10`);
  type Results = { results: { id: string; distance: number; title: string }[] };
  const strip = (body: Results) => JSON.stringify(body.results.map((r) => [r.id, r.title, r.distance]));
  return {
    count: ready.index_size,
    similar: strip((await similar.json()) as Results),
    recommend: strip((await recommend.json()) as Results),
  };
}

beforeAll(async () => {
  prepared = await prepareData(ITEMS);
  server = await startServer(prepared, {
    ADMIN_TOKEN: TOKEN,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    RATE_LIMIT_PER_MINUTE: '0',
  });
  png = Buffer.from((await server.app.store.getImage('fmnist-test-00007'))!);
  jpeg = await productPhoto(png, 256);
  webp = await sharp(png).resize(128, 128).webp().toBuffer();
  fixedBefore = await fixedAnswers();
});

afterAll(async () => {
  await server?.close();
  if (prepared) removeData(prepared);
});

describe(`hostile requests (seed ${SEED})`, () => {
  const outcomes: Outcome[] = [];
  let rssBefore = 0;

  it('every one is refused with a 4xx and the error envelope, never a 5xx', async () => {
    const random = rng(SEED);
    const cases = [
      ...(await imageCases(random)),
      ...multipartCases(),
      ...parameterCases(random),
      ...tokenCases(),
      ...bodyCases(),
      ...expensiveCases(),
    ];
    rssBefore = process.memoryUsage().rss;
    for (const c of cases) {
      const res = await server.request(c.path, c.init);
      const text = await res.text();
      let code: string | null = null;
      try {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        if (typeof body.error?.code === 'string' && typeof body.error.message === 'string')
          code = body.error.code;
      } catch {}
      let problem: string | null = null;
      if (res.status >= 500) problem = '5xx';
      else if (res.status < 400 && !c.mayPass) problem = 'accepted';
      else if (res.status >= 400 && code === null) problem = 'no envelope';
      else if (c.kind === 'expensive query' && code !== 'QUERY_TOO_EXPENSIVE')
        problem = 'not QUERY_TOO_EXPENSIVE';
      outcomes.push({ kind: c.kind, name: c.name, status: res.status, code, problem });
    }
    const port = Number(new URL(server.base).port);
    for (const [name, bytes] of GARBAGE) {
      const result = await exchange(port, bytes, { timeoutMs: 3000, responses: 1 });
      const response = result.responses[0];
      let code: string | null = null;
      try {
        code = (JSON.parse(response?.body ?? '') as { error: { code: string } }).error.code;
      } catch {}
      const status = response?.status ?? 0;
      const problem = status >= 400 && status < 500 && code ? null : `raw ${status}`;
      outcomes.push({ kind: 'protocol garbage', name, status, code, problem });
    }

    const table = new Map<string, Map<number, number>>();
    for (const o of outcomes) {
      const row = table.get(o.kind) ?? new Map<number, number>();
      row.set(o.status, (row.get(o.status) ?? 0) + 1);
      table.set(o.kind, row);
    }
    const byStatus = new Map<number, number>();
    for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const lines = [...table].map(
      ([kind, row]) =>
        `  ${kind.padEnd(20)} ${[...row]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
    );
    console.log(
      `hostile suite, seed ${SEED}: ${outcomes.length} requests; by status ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}\n${lines.join('\n')}`,
    );
    expect(outcomes.length).toBeGreaterThanOrEqual(300);
    expect(
      outcomes
        .filter((o) => o.problem)
        .map((o) => `${o.problem}: ${o.kind}: ${o.name} → ${o.status} ${o.code}`),
    ).toEqual([]);
  });

  it('afterwards the server is ready, its memory bounded and the catalog unchanged', async () => {
    expect((await server.request('/readyz')).status).toBe(200);
    expect((await server.request('/healthz')).status).toBe(200);
    const growth = process.memoryUsage().rss - rssBefore;
    console.log(`RSS growth over the hostile suite: ${(growth / 1024 / 1024).toFixed(1)} MB`);
    expect(growth).toBeLessThan(RSS_GROWTH_MAX);
    expect(server.app.imageWork.inProgress).toBe(0);
    expect(server.app.items.size).toBe(ITEMS);
    expect(await fixedAnswers()).toEqual(fixedBefore);
    expect(server.statuses.filter((s) => s.status >= 500)).toEqual([]);
  });
});
