/**
 * The web page: `/` (index.html, revalidated on every load) and its content-hashed assets under
 * `/assets/` (cached for a year), as Vite builds them from src/web into dist/web (`npm run build:web`).
 * Files are read on request and kept in memory with their ETag and compressed forms until they change on
 * disk, so a rebuild of the page needs no restart. Without a built page, `/` answers 503 `WEB_NOT_BUILT`.
 * The page's Content-Security-Policy allows nothing but this origin (no CDN, no fonts from elsewhere).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, NotReadyError } from '../../errors.ts';
import { projectPath } from '../../paths.ts';

/** Where `npm run build:web` (src/web/vite.config.ts) writes the page. */
export const WEB_DIST_DIR = projectPath('dist', 'web');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // data: for the model input the API returns as a data URL, blob: for the user's own photo.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface WebRoutesOptions {
  /** The built page (default: dist/web of the repository). */
  dir?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.txt', '.svg']);
/** Below this size compression saves less than its headers cost. */
const MIN_COMPRESS_BYTES = 1024;
/** Vite's asset names: `name-HASH.ext`, no directories. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const NO_CACHE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';

type Encoding = 'br' | 'gzip' | 'identity';

interface Loaded {
  mtimeMs: number;
  size: number;
  type: string;
  hash: string;
  identity: Buffer;
  compressed: Map<Exclude<Encoding, 'identity'>, Buffer>;
  compressible: boolean;
}

/** The encoding to send: brotli or gzip when the client accepts it (q > 0), else none. */
export function pickEncoding(acceptEncoding: string | undefined): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

/** Whether an If-None-Match header matches the ETag (weak comparison, as for GET). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

export const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, options) => {
  const dir = options.dir ?? WEB_DIST_DIR;
  const cache = new Map<string, Loaded>();

  async function load(path: string): Promise<Loaded | null> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      cache.delete(path);
      return null;
    }
    if (!info.isFile()) return null;
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const identity = await readFile(path);
    const ext = extname(path).toLowerCase();
    const loaded: Loaded = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      type: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      hash: createHash('sha256').update(identity).digest('base64url').slice(0, 27),
      identity,
      compressed: new Map(),
      compressible: COMPRESSIBLE.has(ext) && identity.length >= MIN_COMPRESS_BYTES,
    };
    cache.set(path, loaded);
    return loaded;
  }

  function body(file: Loaded, encoding: Encoding): Buffer {
    if (encoding === 'identity') return file.identity;
    let out = file.compressed.get(encoding);
    if (!out) {
      out =
        encoding === 'br'
          ? brotliCompressSync(file.identity, {
              params: {
                [zlib.BROTLI_PARAM_QUALITY]: 11,
                [zlib.BROTLI_PARAM_SIZE_HINT]: file.identity.length,
              },
            })
          : gzipSync(file.identity, { level: 9 });
      file.compressed.set(encoding, out);
    }
    return out;
  }

  function send(request: FastifyRequest, reply: FastifyReply, file: Loaded, cacheControl: string) {
    const encoding = file.compressible ? pickEncoding(request.headers['accept-encoding']) : 'identity';
    // One ETag per representation, so a cache never serves gzip bytes for a brotli validator.
    const etag = `"${file.hash}${encoding === 'identity' ? '' : `-${encoding}`}"`;
    reply
      .header('cache-control', cacheControl)
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff');
    if (file.compressible) reply.header('vary', 'accept-encoding');
    if (etagMatches(request.headers['if-none-match'], etag)) return reply.status(304).send();
    if (encoding !== 'identity') reply.header('content-encoding', encoding);
    return reply.type(file.type).send(body(file, encoding));
  }

  async function page(request: FastifyRequest, reply: FastifyReply) {
    const file = await load(join(dir, 'index.html'));
    if (!file) {
      throw new NotReadyError(
        `the web page is not built: run \`npm run build:web\` (no ${join(dir, 'index.html')})`,
        'WEB_NOT_BUILT',
      );
    }
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('referrer-policy', 'same-origin')
      .header('x-frame-options', 'DENY');
    return send(request, reply, file, NO_CACHE);
  }

  // The page is not part of the API: kept out of openapi.yaml.
  const schema = { hide: true };
  app.get('/', { schema }, page);
  app.get('/index.html', { schema }, page);

  app.get<{ Params: { '*': string } }>('/assets/*', { schema }, async (request, reply) => {
    const name = request.params['*'];
    const file = ASSET_NAME.test(name) ? await load(join(dir, 'assets', name)) : null;
    if (!file) {
      if (!(await load(join(dir, 'index.html')))) {
        throw new NotReadyError('the web page is not built: run `npm run build:web`', 'WEB_NOT_BUILT');
      }
      throw new NotFoundError(`no web asset ${name}`, 'ASSET_NOT_FOUND');
    }
    return send(request, reply, file, IMMUTABLE);
  });
};
