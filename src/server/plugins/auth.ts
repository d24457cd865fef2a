/**
 * Bearer tokens. The admin routes check `ADMIN_TOKEN` in their own `onRequest`
 * hook (`app.requireAdmin`), so that an unauthenticated upload is refused
 * before its body is read. When `API_TOKEN` is set, every other route but the
 * open ones (health, readiness, metrics, the API document and its rendering,
 * the web page's files) needs it, or the admin token, the same way. Tokens
 * are compared as SHA-256 digests with `timingSafeEqual`: equal-length inputs,
 * and no timing signal about how much of the token matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError, UnauthorizedError } from '../../errors.ts';
import { ErrorBody } from '../schemas.ts';

export type AdminGuard = (request: FastifyRequest) => Promise<void>;

/** Routes that never need a token (besides the admin routes, which check their own). */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/openapi.yaml', '/', '/index.html']);
const OPEN_PREFIXES = ['/docs', '/assets/'];

/** OpenAPI `security` of a read route: the read token when the server has one (`{}`: none needed). */
export function readSecurity(): Record<string, string[]>[] {
  return [{ apiToken: [] }, {}];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return match ? match[1] : null;
}

/** Whether `token` equals one of `expected` (every digest is compared, in constant time). */
function matchesAny(token: string, expected: readonly Buffer[]): boolean {
  const given = digest(token);
  let ok = false;
  for (const e of expected) ok = timingSafeEqual(given, e) || ok;
  return ok;
}

export function createAdminGuard(token: string): AdminGuard {
  const expected = token ? digest(token) : null;
  return async (request) => {
    if (!expected) {
      throw new ForbiddenError(
        'admin endpoints are disabled: start the server with ADMIN_TOKEN set',
        'ADMIN_DISABLED',
      );
    }
    const given = bearer(request);
    if (given === null) {
      throw new UnauthorizedError('missing bearer token: send Authorization: Bearer <ADMIN_TOKEN>');
    }
    if (!matchesAny(given, [expected])) throw new UnauthorizedError('invalid bearer token', 'INVALID_TOKEN');
  };
}

/** The read guard: API_TOKEN or ADMIN_TOKEN as a bearer token; null when API_TOKEN is empty (open). */
export function createReadGuard(apiToken: string, adminToken: string): AdminGuard | null {
  if (!apiToken) return null;
  const expected = [digest(apiToken), ...(adminToken ? [digest(adminToken)] : [])];
  return async (request) => {
    const given = bearer(request);
    if (given === null) {
      throw new UnauthorizedError('missing bearer token: send Authorization: Bearer <API_TOKEN>');
    }
    if (!matchesAny(given, expected)) throw new UnauthorizedError('invalid bearer token', 'INVALID_TOKEN');
  };
}

/** Whether a route is one of the read routes API_TOKEN protects. */
export function isReadRoute(route: Pick<RouteOptions, 'method' | 'url' | 'schema'>): boolean {
  const url = route.url;
  // CORS preflights carry no credentials.
  if ((Array.isArray(route.method) ? route.method : [route.method]).includes('OPTIONS')) return false;
  if (OPEN_ROUTES.has(url) || OPEN_PREFIXES.some((p) => url.startsWith(p))) return false;
  const tags = (route.schema as { tags?: string[] } | undefined)?.tags ?? [];
  return !tags.includes('admin');
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { token: string; apiToken?: string }) => {
    app.decorate('requireAdmin', createAdminGuard(opts.token));
    const guard = createReadGuard(opts.apiToken ?? '', opts.token);
    app.addHook('onRoute', (route) => {
      if (!isReadRoute(route)) return;
      // Documented whether or not this server has a token: `{}` says none may be needed.
      if (route.schema) {
        route.schema = {
          ...route.schema,
          security: readSecurity(),
          response: { ...(route.schema.response as object | undefined), 401: ErrorBody },
        };
      }
      if (!guard) return;
      const existing = route.onRequest;
      route.onRequest = existing ? [guard, ...(Array.isArray(existing) ? existing : [existing])] : [guard];
    });
  },
  { name: 'auth' },
);
