/** A search route's parameters (query string or JSON body, snake_case) → the serving layer's request. */

import type { CatalogService } from '../serving/catalogService.ts';
import type { SearchRequest } from '../serving/search.ts';
import { DEFAULT_K } from './schemas.ts';

export interface SearchParams {
  k?: number;
  category?: string[] | string;
  /** JSON text (query string) or an object (JSON body). */
  filter?: unknown;
  offset?: number;
  max_distance?: number;
  diversity?: number;
  group_by?: string;
  group_size?: number;
}

export function searchRequest(catalog: CatalogService, params: SearchParams): SearchRequest {
  return {
    k: params.k ?? DEFAULT_K,
    filter: catalog.resolveFilter(params.filter, params.category),
    offset: params.offset,
    maxDistance: params.max_distance,
    diversity: params.diversity,
    groupBy: params.group_by,
    groupSize: params.group_size,
  };
}
