/**
 * The query path shared by /similar and the recommendation routes: embed (via
 * the micro-batch queue), search, join with the catalog. Takes the serving set
 * once, right before embedding, so a concurrent model swap never mixes one
 * model's query vector with another model's index.
 */
import type { Static } from 'typebox';
import type { SearchHit } from '../index/vectorIndex.ts';
import type { ItemCache } from './itemCache.ts';
import type { Metrics } from './plugins/metrics.ts';
import { presentHits } from './present.ts';
import type { SearchResponse } from './schemas.ts';
import type { Serving, ServingSet } from './serving.ts';

export interface SearchDeps {
  serving: Serving;
  items: ItemCache;
  metrics: Metrics;
}

export interface SearchRequest {
  k: number;
  categories?: string[];
  /** Labels never returned (the query items themselves). */
  exclude?: ReadonlySet<number>;
}

/** Embeds one preprocessed image with the served model; returns the set used, so search uses its index. */
export async function embedQuery(
  deps: SearchDeps,
  pixels: Float32Array,
): Promise<{ set: ServingSet; vector: Float32Array }> {
  const set = deps.serving.require();
  const vector = await set.queue.embed(pixels);
  return { set, vector };
}

export function searchVector(
  deps: SearchDeps,
  set: ServingSet,
  vector: Float32Array,
  request: SearchRequest,
  startedAt: number,
): Static<typeof SearchResponse> {
  const excluded = request.exclude?.size ?? 0;
  const wanted = Math.min(request.k + excluded, Math.max(1, set.index.size));
  const t0 = performance.now();
  const hits: SearchHit[] = set.index.search(vector, wanted, { categories: request.categories });
  deps.metrics.searchDuration.observe((performance.now() - t0) / 1000);
  const items = deps.items.byLabels(hits.map((h) => h.label));
  return {
    model: set.modelVersion,
    results: presentHits(hits, items, request.k, request.exclude),
    took_ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
  };
}
