/** What the service serves, and a map of its embedding space: the web page's status panel and map. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { servingStatus } from '../../serving/status.ts';
import { presentStatus } from '../present.ts';
import { EmbeddingMapResponse, errors, Status } from '../schemas.ts';

export const statusRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/status',
    {
      schema: {
        summary:
          'The served model with its evaluation figures, the catalog, the index and the latest rebuild',
        tags: ['health'],
        response: { 200: Status },
      },
    },
    async () => presentStatus(await servingStatus(app.serving, app.store, app.items, app.jobs)),
  );

  app.get(
    '/map',
    {
      schema: {
        summary: 'A 2-D map (UMAP) of a sample of the served embeddings',
        description:
          'Computed once per served index in the background after the first request (seconds); until then 503 `MAP_NOT_READY` with Retry-After.',
        tags: ['search'],
        response: { 200: EmbeddingMapResponse, ...errors(503) },
      },
    },
    async (_request, reply) => {
      const map = app.maps.get(app.serving.require());
      reply.header('cache-control', 'public, max-age=60');
      const points = [];
      for (let i = 0; i < map.labels.length; i++) {
        const item = app.items.summary(map.labels[i]);
        if (item)
          points.push({
            id: item.id,
            category: item.category,
            x: map.coords[2 * i],
            y: map.coords[2 * i + 1],
          });
      }
      return { model: map.modelVersion, build_id: map.buildId, points };
    },
  );
};
