/** The validated configuration and the image limits derived from it, as app decorators. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config/env.ts';

export const configPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    app.decorate('config', opts.config);
    app.decorate('imageLimits', {
      maxBytes: opts.config.BODY_LIMIT_BYTES,
      maxPixels: opts.config.IMAGE_MAX_PIXELS,
    });
  },
  { name: 'config' },
);
