/** Catalog records → the JSON shapes of `schemas.ts`. */
import type { Static } from 'typebox';
import type { CatalogItem } from '../catalog/store.ts';
import type { SearchHit } from '../index/vectorIndex.ts';
import type { Item, Neighbour } from './schemas.ts';

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

/**
 * Joins hits with their items, in hit order. Hits whose item has vanished
 * (deleted between search and lookup) are skipped, as are `exclude`d labels.
 */
export function presentHits(
  hits: readonly SearchHit[],
  items: Map<number, CatalogItem>,
  k: number,
  exclude?: ReadonlySet<number>,
): Static<typeof Neighbour>[] {
  const out: Static<typeof Neighbour>[] = [];
  for (const hit of hits) {
    if (out.length === k) break;
    if (exclude?.has(hit.label)) continue;
    const item = items.get(hit.label);
    if (!item) continue;
    out.push({
      id: item.id,
      title: item.title,
      category: item.category,
      distance: hit.distance,
      image_url: imageUrl(item.id),
    });
  }
  return out;
}
