/** A search route's parameters (query string or JSON body, snake_case) → the serving layer's request. */
import { ValidationError } from '../errors.ts';

import type { CatalogService } from '../serving/catalogService.ts';
import type { SearchRequest } from '../serving/search.ts';
import { DEFAULT_K, MAX_FILTER_LENGTH } from './schemas.ts';

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
  if (params.filter !== undefined && typeof params.filter !== 'string') {
    const length = JSON.stringify(params.filter).length;
    if (length > MAX_FILTER_LENGTH) {
      throw new ValidationError(
        `filter is ${length} characters of JSON; at most ${MAX_FILTER_LENGTH}`,
        'INVALID_FILTER',
      );
    }
  }
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
