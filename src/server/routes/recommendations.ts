/**
 * Recommendations from catalog items: "more like this item" and "like these,
 * unlike those". Both search with a query vector built from the items' stored
 * embeddings, so they cost no model call.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UnsupportedMediaTypeError } from '../../errors.ts';
import { NEGATIVE_WEIGHT } from '../../serving/recommendationQuery.ts';
import { presentResults } from '../present.ts';
import {
  DEFAULT_K,
  errors,
  ItemParams,
  RecommendationsBody,
  SearchQuery,
  SearchResponse,
} from '../schemas.ts';

export const recommendationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/items/:id/recommendations',
    {
      schema: {
        summary: 'The k catalog items most similar to an item (never the item itself)',
        tags: ['search'],
        params: ItemParams,
        querystring: SearchQuery,
        response: { 200: SearchResponse, ...errors(400, 404, 503) },
      },
    },
    async (request) => {
      const startedAt = performance.now();
      const categories = app.catalog.parseCategories(request.query.category);
      const k = request.query.k ?? DEFAULT_K;
      return presentResults(await app.similar.similarToItem(request.params.id, { k, categories }), startedAt);
    },
  );

  app.post(
    '/recommendations',
    {
      schema: {
        summary: 'Items like the positive examples and unlike the negative ones',
        description: `The query vector is q = p + ${NEGATIVE_WEIGHT}·(p − n), with p and n the centroids of the positive and negative items' embeddings (q = p without negatives): it starts at what the positives share and moves directly away from the negatives. Results are the k items nearest to q; the input items are never returned. \`distance\` is the distance to q.`,
        tags: ['search'],
        body: RecommendationsBody,
        response: { 200: SearchResponse, ...errors(400, 404, 415, 503) },
      },
      // Fastify also parses text/plain; this route takes JSON only.
      preValidation: async (request) => {
        if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
          throw new UnsupportedMediaTypeError('send the body as application/json');
        }
      },
    },
    async (request) => {
      const startedAt = performance.now();
      const { positive, negative = [], k = DEFAULT_K, category } = request.body;
      const categories = app.catalog.parseCategories(category);
      return presentResults(await app.similar.recommend(positive, negative, { k, categories }), startedAt);
    },
  );
};
