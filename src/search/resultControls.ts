/**
 * Result controls of the search endpoints, applied to the index's candidates
 * (nearest first) in this order:
 *
 *   1. exclude    drop the query's own items
 *   2. threshold  `max_distance`: keep distance ≤ max_distance (fewer than k results then)
 *   3. group      `group_by` + `group_size`: walking nearest first, keep an item
 *                 only while its group has fewer than group_size kept items.
 *                 The group is the value of the attribute (or `category`);
 *                 values of different types never share a group ("1" ≠ 1).
 *                 An item whose value is an array belongs to the group of each
 *                 element and is kept only if every one of them has room.
 *                 An item LACKING the attribute (or holding []) forms its own
 *                 group: it is never dropped by grouping.
 *   4. diversity  MMR (mmr.ts) over the first `diversityPoolSize(offset + k)`
 *                 grouped candidates, selecting offset + k of them
 *   5. page       `offset`, `k`: results offset+1 .. offset+k of the list so far
 *
 * Paging: steps 1-3 keep the index's order and decide each item from the
 * items before it, so for a fixed query `offset=10&k=10` is exactly the 11th
 * to 20th result of `k=20`, and consecutive pages neither repeat nor skip.
 * With diversity the MMR pool depends on offset + k only through
 * `diversityPoolSize` (256 candidates per started 128 results), so pages are
 * consistent while offset + k stays in the same block of 128 (always for the
 * first 128 results) and `offset=o&k=n` always equals results o+1..o+n of
 * `k=o+n`.
 */
import { ValidationError } from '../errors.ts';
import type { SearchHit, Vector } from '../index/vectorIndex.ts';
import { type AttributeValue, attributeKeyProblem, attributeOf } from './attributes.ts';
import { CATEGORY_FIELD, type FilterableItem } from './filter.ts';
import { checkDiversity, mmr } from './mmr.ts';

export interface ResultControls {
  /** Results per page, ≥ 1. */
  k: number;
  /** Results skipped before the page, ≥ 0 (default 0). */
  offset?: number;
  /** Largest distance returned (inclusive), ≥ 0. */
  maxDistance?: number;
  /** Attribute name (or `category`) whose values limit results per value. */
  groupBy?: string;
  /** Most results per group value, ≥ 1 (default 1); needs `groupBy`. */
  groupSize?: number;
  /** MMR λ in [0, 1] (default 0: plain ranking). */
  diversity?: number;
}

/** How the controls read a candidate: its group value and (for diversity) its embedding. */
export interface ControlAccess<T> {
  groupValue?: (hit: T, field: string) => AttributeValue | undefined;
  vector?: (hit: T) => Vector;
}

export interface ControlledResults<T> {
  hits: T[];
  /**
   * True when the controls used up every candidate without filling their
   * quota (offset + k results, or the diversity pool) and max_distance cut
   * none of them: more candidates from the index could change the result.
   * The caller fetches `nextCandidateCount` and runs the controls again,
   * unless the index already returned fewer candidates than asked.
   */
  shortOfCandidates: boolean;
}

export const DEFAULT_GROUP_SIZE = 1;
/** MMR pool: this many candidates per started block of DIVERSITY_BLOCK results. */
export const DIVERSITY_POOL_PER_BLOCK = 256;
export const DIVERSITY_BLOCK = 128;
/** Candidates fetched per wanted result with group_by is max(2, ceil(GROUP_OVERFETCH / group_size)). */
export const GROUP_OVERFETCH = 8;
/** Most candidates one query fetches from the index, retries included. */
export const MAX_CANDIDATES = 8192;

function invalid(message: string): ValidationError {
  return new ValidationError(message, 'INVALID_RESULT_CONTROLS');
}

/**
 * Validates controls (messages use the API's parameter names) and fills the
 * defaults. Throws `ValidationError` code `INVALID_RESULT_CONTROLS`, or
 * `INVALID_DIVERSITY` for diversity.
 */
export function checkResultControls(
  c: ResultControls,
): Required<Omit<ResultControls, 'maxDistance' | 'groupBy'>> &
  Pick<ResultControls, 'maxDistance' | 'groupBy'> {
  if (!Number.isInteger(c.k) || c.k < 1) throw invalid('k must be an integer ≥ 1');
  const offset = c.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw invalid('offset must be an integer ≥ 0');
  if (c.maxDistance !== undefined && !(Number.isFinite(c.maxDistance) && c.maxDistance >= 0)) {
    throw invalid('max_distance must be a finite number ≥ 0');
  }
  if (c.groupBy !== undefined && c.groupBy !== CATEGORY_FIELD) {
    const problem = attributeKeyProblem(c.groupBy);
    if (problem) throw invalid(`group_by: ${problem}`);
  }
  if (c.groupSize !== undefined) {
    if (c.groupBy === undefined) throw invalid('group_size needs group_by');
    if (!Number.isInteger(c.groupSize) || c.groupSize < 1) throw invalid('group_size must be an integer ≥ 1');
  }
  const diversity = checkDiversity(c.diversity ?? 0);
  return {
    k: c.k,
    offset,
    maxDistance: c.maxDistance,
    groupBy: c.groupBy,
    groupSize: c.groupSize ?? DEFAULT_GROUP_SIZE,
    diversity,
  };
}

/** The group value of a catalog item: its category for `category`, else the attribute (own keys only). */
export function groupValueOf(item: FilterableItem, field: string): AttributeValue | undefined {
  return field === CATEGORY_FIELD ? item.category : attributeOf(item.attributes, field);
}

/** Hits with distance ≤ maxDistance (all of them when undefined), order kept. */
export function withinDistance<T extends SearchHit>(hits: readonly T[], maxDistance?: number): T[] {
  return maxDistance === undefined ? [...hits] : hits.filter((h) => h.distance <= maxDistance);
}

function groupKeys(value: AttributeValue | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return [...new Set(value)].map((v) => `string:${v}`);
  return [`${typeof value}:${value}`];
}

/** Step 3 (see the module comment): at most groupSize hits per group value, order kept. */
export function limitGroups<T>(
  hits: readonly T[],
  groupSize: number,
  groupValue: (hit: T) => AttributeValue | undefined,
): T[] {
  const counts = new Map<string, number>();
  const out: T[] = [];
  for (const hit of hits) {
    const keys = groupKeys(groupValue(hit));
    if (keys.some((key) => (counts.get(key) ?? 0) >= groupSize)) continue;
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
    out.push(hit);
  }
  return out;
}

/** Results offset+1 .. offset+k. */
export function page<T>(hits: readonly T[], offset: number, k: number): T[] {
  return hits.slice(offset, offset + k);
}

/** Size of the MMR candidate pool for `end` = offset + k results: 256 per started block of 128. */
export function diversityPoolSize(end: number): number {
  return DIVERSITY_POOL_PER_BLOCK * Math.max(1, Math.ceil(end / DIVERSITY_BLOCK));
}

/** How many results the grouped list must hold for the controls to be satisfied. */
function quota(c: ResultControls): number {
  const end = (c.offset ?? 0) + c.k;
  return c.diversity ? diversityPoolSize(end) : end;
}

/**
 * How many candidates to ask the index for: offset + k (or the diversity pool),
 * times max(2, ceil(8 / group_size)) with group_by, plus the excluded items,
 * at most `available` (the index size or the filter's match count) and
 * MAX_CANDIDATES. Depends on offset and k only through offset + k.
 */
export function candidateCount(
  controls: ResultControls,
  opts: { exclude?: number; available?: number } = {},
): number {
  let n = quota(controls);
  if (controls.groupBy !== undefined) {
    n *= Math.max(2, Math.ceil(GROUP_OVERFETCH / (controls.groupSize ?? DEFAULT_GROUP_SIZE)));
  }
  n += opts.exclude ?? 0;
  return Math.max(1, Math.min(n, opts.available ?? Number.POSITIVE_INFINITY, MAX_CANDIDATES));
}

/**
 * The next, larger candidate count after `asked` fell short (four times as
 * many, capped by `available` and MAX_CANDIDATES), or undefined when no more
 * can be fetched.
 */
export function nextCandidateCount(asked: number, available = Number.POSITIVE_INFINITY): number | undefined {
  const next = Math.min(asked * 4, available, MAX_CANDIDATES);
  return next > asked ? next : undefined;
}

/**
 * Steps 1-5 of the module comment over the index's candidates (nearest first).
 * `access.groupValue` is required with group_by, `access.vector` with diversity.
 */
export function applyResultControls<T extends SearchHit>(
  candidates: readonly T[],
  controls: ResultControls,
  access: ControlAccess<T> = {},
  exclude?: ReadonlySet<number>,
): ControlledResults<T> {
  const c = checkResultControls(controls);
  const end = c.offset + c.k;
  const kept =
    exclude && exclude.size > 0 ? candidates.filter((h) => !exclude.has(h.label)) : [...candidates];
  const near = withinDistance(kept, c.maxDistance);
  const cut = near.length < kept.length;
  let list = near;
  if (c.groupBy !== undefined) {
    const groupValue = access.groupValue;
    if (!groupValue) throw new Error('applyResultControls: group_by needs access.groupValue');
    const field = c.groupBy;
    list = limitGroups(list, c.groupSize, (h) => groupValue(h, field));
  }
  const shortOfCandidates = !cut && list.length < quota(c);
  if (c.diversity > 0) {
    const vectorOf = access.vector;
    if (!vectorOf) throw new Error('applyResultControls: diversity needs access.vector');
    const pool = list.slice(0, diversityPoolSize(end)).map((hit) => ({
      label: hit.label,
      distance: hit.distance,
      vector: vectorOf(hit),
      hit,
    }));
    list = mmr(pool, end, c.diversity).map((p) => p.hit);
  }
  return { hits: page(list, c.offset, c.k), shortOfCandidates };
}
