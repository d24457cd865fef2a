import { describe, expect, it } from 'vitest';
import { attributeOf, parseAttributes, parseAttributesJson } from '../../src/search/attributes.ts';
import { expectValidationError } from './expectError.ts';

const bad = (value: unknown, message: string | RegExp, path?: string) =>
  expectValidationError(() => parseAttributes(value, path), 'INVALID_ATTRIBUTES', message);

describe('parseAttributes', () => {
  it('accepts strings, finite numbers, booleans and string arrays, and returns a copy', () => {
    const sizes = ['S', 'M'];
    const input = { brand: 'Acme', colour: '', price: 49.9, count: -3, in_stock: true, sizes, tags: [] };
    const out = parseAttributes(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.sizes).not.toBe(sizes);
    expect(parseAttributes({})).toEqual({});
    const edge = { 'a.b-c_D9': 'x'.repeat(256), ['k'.repeat(64)]: Array(64).fill('y') };
    expect(parseAttributes(edge)).toEqual(edge);
    const many = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(parseAttributes(many))).toHaveLength(64);
  });

  it('refuses anything but a plain object', () => {
    for (const v of [null, undefined, [], 'x', 3, true, new Date(0), new Map()]) {
      bad(v, 'attributes must be an object');
    }
    bad([], 'items[2].attributes must be an object', 'items[2].attributes');
  });

  it('refuses too many keys and bad or reserved keys', () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
    bad(many, 'attributes has 65 keys; at most 64');
    bad({ 'bad key': 1 }, "attributes: invalid key 'bad key' (1..64 characters of A-Z a-z 0-9 _ . -)");
    bad({ '': 1 }, /^attributes: invalid key ''/);
    bad({ ['k'.repeat(65)]: 1 }, /^attributes: invalid key 'k{65}'/);
    bad({ 'prix€': 1 }, /invalid key 'prix€'/);
    bad(
      { category: 'Dress' },
      "attributes: 'category' is reserved: category is the item's own field, not an attribute",
    );
    bad({ Category: 'Dress' }, /'Category' is reserved/);
    bad(JSON.parse('{"__proto__": {"polluted": true}}'), "attributes: '__proto__' is reserved");
  });

  it('refuses bad values, naming their path', () => {
    bad({ price: Number.NaN }, 'attributes.price must be a finite number');
    bad({ price: Number.POSITIVE_INFINITY }, 'attributes.price must be a finite number');
    bad({ brand: 'x'.repeat(257) }, 'attributes.brand is 257 characters long; at most 256');
    bad({ x: null }, 'attributes.x must be a string, a finite number, a boolean or an array of strings');
    bad(
      { x: { nested: 1 } },
      'attributes.x must be a string, a finite number, a boolean or an array of strings',
    );
    bad({ sizes: Array(65).fill('S') }, 'attributes.sizes has 65 elements; at most 64');
    bad({ sizes: ['S', 3] }, 'attributes.sizes[1] must be a string (arrays hold strings only)');
    bad({ sizes: [['S']] }, 'attributes.sizes[0] must be a string (arrays hold strings only)');
    bad({ sizes: ['y'.repeat(257)] }, 'attributes.sizes[0] is 257 characters long; at most 256');
    bad({ price: 'x', n: Number.NaN }, 'body.attributes.n must be a finite number', 'body.attributes');
  });

  it('parses the JSON-string form', () => {
    expect(parseAttributesJson('{"brand":"Acme","sizes":["S"]}')).toEqual({ brand: 'Acme', sizes: ['S'] });
    expectValidationError(
      () => parseAttributesJson('{"brand":'),
      'INVALID_ATTRIBUTES',
      /^attributes is not valid JSON: /,
    );
    expectValidationError(
      () => parseAttributesJson('[1]'),
      'INVALID_ATTRIBUTES',
      'attributes must be an object',
    );
  });

  it('reads own keys only', () => {
    const attrs = parseAttributes({ brand: 'Acme' });
    expect(attributeOf(attrs, 'brand')).toBe('Acme');
    expect(attributeOf(attrs, 'constructor')).toBeUndefined();
    expect(attributeOf(attrs, 'toString')).toBeUndefined();
  });
});
