/**
 * Item attributes: the shop's own fields (brand, colour, price, in_stock,
 * sizes, ...) as a flat JSON object. Values are strings, finite numbers,
 * booleans or arrays of strings; nothing nested. `category` is not an
 * attribute (it is the item's own field, with its own index graphs), so it is
 * refused here, in any letter case.
 */
import { ValidationError } from '../errors.ts';

export type AttributeScalar = string | number | boolean;
export type AttributeValue = AttributeScalar | string[];
export type Attributes = Record<string, AttributeValue>;

export const ATTRIBUTE_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_ATTRIBUTES = 64;
export const MAX_ATTRIBUTE_STRING_LENGTH = 256;
export const MAX_ATTRIBUTE_ARRAY_LENGTH = 64;
/** Keys no attribute may have: `category` (its own field) and `__proto__` (unsafe as an object key). */
export const RESERVED_ATTRIBUTE_KEYS: readonly string[] = ['category', '__proto__'];

const KEY_RULE = '1..64 characters of A-Z a-z 0-9 _ . -';

function invalid(message: string): ValidationError {
  return new ValidationError(message, 'INVALID_ATTRIBUTES');
}

/** A plain JSON object (not null, not an array, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Why `key` cannot be an attribute name, or undefined when it can. */
export function attributeKeyProblem(key: string): string | undefined {
  if (!ATTRIBUTE_KEY_PATTERN.test(key)) return `invalid key '${key}' (${KEY_RULE})`;
  if (RESERVED_ATTRIBUTE_KEYS.includes(key.toLowerCase())) {
    return key.toLowerCase() === 'category'
      ? `'${key}' is reserved: category is the item's own field, not an attribute`
      : `'${key}' is reserved`;
  }
  return undefined;
}

/** The value of one attribute of an item, or undefined when the item lacks it (own keys only). */
export function attributeOf(attributes: Attributes, key: string): AttributeValue | undefined {
  return Object.hasOwn(attributes, key) ? attributes[key] : undefined;
}

/**
 * Validates an attributes object and returns a fresh copy (arrays copied too).
 * Throws `ValidationError` code `INVALID_ATTRIBUTES` whose message names the
 * offending path, e.g. `attributes.price must be a finite number`.
 */
export function parseAttributes(value: unknown, path = 'attributes'): Attributes {
  if (!isPlainObject(value)) throw invalid(`${path} must be an object`);
  const entries = Object.entries(value);
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalid(`${path} has ${entries.length} keys; at most ${MAX_ATTRIBUTES}`);
  }
  const out: [string, AttributeValue][] = [];
  for (const [key, v] of entries) {
    const problem = attributeKeyProblem(key);
    if (problem) throw invalid(`${path}: ${problem}`);
    out.push([key, parseAttributeValue(v, `${path}.${key}`)]);
  }
  // fromEntries defines own properties, so even odd keys never touch the prototype.
  return Object.fromEntries(out);
}

/** `parseAttributes` of a JSON text (a multipart field, a CSV cell); bad JSON is INVALID_ATTRIBUTES too. */
export function parseAttributesJson(json: string, path = 'attributes'): Attributes {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw invalid(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseAttributes(value, path);
}

function checkString(v: string, path: string): string {
  if (v.length > MAX_ATTRIBUTE_STRING_LENGTH) {
    throw invalid(`${path} is ${v.length} characters long; at most ${MAX_ATTRIBUTE_STRING_LENGTH}`);
  }
  return v;
}

function parseAttributeValue(v: unknown, path: string): AttributeValue {
  switch (typeof v) {
    case 'string':
      return checkString(v, path);
    case 'number':
      if (!Number.isFinite(v)) throw invalid(`${path} must be a finite number`);
      return v;
    case 'boolean':
      return v;
  }
  if (Array.isArray(v)) {
    if (v.length > MAX_ATTRIBUTE_ARRAY_LENGTH) {
      throw invalid(`${path} has ${v.length} elements; at most ${MAX_ATTRIBUTE_ARRAY_LENGTH}`);
    }
    return v.map((e, i) => {
      if (typeof e !== 'string') throw invalid(`${path}[${i}] must be a string (arrays hold strings only)`);
      return checkString(e, `${path}[${i}]`);
    });
  }
  throw invalid(`${path} must be a string, a finite number, a boolean or an array of strings`);
}
