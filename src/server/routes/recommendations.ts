/**
 * Recommendations from catalog items: "more like this item" and "like these,
 * unlike those". Both search with a query vector built from the items' stored
 * embeddings, so they cost no model call.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NEGATIVE_WEIGHT } from '../../serving/recommendationQuery.ts';
import { requireJson } from '../imageInput.ts';
import { presentResults } from '../present.ts';
import { errors, ItemParams, RecommendationsBody, SearchQuery, SearchResponse } from '../schemas.ts';
import { searchRequest } from '../searchRequest.ts';

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
      const search = searchRequest(app.catalog, request.query);
      return presentResults(await app.similar.similarToItem(request.params.id, search), startedAt);
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
      preValidation: requireJson,
    },
    async (request) => {
      const startedAt = performance.now();
      const { positive, negative = [], strategy, ignore_missing: ignoreMissing } = request.body;
      const search = { ...searchRequest(app.catalog, request.body), strategy, ignoreMissing };
      return presentResults(await app.similar.recommend(positive, negative, search), startedAt);
    },
  );
};
