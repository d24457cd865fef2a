/**
 * Refusals below the routes, over a raw TCP socket against the real server:
 * what Node's HTTP parser refuses (garbage, unknown methods, bad versions,
 * oversized headers, broken Content-Length and chunked framing, slow
 * requests), what the router refuses (bad percent-encoding, a 10,000-character
 * id) and the requests Node would answer itself without a body (no Host, an
 * unmet Expect, CONNECT). Each gets one complete HTTP/1.1 response with the
 * `{ error: { code, message } }` body and a stable code; parser-level ones
 * close the connection. The server stays healthy throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from './harness.ts';
import { exchange, type RawResponse } from './rawHttp.ts';

let prepared: Prepared;
let server: TestServer;
let port: number;

const REQUEST_TIMEOUT_MS = 1500;

beforeAll(async () => {
  prepared = await prepareData(100);
  server = await startServer(prepared, {
    ADMIN_TOKEN: 'raw-token',
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  port = Number(new URL(server.base).port);
});

afterAll(async () => {
  await server?.close();
  if (prepared) removeData(prepared);
});

function expectEnvelope(response: RawResponse | undefined, status: number, code: string): void {
  expect(response, 'a response').toBeDefined();
  expect(response!.status).toBe(status);
  expect(response!.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(response!.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  // Never a 10,000-character URL or header back (an id of at most 200 characters may be quoted).
  expect(body.error.message.length).toBeLessThan(300);
}

const post = (path: string, headers: string, body = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;

/** Name, bytes, status, code. */
const PARSER_CASES: [string, string | Buffer, number, string][] = [
  ['unknown method', 'FOO /items HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_METHOD'],
  ['garbage request line', 'hello world\r\n\r\n', 400, 'INVALID_METHOD'],
  ['TLS hello on the plain port', Buffer.from('16030100a5010000a103035b', 'hex'), 400, 'INVALID_METHOD'],
  ['HTTP/9.9', 'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n', 400, 'INVALID_HTTP_VERSION'],
  ['bare LF line endings', 'GET /healthz HTTP/1.1\nHost: x\n\n', 400, 'INVALID_HTTP_VERSION'],
  [
    'header too large (431)',
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    431,
    'HEADERS_TOO_LARGE',
  ],
  [
    'request line too large (431)',
    `GET /items?cursor=${'c'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    431,
    'HEADERS_TOO_LARGE',
  ],
  [
    'negative Content-Length',
    post('/recommendations', 'Content-Length: -1\r\n'),
    400,
    'INVALID_CONTENT_LENGTH',
  ],
  [
    'non-numeric Content-Length',
    post('/recommendations', 'Content-Length: 1 2\r\n'),
    400,
    'INVALID_CONTENT_LENGTH',
  ],
  [
    'Content-Length overflow',
    post('/recommendations', 'Content-Length: 99999999999999999999999\r\n'),
    400,
    'INVALID_CONTENT_LENGTH',
  ],
  [
    'duplicate Content-Length',
    post('/recommendations', 'Content-Length: 2\r\nContent-Length: 3\r\n', '{}'),
    400,
    'INVALID_CONTENT_LENGTH',
  ],
  [
    'Content-Length with chunked',
    post('/recommendations', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    400,
    'INVALID_TRANSFER_ENCODING',
  ],
  [
    'bad chunk size',
    post('/recommendations', 'Transfer-Encoding: chunked\r\n', 'ZZ\r\n{}\r\n0\r\n\r\n'),
    400,
    'INVALID_CHUNK',
  ],
  [
    'space in a header name',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
    400,
    'INVALID_HEADER',
  ],
  [
    'obsolete header folding',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n',
    400,
    'INVALID_HEADER',
  ],
  ['NUL in the target', 'GET /heal\0thz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_URL'],
];

describe('HTTP parser refusals', () => {
  for (const [name, bytes, status, code] of PARSER_CASES) {
    it(`${name}: ${status} ${code}, connection closed`, async () => {
      const result = await exchange(port, bytes);
      expect(result.responses, result.raw.slice(0, 200)).toHaveLength(1);
      expectEnvelope(result.responses[0], status, code);
      expect(result.responses[0].headers.connection).toBe('close');
      expect(result.closed).toBe(true);
    });
  }

  it('a slow request gets 408 REQUEST_TIMEOUT once REQUEST_TIMEOUT_MS has passed', async () => {
    const started = Date.now();
    const result = await exchange(port, post('/recommendations', 'Content-Length: 100\r\n', '{"positive'), {
      timeoutMs: REQUEST_TIMEOUT_MS + 6000,
    });
    expectEnvelope(result.responses[0], 408, 'REQUEST_TIMEOUT');
    expect(result.closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
  });

  it('answers a good request, then refuses the garbage pipelined after it', async () => {
    const result = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBLAH\r\n\r\n');
    expect(result.responses.map((r) => r.status)).toEqual([200, 400]);
    expectEnvelope(result.responses[1], 400, 'INVALID_METHOD');
  });
});

describe('router and server refusals', () => {
  const cases: [string, string, number, string][] = [
    [
      'a 10,000-character id (414)',
      `GET /items/${'a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      414,
      'URI_TOO_LONG',
    ],
    [
      'a 300-character recommendations id (414)',
      `GET /items/${'b'.repeat(300)}/recommendations HTTP/1.1\r\nHost: x\r\n\r\n`,
      414,
      'URI_TOO_LONG',
    ],
    ['bad percent-encoding in a path', 'GET /items/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_URL'],
    ['non-hex percent-encoding', 'GET /items/%zz/image HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'INVALID_URL'],
    ['no Host header', 'GET /healthz HTTP/1.1\r\n\r\n', 400, 'MISSING_HOST'],
    [
      'Expect other than 100-continue',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n',
      417,
      'EXPECTATION_FAILED',
    ],
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      405,
      'METHOD_NOT_ALLOWED',
    ],
    ['a method without routes', 'PROPFIND /items HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'ROUTE_NOT_FOUND'],
    ['OPTIONS without CORS', 'OPTIONS /similar HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'ROUTE_NOT_FOUND'],
    [
      'k=Infinity',
      'GET /items/fmnist-test-00001/recommendations?k=Infinity HTTP/1.1\r\nHost: x\r\n\r\n',
      400,
      'VALIDATION_ERROR',
    ],
    [
      'a hex job id',
      'GET /admin/jobs/0x1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer raw-token\r\n\r\n',
      400,
      'VALIDATION_ERROR',
    ],
  ];
  for (const [name, bytes, status, code] of cases) {
    it(`${name}: ${status} ${code}`, async () => {
      const result = await exchange(port, bytes, { timeoutMs: 3000, responses: 1 });
      expect(result.responses.length, result.raw.slice(0, 200)).toBeGreaterThanOrEqual(1);
      expectEnvelope(result.responses[0], status, code);
    });
  }

  it('an id as long as the schema allows (200 characters) is looked up, not refused as too long', async () => {
    const result = await exchange(port, `GET /items/${'c'.repeat(200)} HTTP/1.1\r\nHost: x\r\n\r\n`, {
      responses: 1,
    });
    expectEnvelope(result.responses[0], 404, 'ITEM_NOT_FOUND');
  });

  it('HTTP/1.0 without Host is still served', async () => {
    const result = await exchange(port, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(result.responses[0]?.status).toBe(200);
  });
});

describe('afterwards', () => {
  it('the server is ready and never answered 5xx', async () => {
    expect((await server.request('/readyz')).status).toBe(200);
    const result = await exchange(port, 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(result.responses[0]?.status).toBe(200);
  });
});
