/** A search route's parameters (query string or JSON body, snake_case) → the serving layer's request. */
import { ValidationError } from '../errors.ts';
import { diversityPoolSize, MAX_CANDIDATES } from '../search/resultControls.ts';
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

/** Deepest filter object a JSON body may hold (the filter language needs three levels). */
export const MAX_FILTER_DEPTH = 16;

/**
 * Refuses a JSON-body filter past MAX_FILTER_LENGTH characters of JSON or
 * MAX_FILTER_DEPTH levels, walking it with an explicit stack (a recursive
 * walk, or JSON.stringify, would overflow the call stack on a deep one).
 */
export function checkFilterSize(filter: unknown): void {
  const stack: [unknown, number][] = [[filter, 1]];
  let size = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > MAX_FILTER_DEPTH) {
      throw new ValidationError(`filter is nested deeper than ${MAX_FILTER_DEPTH} levels`, 'INVALID_FILTER');
    }
    if (value !== null && typeof value === 'object') {
      size += 2;
      for (const [key, child] of Object.entries(value)) {
        size += key.length + 4;
        stack.push([child, depth + 1]);
      }
    } else {
      size += typeof value === 'string' ? value.length + 2 : String(value).length;
    }
    if (size > MAX_FILTER_LENGTH) {
      throw new ValidationError(
        `filter is longer than ${MAX_FILTER_LENGTH} characters of JSON`,
        'INVALID_FILTER',
      );
    }
  }
}

/** The serving layer's request; refuses oversized filters and a query past MAX_QUERY_COST (batches: see checkCost). */
export function searchRequest(catalog: CatalogService, params: CostParams): SearchRequest {
  if (params.filter !== undefined && typeof params.filter !== 'string') checkFilterSize(params.filter);
  checkCost([params]);
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

/**
 * Query cost: a request's work is synchronous on the event loop once its
 * vector is known, so the expensive combinations of otherwise bounded
 * parameters are refused up front instead of stalling every other request.
 * The unit is one 64-d distance in a best_score ranking; fetching a candidate
 * from the HNSW graph counts SEARCH_WEIGHT units, one MMR comparison
 * MMR_WEIGHT. Measured on 2 cores a unit is 0.1-0.25 µs: MAX_QUERY_COST is
 * at most about 0.1 s of work (before these limits, best_score with 100
 * positives and 100 negatives at offset + k = 1000 took 2.2 s, diversity at
 * offset + k = 1000 0.7 s, a batch of 32 of the former 76 s).
 */
export const MAX_QUERY_COST = 500_000;
/** Cost of a whole request (a batch sums its queries). */
export const MAX_REQUEST_COST = 1_000_000;
const SEARCH_WEIGHT = 20;
const MMR_WEIGHT = 3;

export interface CostParams extends SearchParams {
  positive?: readonly string[];
  negative?: readonly string[];
  strategy?: string;
}

/** Estimated work of one query, in units of MAX_QUERY_COST. */
export function queryCost(params: CostParams): number {
  const end = (params.offset ?? 0) + (params.k ?? DEFAULT_K);
  const diverse = (params.diversity ?? 0) > 0;
  const quota = diverse ? diversityPoolSize(end) : end;
  const positives = new Set(params.positive ?? []).size;
  const examples = positives + new Set(params.negative ?? []).size;
  // Every search also fetches the excluded examples; with group_by the candidate list may grow to
  // MAX_CANDIDATES when the groups are few.
  const fetched = (params.group_by === undefined ? quota : MAX_CANDIDATES) + examples;
  const mmr = diverse ? quota * end * MMR_WEIGHT : 0;
  if (params.strategy !== 'best_score') return fetched * SEARCH_WEIGHT + mmr;
  // One search per positive; every candidate is compared with every example.
  return positives * fetched * (SEARCH_WEIGHT + examples) + mmr;
}

function tooExpensive(cost: number, limit: number, what: string): ValidationError {
  return new ValidationError(
    `${what} would cost about ${Math.round(cost).toLocaleString('en')} distance computations; at most ${limit.toLocaleString('en')}: ask for fewer results (offset + k), fewer examples, no diversity or no group_by with best_score, or split the batch`,
    'QUERY_TOO_EXPENSIVE',
  );
}

/**
 * Refuses a request whose queries cost more than MAX_QUERY_COST each or
 * MAX_REQUEST_COST together (400 QUERY_TOO_EXPENSIVE). `repeat`: how many
 * times the one query runs (the images of /similar/batch).
 */
export function checkCost(queries: readonly CostParams[], repeat = 1): void {
  let total = 0;
  for (const query of queries) {
    const cost = queryCost(query);
    if (cost > MAX_QUERY_COST) throw tooExpensive(cost, MAX_QUERY_COST, 'this query');
    total += cost * repeat;
  }
  if (total > MAX_REQUEST_COST) throw tooExpensive(total, MAX_REQUEST_COST, 'this request');
}
