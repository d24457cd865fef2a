/**
 * Filtered search that stays correct at every selectivity (the planner):
 * - no filter: the index's graph;
 * - a filter (on category, attributes or both): its matching labels are
 *   computed over the resident catalog (cached per filter until the catalog
 *   changes), then
 *   - few matches (≤ EXACT_SCAN_MAX_MATCHES): an exact scan of their vectors,
 *     always exact, always k results when k items match;
 *   - many: HNSW with a filter callback, which stays accurate while a good
 *     share of the visited nodes pass and costs less than scanning them all.
 * `npm run bench:index -- --filters` measures both against exact filtered
 * search at 50 %, 10 %, 1 % and 0.1 % selectivity.
 */
import { scanNearest } from '../index/exactScan.ts';
import type { SearchHit } from '../index/vectorIndex.ts';
import { compileFilter, type Filter, filterCategories, filterToJson } from '../search/filter.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { ServingSet } from './servedSet.ts';

/**
 * Filters matching at most this many items are answered by an exact scan.
 * `npm run bench:index -- --filters` (70,000 items, single-thread q/s per CPU
 * second, 3 runs on the shared 2-core machine): the scan's q/s falls as
 * 1/matches; the filter callback (recall@10 >= 0.996 at the default ef; a
 * larger ef is only slower) overtakes it at 4,300-4,450 matches for attributes
 * independent of the picture (brand, colour, in_stock), but only at
 * 12,300-12,900 for price ranges, which follow the category (at 10,200 price
 * matches it ran at 0.54-0.76x the scan, at 7,500 at 0.35-0.42x, slower than
 * exact filtered search). The threshold takes the latter; independent filters
 * of 4,400-12,000 matches pay for it (at 7,500: 0.25-0.38x the callback's q/s,
 * still 1.1-1.5x exact search). The crossover grows with the catalog size.
 */
export const EXACT_SCAN_MAX_MATCHES = 12_000;
/** Distinct filters whose matches are kept (least recently used dropped first). */
const MATCH_CACHE_SIZE = 64;

export interface FilterPlan {
  /** The labels the filter matches, ascending; undefined without a filter. */
  matches?: Int32Array;
  /** Membership of `matches`, for the index's filter callback. */
  allow?: (label: number) => boolean;
  /** Nothing can match (contradictory conditions). */
  none: boolean;
}

interface Matches {
  version: number;
  labels: Int32Array;
  member: Uint8Array;
}

export class FilterPlanner {
  readonly #items: ResidentCatalog;
  readonly #cache = new Map<string, Matches>();

  constructor(items: ResidentCatalog) {
    this.#items = items;
  }

  plan(filter: Filter | undefined): FilterPlan {
    if (!filter || Object.keys(filter).length === 0) return { none: false };
    if (filterCategories(filter)?.length === 0) return { none: true };
    const matches = this.#matches(filter);
    const member = matches.member;
    return {
      matches: matches.labels,
      allow: (label) => member[label] === 1,
      none: matches.labels.length === 0,
    };
  }

  #matches(filter: Filter): Matches {
    const key = JSON.stringify(filterToJson(filter));
    const cached = this.#cache.get(key);
    if (cached && cached.version === this.#items.version) {
      // Re-inserted: the Map's order is the recency order.
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const predicate = compileFilter(filter);
    const all = this.#items.labels();
    const member = new Uint8Array((all.at(-1) ?? 0) + 1);
    const labels: number[] = [];
    for (const label of all) {
      if (predicate(this.#items.filterable(label)!)) {
        labels.push(label);
        member[label] = 1;
      }
    }
    const matches = { version: this.#items.version, labels: Int32Array.from(labels), member };
    this.#cache.delete(key);
    this.#cache.set(key, matches);
    if (this.#cache.size > MATCH_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return matches;
  }
}

/** How many items a search under `plan` can return at most. */
export function available(set: ServingSet, plan: FilterPlan): number {
  return plan.matches?.length ?? set.index.size;
}

/**
 * The `n` nearest candidates under `plan`, nearest first. `exactScanMax`
 * (default EXACT_SCAN_MAX_MATCHES) is for tests and benchmarks of either path.
 */
export function searchCandidates(
  set: ServingSet,
  vector: Float32Array,
  n: number,
  plan: FilterPlan,
  exactScanMax = EXACT_SCAN_MAX_MATCHES,
): SearchHit[] {
  if (plan.none) return [];
  const k = Math.max(1, Math.min(n, available(set, plan)));
  if (plan.matches && plan.matches.length <= exactScanMax) {
    return scanNearest(set.vectors, plan.matches, vector, k);
  }
  const hits = set.index.search(vector, k, { allow: plan.allow });
  // A graph walk under a filter can come back short; the exact scan cannot.
  if (plan.matches && hits.length < k) return scanNearest(set.vectors, plan.matches, vector, k);
  return hits;
}
