/**
 * Bearer-token check for the admin routes, as an `onRequest` hook so that an
 * unauthenticated upload is refused before its body is read. Tokens are
 * compared as SHA-256 digests with `timingSafeEqual`: equal-length inputs,
 * and no timing signal about how much of the token matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError, UnauthorizedError } from '../../errors.ts';

export type AdminGuard = (request: FastifyRequest) => Promise<void>;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
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
    const header = request.headers.authorization;
    const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) {
      throw new UnauthorizedError('missing bearer token: send Authorization: Bearer <ADMIN_TOKEN>');
    }
    if (!timingSafeEqual(digest(match[1]), expected)) {
      throw new UnauthorizedError('invalid bearer token', 'INVALID_TOKEN');
    }
  };
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { token: string }) => {
    app.decorate('requireAdmin', createAdminGuard(opts.token));
  },
  { name: 'auth' },
);
