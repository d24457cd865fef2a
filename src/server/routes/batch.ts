/** Batch queries: several /similar or /recommendations queries in one request, embedded in one model call. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UnsupportedMediaTypeError } from '../../errors.ts';
import type { SearchResult } from '../../serving/search.ts';
import { decodeBase64Images, isMultipart, readImageUploads, requireJson } from '../imageInput.ts';
import { presentResults } from '../present.ts';
import {
  BatchResponse,
  errors,
  MAX_BATCH,
  RecommendationsBatchBody,
  SearchQuery,
  SimilarBatchBodyDoc,
  SimilarBatchJson,
} from '../schemas.ts';
import { checkCost, searchRequest } from '../searchRequest.ts';
import { checkSchema } from '../validate.ts';

function presentBatch(results: SearchResult[], model: string, startedAt: number) {
  const queries = results.map((r) => {
    const { results: items, missing } = presentResults(r, startedAt);
    return missing ? { results: items, missing } : { results: items };
  });
  return { model, queries, took_ms: Math.round((performance.now() - startedAt) * 1000) / 1000 };
}

export const batchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/similar/batch',
    {
      schema: {
        summary: `Similar items for up to ${MAX_BATCH} images at once (the parameters apply to every image)`,
        tags: ['search'],
        querystring: SearchQuery,
        response: { 200: BatchResponse, ...errors(400, 413, 415, 422, 503) },
      },
      config: {
        swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: SimilarBatchBodyDoc }, url }),
      },
    },
    async (request) => {
      const startedAt = performance.now();
      const search = searchRequest(app.catalog, request.query);
      const set = app.serving.require();
      let images: Buffer[];
      if (isMultipart(request)) {
        images = readImageUploads(request, { maxBytes: app.config.BODY_LIMIT_BYTES }, MAX_BATCH);
      } else if (/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
        images = decodeBase64Images(checkSchema(SimilarBatchJson, request.body, 'body').images);
      } else {
        throw new UnsupportedMediaTypeError(
          'send the images as multipart/form-data `image` files or as JSON {"images": [base64, ...]}',
        );
      }
      checkCost([request.query], images.length);
      const results = await app.imageWork.run(images.length, () =>
        app.similar.similarToImages(images, search),
      );
      return presentBatch(results, results[0]?.model ?? set.modelVersion, startedAt);
    },
  );

  app.post(
    '/recommendations/batch',
    {
      schema: {
        summary: `Up to ${MAX_BATCH} POST /recommendations queries at once`,
        tags: ['search'],
        body: RecommendationsBatchBody,
        response: { 200: BatchResponse, ...errors(400, 404, 415, 503) },
      },
      preValidation: requireJson,
    },
    async (request) => {
      const startedAt = performance.now();
      const set = app.serving.require();
      checkCost(request.body.queries);
      const results = await Promise.all(
        request.body.queries.map((q) =>
          app.similar.recommend(q.positive, q.negative ?? [], {
            ...searchRequest(app.catalog, q),
            strategy: q.strategy,
            ignoreMissing: q.ignore_missing,
          }),
        ),
      );
      return presentBatch(results, set.modelVersion, startedAt);
    },
  );
};
