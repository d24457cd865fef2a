/** Catalog records and search results → the JSON shapes of `schemas.ts`. */
import type { Static } from 'typebox';
import type { CatalogItem } from '../catalog/store.ts';
import type { SearchResult } from '../serving/search.ts';
import type { Item, SearchResponse } from './schemas.ts';

export function imageUrl(id: string): string {
  return `/items/${encodeURIComponent(id)}/image`;
}

export function presentItem(item: CatalogItem): Static<typeof Item> {
  return {
    id: item.id,
    title: item.title,
    category: item.category,
    source: item.source,
    split: item.split,
    image_url: imageUrl(item.id),
    created_at: item.createdAt,
    updated_at: item.updatedAt,
  };
}

/** `startedAt` is the request's `performance.now()` at arrival, for `took_ms`. */
export function presentResults(result: SearchResult, startedAt: number): Static<typeof SearchResponse> {
  return {
    model: result.model,
    results: result.results.map((r) => ({
      id: r.id,
      title: r.title,
      category: r.category,
      distance: r.distance,
      image_url: imageUrl(r.id),
    })),
    took_ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
  };
}
