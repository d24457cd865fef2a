/** The public catalog: listing, one item, its image. */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { presentItem } from '../present.ts';
import { ErrorBody, errors, Item, ItemPage, ItemParams, ListItemsQuery } from '../schemas.ts';

export const itemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/items',
    {
      schema: {
        summary: 'List catalog items, oldest first, with a stable cursor',
        tags: ['items'],
        querystring: ListItemsQuery,
        response: { 200: ItemPage, ...errors(400) },
      },
    },
    async (request) => {
      const { category, filter, limit, cursor } = request.query;
      const page = app.catalog.list({ filter: app.catalog.resolveFilter(filter, category), limit, cursor });
      return { items: page.items.map(presentItem), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/items/:id',
    {
      schema: {
        summary: 'One catalog item',
        tags: ['items'],
        params: ItemParams,
        response: { 200: Item, ...errors(400, 404) },
      },
    },
    async (request) => presentItem(app.catalog.get(request.params.id)),
  );

  app.get(
    '/items/:id/image',
    {
      schema: {
        summary: "The item's 28x28 grayscale PNG (what the model sees)",
        tags: ['items'],
        params: ItemParams,
        produces: ['image/png'],
        response: {
          200: { type: 'string', format: 'binary', description: 'PNG image' },
          304: { type: 'null', description: 'Not modified (If-None-Match matched the ETag)' },
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const png = await app.catalog.image(request.params.id);
      const etag = `"${createHash('sha1').update(png).digest('base64url')}"`;
      reply.header('etag', etag).header('cache-control', 'public, max-age=3600, must-revalidate');
      if (request.headers['if-none-match'] === etag) return reply.status(304).send(null);
      // A Buffer bypasses response serialization: the 200 schema above only documents the route.
      return reply.type('image/png').send(Buffer.from(png.buffer, png.byteOffset, png.byteLength) as never);
    },
  );
};
