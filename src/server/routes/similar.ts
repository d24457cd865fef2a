/** POST /similar: the catalog items that look most like an uploaded photo. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { encodePng28 } from '../../data/preprocess.ts';
import { readImageUpload } from '../imageInput.ts';
import { presentResults } from '../present.ts';
import { errors, ImageBodyDoc, SimilarQuery, SimilarResponse } from '../schemas.ts';
import { searchRequest } from '../searchRequest.ts';

export const similarRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/similar',
    {
      schema: {
        summary: 'Find the catalog items most similar to an image',
        description:
          'Upload a PNG, JPEG or WebP image (raw body or multipart field `image`). Photos of a dark garment on a light background are inverted, trimmed and fitted to 28x28 as in Fashion-MNIST. Images larger than BODY_LIMIT_BYTES or IMAGE_MAX_PIXELS are refused (413) before decoding.',
        tags: ['search'],
        querystring: SimilarQuery,
        response: { 200: SimilarResponse, ...errors(400, 413, 415, 422, 503) },
      },
      config: { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: ImageBodyDoc }, url }) },
    },
    async (request) => {
      const startedAt = performance.now();
      const search = searchRequest(app.catalog, request.query);
      app.serving.require();
      const { bytes } = readImageUpload(request, { maxBytes: app.config.BODY_LIMIT_BYTES });
      const result = await app.imageWork.run(1, () => app.similar.similarToImage(bytes, search));
      const response = presentResults(result, startedAt);
      if (request.query.include !== 'query') return response;
      const { pixels, vector, set } = result.query;
      const png = await encodePng28(Uint8Array.from(pixels, (v) => Math.round(v * 255)));
      return {
        ...response,
        query: { image: `data:image/png;base64,${png.toString('base64')}`, map: app.maps.place(set, vector) },
      };
    },
  );
};
