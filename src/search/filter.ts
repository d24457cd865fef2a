/**
 * The filter language of the search endpoints: a JSON object whose keys are
 * `category` or attribute names, all conditions AND-ed.
 *
 *   { "category": "Sneaker", "brand": { "nin": ["X"] }, "price": { "lt": 80 },
 *     "in_stock": true, "sizes": { "any": ["M", "L"] } }
 *
 * A value is a scalar (equality) or an operator object with any of:
 *   in / nin       array of at most 256 strings, numbers or booleans
 *   gt gte lt lte  finite number (a non-number or missing attribute never matches)
 *   exists         boolean (an attribute holding an empty array exists)
 *   any            array of at most 256 strings
 * Several operators in one object are AND-ed; every operator (and every bare
 * scalar) counts as one condition, at most 32, and the filter serialised as
 * JSON is at most 4096 characters.
 *
 * Matching, per attribute type (types never coerce: "49.9" does not equal 49.9):
 *   scalar equality  scalar: ===; array attribute: the array contains the value
 *   in               scalar in the list; array: any element in the list
 *   nin              scalar not in the list; array: no element in the list;
 *                    a missing attribute matches ("not brand X" keeps items without a brand)
 *   any              array: contains any of the strings; string: is one of them; else false
 *   gt..lte, in, any, equality: a missing attribute does not match.
 * `category` takes strings (or integers, read as strings: Fashion-MNIST label
 * indexes) with equality, in, nin, any (same as in) and exists; names compare
 * case-insensitively, after the caller's `resolveCategory` mapping.
 *
 * The parsed form (`Filter`) is normalised: a bare scalar becomes `{ eq: v }`,
 * lists are de-duplicated, category values are strings.
 */
import { CLASS_NAMES } from '../data/classes.ts';
import { ValidationError } from '../errors.ts';
import {
  type Attributes,
  type AttributeValue,
  attributeKeyProblem,
  attributeOf,
  isPlainObject,
} from './attributes.ts';

export type FilterScalar = string | number | boolean;

/** The conditions on one field, AND-ed. `eq` is the normalised form of a bare scalar. */
export interface FieldCondition {
  eq?: FilterScalar;
  in?: FilterScalar[];
  nin?: FilterScalar[];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  exists?: boolean;
  any?: string[];
}

/** A parsed filter: field (`category` or an attribute name) → its conditions. */
export type Filter = Record<string, FieldCondition>;

export interface FilterableItem {
  category: string;
  attributes: Attributes;
}
export type ItemPredicate = (item: FilterableItem) => boolean;
/** Maps a category as written in a filter (`"3"`, `"DRESS"`) to the catalog's name, or undefined. */
export type CategoryResolver = (name: string) => string | undefined;

export const CATEGORY_FIELD = 'category';
export const MAX_FILTER_CONDITIONS = 32;
export const MAX_FILTER_JSON_LENGTH = 4096;
export const MAX_FILTER_LIST_LENGTH = 256;

const OPERATORS = ['in', 'nin', 'gt', 'gte', 'lt', 'lte', 'exists', 'any'] as const;
type Operator = (typeof OPERATORS)[number];
const CATEGORY_OPERATORS: readonly Operator[] = ['in', 'nin', 'any', 'exists'];

function invalid(message: string): ValidationError {
  return new ValidationError(message, 'INVALID_FILTER');
}

function isOperator(key: string): key is Operator {
  return (OPERATORS as readonly string[]).includes(key);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/**
 * Validates and normalises a filter object. Throws `ValidationError` code
 * `INVALID_FILTER` naming the offending path: `filter.price.gt must be a
 * finite number`, `filter.brand: unknown operator 'like'`.
 */
export function parseFilter(value: unknown, path = 'filter'): Filter {
  if (!isPlainObject(value)) throw invalid(`${path} must be an object`);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    throw invalid(`${path} must be plain JSON`);
  }
  if (json.length > MAX_FILTER_JSON_LENGTH) {
    throw invalid(
      `${path} is too long: ${json.length} characters as JSON, at most ${MAX_FILTER_JSON_LENGTH}`,
    );
  }
  const fields: [string, FieldCondition][] = [];
  let conditions = 0;
  for (const [field, v] of Object.entries(value)) {
    const fieldPath = `${path}.${field}`;
    const isCategory = field === CATEGORY_FIELD;
    if (!isCategory) {
      const problem = attributeKeyProblem(field);
      if (problem) {
        throw invalid(
          field.toLowerCase() === CATEGORY_FIELD
            ? `${path}: unknown field '${field}' (the category field is spelt 'category')`
            : `${path}: ${problem.replace('invalid key', 'invalid field name')}`,
        );
      }
    }
    const condition = isCategory
      ? parseCategoryCondition(v, fieldPath)
      : parseAttributeCondition(v, fieldPath);
    conditions += Object.keys(condition).length;
    fields.push([field, condition]);
  }
  if (conditions > MAX_FILTER_CONDITIONS) {
    throw invalid(`${path} has ${conditions} conditions; at most ${MAX_FILTER_CONDITIONS}`);
  }
  return Object.fromEntries(fields);
}

/**
 * `parseFilter` of the `filter` query parameter (JSON text); bad JSON is
 * INVALID_FILTER too, and so is a text over 4 × 4096 characters (refused
 * before parsing; the 4096 limit applies to the compact re-serialisation).
 */
export function parseFilterParam(json: string, path = 'filter'): Filter {
  if (json.length > 4 * MAX_FILTER_JSON_LENGTH) {
    throw invalid(
      `${path} is too long: ${json.length} characters, at most ${MAX_FILTER_JSON_LENGTH} as JSON`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw invalid(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseFilter(value, path);
}

function scalar(v: unknown, path: string): FilterScalar {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid(`${path} must be a finite number`);
    return v;
  }
  throw invalid(`${path} must be a string, a finite number or a boolean`);
}

function list<T>(v: unknown, path: string, what: string, element: (e: unknown, path: string) => T): T[] {
  if (!Array.isArray(v) || v.length > MAX_FILTER_LIST_LENGTH) {
    throw invalid(`${path} must be an array of at most ${MAX_FILTER_LIST_LENGTH} ${what}`);
  }
  return unique(v.map((e, i) => element(e, `${path}[${i}]`)));
}

function finiteNumber(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${path} must be a finite number`);
  return v;
}

function boolean(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(`${path} must be a boolean`);
  return v;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalid(`${path} must be a string`);
  return v;
}

function categoryName(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  throw invalid(`${path} must be a category name (a string) or a label index (an integer)`);
}

function operatorEntries(v: Record<string, unknown>, path: string): [Operator, unknown][] {
  const entries = Object.entries(v);
  if (entries.length === 0) throw invalid(`${path}: empty operator object`);
  for (const [op] of entries) {
    if (!isOperator(op)) throw invalid(`${path}: unknown operator '${op}'`);
  }
  return entries as [Operator, unknown][];
}

function notAValue(path: string): ValidationError {
  return invalid(
    `${path} must be a string, a finite number, a boolean or an operator object (in, nin, gt, gte, lt, lte, exists, any)`,
  );
}

function parseAttributeCondition(v: unknown, path: string): FieldCondition {
  if (Array.isArray(v))
    throw invalid(`${path}: use {"in": [...]} or {"any": [...]} to match one of several values`);
  if (!isPlainObject(v)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      return { eq: scalar(v, path) };
    throw notAValue(path);
  }
  const out: FieldCondition = {};
  for (const [op, arg] of operatorEntries(v, path)) {
    const p = `${path}.${op}`;
    switch (op) {
      case 'in':
      case 'nin':
        out[op] = list(arg, p, 'strings, numbers or booleans', scalar);
        break;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        out[op] = finiteNumber(arg, p);
        break;
      case 'exists':
        out.exists = boolean(arg, p);
        break;
      case 'any':
        out.any = list(arg, p, 'strings', string);
        break;
    }
  }
  return out;
}

function parseCategoryCondition(v: unknown, path: string): FieldCondition {
  if (!isPlainObject(v)) {
    if (Array.isArray(v)) throw invalid(`${path}: use {"in": [...]} to match one of several categories`);
    return { eq: categoryName(v, path) };
  }
  const out: FieldCondition = {};
  for (const [op, arg] of operatorEntries(v, path)) {
    const p = `${path}.${op}`;
    if (!CATEGORY_OPERATORS.includes(op)) {
      throw invalid(
        `${path}: operator '${op}' does not apply to category (use equality, in, nin, any or exists)`,
      );
    }
    if (op === 'exists') out.exists = boolean(arg, p);
    else out[op as 'in' | 'nin' | 'any'] = list(arg, p, 'category names', categoryName);
  }
  return out;
}

/** The filter back in the request language (`{ eq: v }` → `v`), e.g. to echo or log it. */
export function filterToJson(filter: Filter): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(filter).map(([field, c]) => {
      const keys = Object.keys(c);
      if (keys.length === 1 && keys[0] === 'eq') return [field, c.eq];
      if (c.eq === undefined) return [field, { ...c }];
      // Equality next to operators has no single-object spelling; `in` with one value means the same.
      const { eq, ...rest } = c;
      const inList = rest.in ? rest.in.filter((x) => x === eq) : [eq];
      return [field, { ...rest, in: inList }];
    }),
  );
}

// ---------------------------------------------------------------------------
// Evaluation

type ValueTest = (value: AttributeValue | undefined) => boolean;

function attributeTests(c: FieldCondition): ValueTest[] {
  const tests: ValueTest[] = [];
  if (c.eq !== undefined) {
    const eq = c.eq;
    tests.push((v) => (Array.isArray(v) ? typeof eq === 'string' && v.includes(eq) : v === eq));
  }
  if (c.in) {
    const set = new Set<FilterScalar>(c.in);
    tests.push((v) => (Array.isArray(v) ? v.some((e) => set.has(e)) : v !== undefined && set.has(v)));
  }
  if (c.nin) {
    const set = new Set<FilterScalar>(c.nin);
    tests.push((v) => (Array.isArray(v) ? !v.some((e) => set.has(e)) : v === undefined || !set.has(v)));
  }
  if (c.gt !== undefined) {
    const x = c.gt;
    tests.push((v) => typeof v === 'number' && v > x);
  }
  if (c.gte !== undefined) {
    const x = c.gte;
    tests.push((v) => typeof v === 'number' && v >= x);
  }
  if (c.lt !== undefined) {
    const x = c.lt;
    tests.push((v) => typeof v === 'number' && v < x);
  }
  if (c.lte !== undefined) {
    const x = c.lte;
    tests.push((v) => typeof v === 'number' && v <= x);
  }
  if (c.exists !== undefined) {
    const want = c.exists;
    tests.push((v) => (v !== undefined) === want);
  }
  if (c.any) {
    const set = new Set<string>(c.any);
    tests.push((v) => (Array.isArray(v) ? v.some((e) => set.has(e)) : typeof v === 'string' && set.has(v)));
  }
  return tests;
}

function categoryTests(
  c: FieldCondition,
  resolve: CategoryResolver | undefined,
): ((lower: string) => boolean)[] {
  const key = (name: FilterScalar) => {
    const s = String(name);
    return (resolve?.(s) ?? s).toLowerCase();
  };
  const tests: ((lower: string) => boolean)[] = [];
  if (c.eq !== undefined) {
    const eq = key(c.eq);
    tests.push((v) => v === eq);
  }
  for (const positive of [c.in, c.any]) {
    if (!positive) continue;
    const set = new Set(positive.map(key));
    tests.push((v) => set.has(v));
  }
  if (c.nin) {
    const set = new Set(c.nin.map(key));
    tests.push((v) => !set.has(v));
  }
  // Every item has a category: exists: true always holds, exists: false never.
  if (c.exists === false) tests.push(() => false);
  return tests;
}

/**
 * The predicate of a parsed filter. Category conditions compare
 * case-insensitively, after mapping the filter's names through
 * `resolveCategory` (names it returns undefined for are compared as written).
 * Attributes are looked up as own keys only.
 */
export function compileFilter(filter: Filter, resolveCategory?: CategoryResolver): ItemPredicate {
  const category: ((lower: string) => boolean)[] = [];
  const attributes: { field: string; tests: ValueTest[] }[] = [];
  for (const [field, c] of Object.entries(filter)) {
    if (field === CATEGORY_FIELD) category.push(...categoryTests(c, resolveCategory));
    else attributes.push({ field, tests: attributeTests(c) });
  }
  return (item) => {
    if (category.length > 0) {
      const lower = item.category.toLowerCase();
      for (const test of category) if (!test(lower)) return false;
    }
    for (const { field, tests } of attributes) {
      const v = attributeOf(item.attributes, field);
      for (const test of tests) if (!test(v)) return false;
    }
    return true;
  };
}

// ---------------------------------------------------------------------------
// Categories

/**
 * The catalog's name for a category as a client wrote it, or undefined: an
 * exact match, else a case-insensitive one (`"DRESS"` → `"Dress"`), else a
 * Fashion-MNIST label index 0-9 (`"3"` → `"Dress"`) when CLASS_NAMES names a
 * category in `known` (case-insensitively). Surrounding spaces are ignored.
 */
export function canonicalCategory(value: string, known: readonly string[]): string | undefined {
  const v = value.trim();
  const exact = known.find((k) => k === v);
  if (exact !== undefined) return exact;
  const lower = v.toLowerCase();
  const folded = known.find((k) => k.toLowerCase() === lower);
  if (folded !== undefined) return folded;
  if (/^[0-9]$/.test(v)) {
    const name = CLASS_NAMES[Number(v)].toLowerCase();
    return known.find((k) => k.toLowerCase() === name);
  }
  return undefined;
}

function unknownCategory(path: string, value: string, known: readonly string[]): ValidationError {
  return new ValidationError(
    `${path}: unknown category '${value}'; known: ${known.join(', ')}`,
    'UNKNOWN_CATEGORY',
  );
}

/**
 * The filter with its category names replaced by the catalog's (see
 * `canonicalCategory`). Throws `ValidationError` code `UNKNOWN_CATEGORY`
 * naming the path (`filter.category.in[1]: unknown category 'x'; known: ...`)
 * for a name that matches no category, in nin too (a typo would otherwise
 * silently exclude nothing).
 */
export function resolveFilterCategories(filter: Filter, known: readonly string[], path = 'filter'): Filter {
  const c = filter[CATEGORY_FIELD];
  if (!c) return filter;
  const resolve = (v: FilterScalar, p: string) => {
    const name = canonicalCategory(String(v), known);
    if (name === undefined) throw unknownCategory(p, String(v), known);
    return name;
  };
  const p = `${path}.${CATEGORY_FIELD}`;
  const out: FieldCondition = { ...c };
  if (c.eq !== undefined) out.eq = resolve(c.eq, p);
  if (c.in) out.in = unique(c.in.map((v, i) => resolve(v, `${p}.in[${i}]`)));
  if (c.nin) out.nin = unique(c.nin.map((v, i) => resolve(v, `${p}.nin[${i}]`)));
  if (c.any) out.any = unique(c.any.map((v, i) => resolve(v, `${p}.any[${i}]`)));
  return { ...filter, [CATEGORY_FIELD]: out };
}

function intersect(a: readonly string[], b: readonly string[]): string[] {
  const lower = new Set(b.map((x) => x.toLowerCase()));
  return a.filter((x) => lower.has(x.toLowerCase()));
}

function uniqueFolded(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const l = v.toLowerCase();
    if (seen.has(l)) return false;
    seen.add(l);
    return true;
  });
}

/**
 * The categories a filter restricts results to: the (case-insensitive) intersection of its eq, in and
 * any category values, minus nin; undefined when the filter does not restrict
 * category to a list (no category condition, or only nin / exists: true).
 * An EMPTY array means nothing can match (contradictory conditions, or
 * exists: false): answer with no results, and never pass [] to
 * `VectorIndex.search`, which reads an empty list as "no filter".
 * Names are compared as written: resolve the filter first.
 */
export function filterCategories(filter: Filter | undefined): string[] | undefined {
  const c = filter?.[CATEGORY_FIELD];
  if (!c) return undefined;
  if (c.exists === false) return [];
  let allowed: string[] | undefined;
  for (const positive of [c.eq === undefined ? undefined : [String(c.eq)], c.in, c.any]) {
    if (!positive) continue;
    const names = positive.map(String);
    allowed = allowed === undefined ? names : intersect(allowed, names);
  }
  if (allowed === undefined) return undefined;
  if (c.nin) {
    const nin = new Set(c.nin.map((v) => String(v).toLowerCase()));
    allowed = allowed.filter((x) => !nin.has(x.toLowerCase()));
  }
  return uniqueFolded(allowed);
}

/** Splits the legacy `category` parameter: repeated and/or comma-separated, trimmed, without duplicates. */
export function splitCategoryParam(categories: string | readonly string[] | undefined): string[] {
  if (categories === undefined) return [];
  return unique(
    (typeof categories === 'string' ? [categories] : categories)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v.length > 0),
  );
}

/**
 * ANDs the legacy `category` parameter into a filter: it means the same as
 * `{"category": {"in": [...]}}`. When the filter already has a category `in`,
 * the result's `in` is the case-insensitive intersection of both lists, so
 * resolve both sides first (`prepareFilter` does) or `"3"` and `"Dress"`
 * will not meet. Returns the filter unchanged when the parameter is absent.
 */
export function mergeCategoryParam(
  filter: Filter | undefined,
  categories: string | readonly string[] | undefined,
): Filter | undefined {
  const names = splitCategoryParam(categories);
  if (names.length === 0) return filter;
  const existing = filter?.[CATEGORY_FIELD] ?? {};
  const merged: FieldCondition = {
    ...existing,
    in: existing.in ? intersect(existing.in.map(String), names) : names,
  };
  return { ...filter, [CATEGORY_FIELD]: merged };
}

/**
 * The routes' one call: a parsed filter (or undefined) and the legacy
 * `category` parameter → one filter with the catalog's category names.
 * Unknown names throw UNKNOWN_CATEGORY, naming `filter.category...` or
 * `category`.
 */
export function prepareFilter(
  filter: Filter | undefined,
  categoryParam: string | readonly string[] | undefined,
  known: readonly string[],
): Filter | undefined {
  const resolved = filter ? resolveFilterCategories(filter, known) : undefined;
  const names = splitCategoryParam(categoryParam).map((v) => {
    const name = canonicalCategory(v, known);
    if (name === undefined) throw unknownCategory(CATEGORY_FIELD, v, known);
    return name;
  });
  return mergeCategoryParam(resolved, names);
}
