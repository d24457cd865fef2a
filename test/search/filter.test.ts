import { describe, expect, it } from 'vitest';
import { CLASS_NAMES } from '../../src/data/classes.ts';
import type { Attributes } from '../../src/search/attributes.ts';
import {
  type CategoryResolver,
  canonicalCategory,
  compileFilter,
  type Filter,
  filterCategories,
  filterToJson,
  mergeCategoryParam,
  parseFilter,
  parseFilterParam,
  prepareFilter,
  resolveFilterCategories,
} from '../../src/search/filter.ts';
import { expectValidationError } from './expectError.ts';

const ITEMS: Record<string, { category: string; attributes: Attributes }> = {
  a: {
    category: 'Sneaker',
    attributes: { brand: 'Acme', colour: 'black', price: 49.9, in_stock: true, sizes: ['S', 'M'] },
  },
  b: { category: 'Dress', attributes: { brand: 'X', price: 120, in_stock: false, sizes: [] } },
  c: { category: 'Sneaker', attributes: {} },
  d: { category: 'Bag', attributes: { brand: 'Acme', price: '80', tags: ['sale'], in_stock: 'true' } },
};
const KNOWN = ['Sneaker', 'Dress', 'Bag'];

/** Names of the fixture items a filter (request JSON) keeps. */
function matching(json: unknown, resolve?: CategoryResolver): string {
  const keep = compileFilter(parseFilter(json), resolve);
  return Object.keys(ITEMS)
    .filter((name) => keep(ITEMS[name]))
    .join('');
}

const bad = (value: unknown, message: string | RegExp, path?: string) =>
  expectValidationError(() => parseFilter(value, path), 'INVALID_FILTER', message);

describe('filter operators', () => {
  it('an empty filter keeps everything', () => {
    expect(matching({})).toBe('abcd');
  });

  it('equality on strings, numbers, booleans and arrays, with no type coercion', () => {
    expect(matching({ brand: 'Acme' })).toBe('ad');
    expect(matching({ brand: 'acme' })).toBe(''); // attribute values are case-sensitive
    expect(matching({ price: 120 })).toBe('b');
    expect(matching({ price: 80 })).toBe(''); // d's price is the string '80'
    expect(matching({ price: '80' })).toBe('d');
    expect(matching({ in_stock: true })).toBe('a');
    expect(matching({ in_stock: false })).toBe('b');
    expect(matching({ in_stock: 'true' })).toBe('d');
    expect(matching({ sizes: 'M' })).toBe('a'); // an array attribute containing the value
    expect(matching({ sizes: 'XL' })).toBe('');
    expect(matching({ missing: 'x' })).toBe('');
  });

  it('in', () => {
    expect(matching({ brand: { in: ['Acme', 'Y'] } })).toBe('ad');
    expect(matching({ price: { in: [120, 49.9] } })).toBe('ab');
    expect(matching({ price: { in: ['80', 120] } })).toBe('bd');
    expect(matching({ in_stock: { in: [false] } })).toBe('b');
    expect(matching({ sizes: { in: ['M', 'XL'] } })).toBe('a'); // any array element in the list
    expect(matching({ sizes: { in: ['XL'] } })).toBe('');
    expect(matching({ brand: { in: [] } })).toBe('');
    expect(matching({ missing: { in: ['x'] } })).toBe('');
  });

  it('nin (a missing attribute matches)', () => {
    expect(matching({ brand: { nin: ['X'] } })).toBe('acd');
    expect(matching({ brand: { nin: ['X', 'Acme'] } })).toBe('c');
    expect(matching({ price: { nin: [49.9] } })).toBe('bcd');
    expect(matching({ sizes: { nin: ['S'] } })).toBe('bcd'); // no element in the list; [] and missing match
    expect(matching({ sizes: { nin: ['XL'] } })).toBe('abcd');
    expect(matching({ brand: { nin: [] } })).toBe('abcd');
  });

  it('gt, gte, lt, lte on numbers only', () => {
    expect(matching({ price: { gt: 49.9 } })).toBe('b');
    expect(matching({ price: { gte: 49.9 } })).toBe('ab');
    expect(matching({ price: { lt: 120 } })).toBe('a');
    expect(matching({ price: { lte: 120 } })).toBe('ab');
    expect(matching({ price: { gte: 40, lt: 100 } })).toBe('a'); // both AND-ed; d's '80' is a string
    expect(matching({ price: { gt: 0, lt: 0 } })).toBe('');
    expect(matching({ brand: { gt: 0 } })).toBe('');
    expect(matching({ missing: { lte: 1e9 } })).toBe('');
  });

  it('exists true and false', () => {
    expect(matching({ brand: { exists: true } })).toBe('abd');
    expect(matching({ brand: { exists: false } })).toBe('c');
    expect(matching({ sizes: { exists: true } })).toBe('ab'); // an empty array exists
    expect(matching({ sizes: { exists: false } })).toBe('cd');
    expect(matching({ tags: { exists: true, any: ['sale'] } })).toBe('d');
  });

  it('any: arrays containing any of the strings; a string in the list', () => {
    expect(matching({ sizes: { any: ['M', 'XL'] } })).toBe('a');
    expect(matching({ sizes: { any: ['XL'] } })).toBe('');
    expect(matching({ sizes: { any: [] } })).toBe('');
    expect(matching({ tags: { any: ['sale', 'new'] } })).toBe('d');
    expect(matching({ colour: { any: ['black', 'white'] } })).toBe('a');
    expect(matching({ price: { any: ['120'] } })).toBe(''); // a number is not a string
    expect(matching({ in_stock: { any: ['true'] } })).toBe('d');
    expect(matching({ missing: { any: ['x'] } })).toBe('');
  });

  it('ANDs fields', () => {
    expect(matching({ category: 'Sneaker', in_stock: true })).toBe('a');
    expect(matching({ brand: 'Acme', price: { lt: 100 } })).toBe('a');
    expect(matching({ brand: { nin: ['X'] }, sizes: { exists: false } })).toBe('cd');
  });

  it('looks at own attributes only', () => {
    expect(matching({ constructor: { exists: true } })).toBe('');
    expect(matching({ toString: { exists: false } })).toBe('abcd');
    expect(matching({ hasOwnProperty: { nin: ['x'] } })).toBe('abcd');
  });

  it('category: case-insensitive, every category operator', () => {
    expect(matching({ category: 'sneaker' })).toBe('ac');
    expect(matching({ category: 'SNEAKER' })).toBe('ac');
    expect(matching({ category: { in: ['DRESS', 'bag'] } })).toBe('bd');
    expect(matching({ category: { nin: ['sneaker'] } })).toBe('bd');
    expect(matching({ category: { any: ['dress'] } })).toBe('b');
    expect(matching({ category: { in: ['Dress', 'Bag'], nin: ['bag'] } })).toBe('b');
    expect(matching({ category: { exists: true } })).toBe('abcd');
    expect(matching({ category: { exists: false } })).toBe('');
    expect(matching({ category: 'Hat' })).toBe('');
  });

  it('category: the resolver maps label indexes and other spellings', () => {
    const resolve = (name: string) => canonicalCategory(name, KNOWN);
    expect(matching({ category: '3' })).toBe('');
    expect(matching({ category: '3' }, resolve)).toBe('b');
    expect(matching({ category: 3 }, resolve)).toBe('b');
    expect(matching({ category: { in: [7, 'bag'] } }, resolve)).toBe('acd');
    expect(matching({ category: { nin: ['8'] } }, resolve)).toBe('abc');
    expect(matching({ category: 'Hat' }, resolve)).toBe(''); // unresolved names compare as written
  });
});

describe('parseFilter normalisation', () => {
  it('turns scalars into eq, de-duplicates lists, reads category integers as strings', () => {
    const f = parseFilter({
      brand: 'Acme',
      price: { gte: 1, lt: 2 },
      tags: { in: ['a', 'a', 'b'], any: ['x', 'x'] },
      in_stock: false,
      category: 3,
    });
    expect(f).toEqual({
      brand: { eq: 'Acme' },
      price: { gte: 1, lt: 2 },
      tags: { in: ['a', 'b'], any: ['x'] },
      in_stock: { eq: false },
      category: { eq: '3' },
    });
    expect(parseFilter({ category: { in: [0, 'Bag'] } })).toEqual({ category: { in: ['0', 'Bag'] } });
  });

  it('filterToJson gives back the request language', () => {
    const json = { brand: 'Acme', price: { gte: 1, lt: 2 }, category: { nin: ['Bag'] }, on: true };
    const f = parseFilter(json);
    expect(filterToJson(f)).toEqual(json);
    expect(parseFilter(filterToJson(f))).toEqual(f);
    // eq next to other operators (what mergeCategoryParam can produce) becomes an equivalent in
    const merged: Filter = { category: { eq: 'Dress', in: ['Dress', 'Bag'] }, x: { eq: 1, gt: 0 } };
    expect(filterToJson(merged)).toEqual({ category: { in: ['Dress'] }, x: { gt: 0, in: [1] } });
  });
});

describe('parseFilter errors name the path', () => {
  it('refuses non-objects', () => {
    for (const v of [null, undefined, [], 'brand', 3, true]) bad(v, 'filter must be an object');
    bad([], 'body.filter must be an object', 'body.filter');
  });

  it('refuses bad field names', () => {
    bad({ 'bad key': 1 }, "filter: invalid field name 'bad key' (1..64 characters of A-Z a-z 0-9 _ . -)");
    bad({ '': 1 }, /^filter: invalid field name ''/);
    bad({ ['k'.repeat(65)]: 1 }, /^filter: invalid field name/);
    bad({ Category: 'Dress' }, "filter: unknown field 'Category' (the category field is spelt 'category')");
    bad(JSON.parse('{"__proto__": 1}'), "filter: '__proto__' is reserved");
  });

  it('refuses bad values', () => {
    const notAValue =
      'filter.brand must be a string, a finite number, a boolean or an operator object (in, nin, gt, gte, lt, lte, exists, any)';
    bad({ brand: null }, notAValue);
    bad({ brand: undefined }, notAValue);
    bad(
      { brand: ['Acme'] },
      'filter.brand: use {"in": [...]} or {"any": [...]} to match one of several values',
    );
    bad({ price: Number.NaN }, 'filter.price must be a finite number');
    bad({ price: Number.POSITIVE_INFINITY }, 'filter.price must be a finite number');
  });

  it('refuses unknown operators and empty operator objects', () => {
    bad({ brand: { like: 'Ac%' } }, "filter.brand: unknown operator 'like'");
    bad({ brand: { in: ['x'], eq: 'x' } }, "filter.brand: unknown operator 'eq'");
    bad({ price: { $gt: 1 } }, "filter.price: unknown operator '$gt'");
    bad({ brand: {} }, 'filter.brand: empty operator object');
    bad({ category: {} }, 'filter.category: empty operator object');
  });

  it('in and nin: arrays of at most 256 scalars', () => {
    const listMsg = (p: string) => `${p} must be an array of at most 256 strings, numbers or booleans`;
    bad({ brand: { in: 'Acme' } }, listMsg('filter.brand.in'));
    bad({ brand: { nin: { a: 1 } } }, listMsg('filter.brand.nin'));
    bad({ n: { in: Array.from({ length: 257 }, (_, i) => i) } }, listMsg('filter.n.in'));
    expect(parseFilter({ n: { in: Array.from({ length: 256 }, (_, i) => i) } }).n.in).toHaveLength(256);
    bad({ brand: { in: ['a', null] } }, 'filter.brand.in[1] must be a string, a finite number or a boolean');
    bad({ brand: { nin: [['a']] } }, 'filter.brand.nin[0] must be a string, a finite number or a boolean');
    bad({ brand: { in: [Number.NaN] } }, 'filter.brand.in[0] must be a finite number');
  });

  it('gt, gte, lt, lte: finite numbers', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte']) {
      for (const v of ['5', null, true, [1], Number.NaN, Number.NEGATIVE_INFINITY]) {
        bad({ price: { [op]: v } }, `filter.price.${op} must be a finite number`);
      }
    }
  });

  it('exists: a boolean; any: an array of strings', () => {
    bad({ brand: { exists: 'yes' } }, 'filter.brand.exists must be a boolean');
    bad({ brand: { exists: 1 } }, 'filter.brand.exists must be a boolean');
    bad({ sizes: { any: 'M' } }, 'filter.sizes.any must be an array of at most 256 strings');
    bad({ sizes: { any: Array(257).fill('M') } }, 'filter.sizes.any must be an array of at most 256 strings');
    bad({ sizes: { any: ['M', 3] } }, 'filter.sizes.any[1] must be a string');
  });

  it('category: names or label indexes, and only the operators that apply', () => {
    const nameMsg = (p: string) => `${p} must be a category name (a string) or a label index (an integer)`;
    bad({ category: true }, nameMsg('filter.category'));
    bad({ category: null }, nameMsg('filter.category'));
    bad({ category: 3.5 }, nameMsg('filter.category'));
    bad({ category: { in: ['Dress', false] } }, nameMsg('filter.category.in[1]'));
    bad({ category: { nin: 'Dress' } }, 'filter.category.nin must be an array of at most 256 category names');
    bad({ category: ['Dress'] }, 'filter.category: use {"in": [...]} to match one of several categories');
    bad(
      { category: { gt: 3 } },
      "filter.category: operator 'gt' does not apply to category (use equality, in, nin, any or exists)",
    );
    bad({ category: { like: 'D%' } }, "filter.category: unknown operator 'like'");
    bad({ category: { exists: 'no' } }, 'filter.category.exists must be a boolean');
  });

  it('at most 32 conditions, each operator counting as one', () => {
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));
    expect(Object.keys(parseFilter(fields(32)))).toHaveLength(32);
    bad(fields(33), 'filter has 33 conditions; at most 32');
    bad({ ...fields(31), price: { gt: 1, lt: 2 } }, 'filter has 33 conditions; at most 32');
  });

  it('at most 4096 characters as JSON', () => {
    const long = (n: number) => ({ brand: { in: ['x'.repeat(n)] } });
    const size = (n: number) => JSON.stringify(long(n)).length;
    const fits = 4096 - size(0);
    expect(size(fits)).toBe(4096);
    expect(parseFilter(long(fits)).brand.in).toHaveLength(1);
    bad(long(fits + 1), 'filter is too long: 4097 characters as JSON, at most 4096');
  });

  it('every error is a 400 INVALID_FILTER, under any path', () => {
    bad({ price: { gt: 'x' } }, 'query.filter.price.gt must be a finite number', 'query.filter');
  });
});

describe('parseFilterParam', () => {
  it('parses the query-parameter JSON', () => {
    expect(parseFilterParam('{"brand":"Acme","price":{"lt":80}}')).toEqual({
      brand: { eq: 'Acme' },
      price: { lt: 80 },
    });
  });

  it('bad JSON and bad filters are INVALID_FILTER', () => {
    expectValidationError(
      () => parseFilterParam('{brand:1}'),
      'INVALID_FILTER',
      /^filter is not valid JSON: /,
    );
    expectValidationError(() => parseFilterParam(''), 'INVALID_FILTER', /^filter is not valid JSON: /);
    expectValidationError(() => parseFilterParam('[]'), 'INVALID_FILTER', 'filter must be an object');
    expectValidationError(
      () => parseFilterParam('{"price":{"gt":"1"}}'),
      'INVALID_FILTER',
      'filter.price.gt must be a finite number',
    );
    expectValidationError(
      () => parseFilterParam(`{"brand":"${'x'.repeat(20000)}"}`),
      'INVALID_FILTER',
      /^filter is too long/,
    );
  });
});

describe('canonicalCategory', () => {
  it('matches exactly, then case-insensitively, then by Fashion-MNIST label index', () => {
    expect(canonicalCategory('Dress', KNOWN)).toBe('Dress');
    expect(canonicalCategory('DRESS', KNOWN)).toBe('Dress');
    expect(canonicalCategory('dress', KNOWN)).toBe('Dress');
    expect(canonicalCategory(' dress ', KNOWN)).toBe('Dress');
    expect(canonicalCategory('3', KNOWN)).toBe('Dress');
    expect(canonicalCategory('7', KNOWN)).toBe('Sneaker');
    expect(canonicalCategory('8', KNOWN)).toBe('Bag');
    expect(canonicalCategory('Hat', KNOWN)).toBeUndefined();
    expect(canonicalCategory('', KNOWN)).toBeUndefined();
  });

  it('maps every label index through CLASS_NAMES, only to known categories', () => {
    const all = [...CLASS_NAMES];
    for (let i = 0; i < 10; i++) expect(canonicalCategory(String(i), all)).toBe(CLASS_NAMES[i]);
    expect(canonicalCategory('0', ['t-shirt/top'])).toBe('t-shirt/top');
    expect(canonicalCategory('0', KNOWN)).toBeUndefined(); // T-shirt/top is not in this catalog
    for (const v of ['10', '03', '-1', '3.0', '１']) expect(canonicalCategory(v, all)).toBeUndefined();
  });

  it('prefers an exact name, so a shop category called "3" wins over the label', () => {
    expect(canonicalCategory('3', ['3', 'Dress'])).toBe('3');
    expect(canonicalCategory('Dress', ['dress', 'Dress'])).toBe('Dress');
    expect(canonicalCategory('DRESS', ['dress', 'Dress'])).toBe('dress');
  });
});

describe('category helpers', () => {
  it('resolveFilterCategories maps names and names the path of unknown ones', () => {
    const f = parseFilter({ category: { in: ['dress', 8], nin: ['SNEAKER'] }, brand: 'Acme' });
    expect(resolveFilterCategories(f, KNOWN)).toEqual({
      category: { in: ['Dress', 'Bag'], nin: ['Sneaker'] },
      brand: { eq: 'Acme' },
    });
    expect(resolveFilterCategories(parseFilter({ category: '3' }), KNOWN)).toEqual({
      category: { eq: 'Dress' },
    });
    expect(resolveFilterCategories(parseFilter({ category: { in: ['3', 'dress'] } }), KNOWN)).toEqual({
      category: { in: ['Dress'] },
    });
    const f2 = parseFilter({ brand: 'Acme' });
    expect(resolveFilterCategories(f2, KNOWN)).toBe(f2);
    const unknown = (json: unknown, message: string) =>
      expectValidationError(
        () => resolveFilterCategories(parseFilter(json), KNOWN),
        'UNKNOWN_CATEGORY',
        `${message}; known: Sneaker, Dress, Bag`,
      );
    unknown({ category: 'Hat' }, "filter.category: unknown category 'Hat'");
    unknown({ category: { in: ['Dress', 'Hat'] } }, "filter.category.in[1]: unknown category 'Hat'");
    unknown({ category: { nin: ['0'] } }, "filter.category.nin[0]: unknown category '0'");
    unknown({ category: { any: ['x'] } }, "filter.category.any[0]: unknown category 'x'");
  });

  it('filterCategories: the categories a filter restricts to', () => {
    const cats = (json: unknown) => filterCategories(parseFilter(json));
    expect(filterCategories(undefined)).toBeUndefined();
    expect(cats({})).toBeUndefined();
    expect(cats({ brand: 'Acme' })).toBeUndefined();
    expect(cats({ category: 'Dress' })).toEqual(['Dress']);
    expect(cats({ category: { in: ['Dress', 'Bag', 'dress'] } })).toEqual(['Dress', 'Bag']);
    expect(cats({ category: { any: ['Dress'] } })).toEqual(['Dress']);
    expect(cats({ category: { in: ['Dress', 'Bag'], any: ['bag', 'Coat'] } })).toEqual(['Bag']);
    expect(cats({ category: { in: ['Dress', 'Bag'], nin: ['DRESS'] } })).toEqual(['Bag']);
    expect(cats({ category: { nin: ['Dress'] } })).toBeUndefined();
    expect(cats({ category: { exists: true } })).toBeUndefined();
    expect(cats({ category: { exists: false } })).toEqual([]);
    expect(cats({ category: { in: ['Dress'], nin: ['Dress'] } })).toEqual([]);
    expect(cats({ category: { in: [] } })).toEqual([]);
    expect(filterCategories({ category: { eq: 'Dress', in: ['Bag'] } })).toEqual([]);
  });

  it('filterCategories agrees with the predicate', () => {
    const resolve = (n: string) => canonicalCategory(n, KNOWN);
    for (const json of [
      { category: { in: ['Dress', 'Bag'], nin: ['bag'] } },
      { category: { in: ['Sneaker', 'Bag'], any: ['Bag', 'Dress'] } },
      { category: 'sneaker' },
    ]) {
      const f = parseFilter(json);
      const keep = compileFilter(f, resolve);
      const allowed = new Set(filterCategories(f)!.map((c) => c.toLowerCase()));
      for (const c of KNOWN) expect(keep({ category: c, attributes: {} })).toBe(allowed.has(c.toLowerCase()));
    }
  });

  it('mergeCategoryParam: the legacy parameter means a category in condition', () => {
    expect(mergeCategoryParam(undefined, undefined)).toBeUndefined();
    const f = parseFilter({ brand: 'Acme' });
    expect(mergeCategoryParam(f, undefined)).toBe(f);
    expect(mergeCategoryParam(f, ' , ')).toBe(f);
    expect(mergeCategoryParam(f, [])).toBe(f);
    expect(mergeCategoryParam(undefined, 'Dress, Bag')).toEqual({ category: { in: ['Dress', 'Bag'] } });
    expect(mergeCategoryParam(f, ['Dress', 'Bag,Dress'])).toEqual({
      brand: { eq: 'Acme' },
      category: { in: ['Dress', 'Bag'] },
    });
    expect(f).toEqual({ brand: { eq: 'Acme' } }); // not mutated
    // AND with an existing category condition
    expect(mergeCategoryParam(parseFilter({ category: { in: ['Dress', 'Bag'] } }), 'bag,Coat')).toEqual({
      category: { in: ['Bag'] },
    });
    expect(mergeCategoryParam(parseFilter({ category: 'Sneaker' }), 'Dress')).toEqual({
      category: { eq: 'Sneaker', in: ['Dress'] },
    });
    // same meaning as writing the condition
    for (const param of ['Sneaker', 'Dress,Bag', 'Sneaker,Bag']) {
      const viaParam = compileFilter(mergeCategoryParam(parseFilter({ brand: { nin: ['X'] } }), param)!);
      const written = compileFilter(
        parseFilter({ brand: { nin: ['X'] }, category: { in: param.split(',') } }),
      );
      for (const item of Object.values(ITEMS)) expect(viaParam(item)).toBe(written(item));
    }
  });

  it('prepareFilter: filter and parameter, resolved to the catalog names', () => {
    expect(prepareFilter(undefined, undefined, KNOWN)).toBeUndefined();
    expect(prepareFilter(undefined, '3,bag', KNOWN)).toEqual({ category: { in: ['Dress', 'Bag'] } });
    expect(prepareFilter(parseFilter({ category: { in: ['DRESS', 'Sneaker'] } }), '3', KNOWN)).toEqual({
      category: { in: ['Dress'] },
    });
    expect(prepareFilter(parseFilter({ price: { lt: 80 } }), undefined, KNOWN)).toEqual({
      price: { lt: 80 },
    });
    expectValidationError(
      () => prepareFilter(undefined, 'Dress,Hat', KNOWN),
      'UNKNOWN_CATEGORY',
      "category: unknown category 'Hat'; known: Sneaker, Dress, Bag",
    );
    expectValidationError(
      () => prepareFilter(parseFilter({ category: 'Hat' }), 'Dress', KNOWN),
      'UNKNOWN_CATEGORY',
      /^filter\.category: unknown category 'Hat'/,
    );
  });
});
