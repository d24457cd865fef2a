/**
 * Recommendations from catalog items: "more like this item" and "like these,
 * unlike those". Both search with a query vector built from the items' stored
 * embeddings, so they cost no model call.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CatalogItem } from '../../catalog/store.ts';
import { NotFoundError, UnsupportedMediaTypeError } from '../../errors.ts';
import { preprocessUpload } from '../imageInput.ts';
import {
  DEFAULT_K,
  errors,
  ItemParams,
  RecommendationsBody,
  SearchQuery,
  SearchResponse,
} from '../schemas.ts';
import { searchVector } from '../search.ts';
import type { ServingSet } from '../serving.ts';
import { itemNotFound } from './items.ts';

/** How far the query moves away from the negatives, relative to the positives' centroid. */
export const NEGATIVE_WEIGHT = 0.5;

/**
 * The query of POST /recommendations: q = p + w·(p − n), where p and n are the
 * centroids of the positive and negative embeddings and w = NEGATIVE_WEIGHT
 * (q = p without negatives). Moving from the positives' centroid directly away
 * from the negatives' keeps the query near the positives, whatever the scale
 * of the embedding space.
 */
export function recommendationQuery(
  positives: readonly Float32Array[],
  negatives: readonly Float32Array[],
  weight = NEGATIVE_WEIGHT,
): Float32Array {
  const dim = positives[0].length;
  const centroid = (vs: readonly Float32Array[]) => {
    const c = new Float64Array(dim);
    for (const v of vs) for (let j = 0; j < dim; j++) c[j] += v[j] / vs.length;
    return c;
  };
  const p = centroid(positives);
  const q = new Float32Array(dim);
  if (negatives.length === 0) {
    q.set(p);
    return q;
  }
  const n = centroid(negatives);
  for (let j = 0; j < dim; j++) q[j] = p[j] + weight * (p[j] - n[j]);
  return q;
}

export const recommendationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** The item's stored embedding for the served model; embeds its stored image if it has none yet. */
  async function itemVector(set: ServingSet, item: CatalogItem): Promise<Float32Array> {
    const cached = set.vectors.get(item.label);
    if (cached) return cached;
    let vector = app.store.getEmbedding(set.modelVersion, item.label);
    if (!vector) {
      const png = app.store.getImage(item.id);
      if (!png) throw itemNotFound(item.id);
      vector = await set.queue.embed(await preprocessUpload(png, app.imageLimits));
    }
    set.vectors.set(item.label, vector);
    return vector;
  }

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
      const categories = app.categories.parse(request.query.category);
      const set = app.serving.require();
      const item = app.items.get(request.params.id);
      if (!item) throw itemNotFound(request.params.id);
      const vector = await itemVector(set, item);
      return searchVector(
        app,
        set,
        vector,
        { k: request.query.k ?? DEFAULT_K, categories, exclude: new Set([item.label]) },
        startedAt,
      );
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
      const categories = app.categories.parse(category);
      const set = app.serving.require();
      const ids = [...new Set([...positive, ...negative])];
      const items = new Map<string, CatalogItem>();
      const missing: string[] = [];
      for (const id of ids) {
        const item = app.items.get(id);
        if (item) items.set(id, item);
        else missing.push(id);
      }
      if (missing.length > 0) {
        throw new NotFoundError(
          `no item with id ${missing.map((id) => `'${id}'`).join(', ')}`,
          'ITEM_NOT_FOUND',
        );
      }
      const vectors = async (list: string[]) =>
        Promise.all(list.map((id) => itemVector(set, items.get(id)!)));
      const query = recommendationQuery(await vectors(positive), await vectors(negative));
      const exclude = new Set([...items.values()].map((item) => item.label));
      return searchVector(app, set, query, { k, categories, exclude }, startedAt);
    },
  );
};
