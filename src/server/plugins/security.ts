/**
 * What an open-internet deployment needs in front of the routes:
 *
 * - security headers (`helmet`'s) on every response; the web page and the
 *   /docs page work under its Content-Security-Policy (the page sets a
 *   stricter one of its own). `upgrade-insecure-requests` is left out: this
 *   server speaks plain HTTP, and on a plain-HTTP deployment the directive
 *   would send the page's own requests to an https port nobody listens on.
 *   They are the same on every route, so helmet runs once at start-up and
 *   each reply gets the resulting headers (`@fastify/helmet` would run its
 *   twelve middlewares and build reply decorators on every request);
 * - CORS (`@fastify/cors`) only for the origins in `CORS_ORIGINS` (off when
 *   empty);
 * - per-client rate limits (`@fastify/rate-limit`, in memory) on the
 *   expensive routes: `RATE_LIMIT_PER_MINUTE` requests per minute and IP
 *   address on each; past it 429 `RATE_LIMITED` with `Retry-After`.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { AppError } from '../../errors.ts';
import { ErrorBody } from '../schemas.ts';

/** The routes a client can make expensive (model calls, many searches per request): method and URL. */
export const RATE_LIMITED_ROUTES = ['POST /similar', 'POST /similar/batch', 'POST /recommendations/batch'];

/** `CORS_ORIGINS` → @fastify/cors's `origin`: `*`, or the list of origins; null when CORS is off. */
export function corsOrigins(setting: string): string | string[] | null {
  const list = setting
    .split(',')
    .map((o) => o.trim().replace(/\/$/, ''))
    .filter((o) => o !== '');
  if (list.length === 0) return null;
  return list.includes('*') ? '*' : list;
}

/** The headers helmet sets with `options` (it sets the same ones whatever the request). */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

export const securityPlugin = fp(
  async (app: FastifyInstance) => {
    const { config } = app;
    const origins = corsOrigins(config.CORS_ORIGINS);

    const headers = securityHeaders({
      contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
      // Item images may be shown by the allowed origins' pages; otherwise by this site only.
      crossOriginResourcePolicy: { policy: origins ? 'cross-origin' : 'same-site' },
    });
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });

    if (origins) {
      await app.register(cors, {
        origin: origins,
        methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'if-none-match'],
        exposedHeaders: [
          'retry-after',
          'x-request-id',
          'location',
          'etag',
          'x-ratelimit-limit',
          'x-ratelimit-remaining',
          'x-ratelimit-reset',
        ],
        maxAge: 600,
      });
    }

    const max = config.RATE_LIMIT_PER_MINUTE;
    if (max > 0) {
      const limited = new Set(RATE_LIMITED_ROUTES);
      // Before @fastify/rate-limit's own onRoute hook, which reads `config.rateLimit`.
      app.addHook('onRoute', (route) => {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        if (methods.some((m) => limited.has(`${m} ${route.url}`))) {
          route.config = { ...route.config, rateLimit: { max, timeWindow: 60_000 } };
          if (route.schema) {
            route.schema = {
              ...route.schema,
              response: { ...(route.schema.response as object), 429: ErrorBody },
            };
          }
        }
      });
      await app.register(rateLimit, {
        global: false,
        errorResponseBuilder: (_request, context) =>
          new AppError(
            429,
            'RATE_LIMITED',
            `more than ${context.max} requests per minute to this route: retry in ${context.after}`,
          ),
      });
    }
  },
  { name: 'security', dependencies: ['config'] },
);
