/** Liveness, readiness and Prometheus metrics. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Ready } from '../schemas.ts';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness: the process is up and serving HTTP',
        tags: ['health'],
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: model and index are loaded (503 until then)',
        tags: ['health'],
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_request, reply) => {
      const set = app.serving.current;
      if (!set) {
        return reply.status(503).send({
          status: 'not_ready',
          model: null,
          index_size: null,
          reason: app.serving.phase,
        });
      }
      return { status: 'ready' as const, model: set.modelVersion, index_size: set.index.size };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['health'],
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text format' } },
      },
    },
    async (_request, reply) => {
      const text = await app.metrics.registry.metrics();
      return reply.header('content-type', app.metrics.registry.contentType).send(text);
    },
  );
};
