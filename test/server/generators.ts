/**
 * Seeded generators of request values for the property and hostile-input
 * tests: for a JSON-schema'd parameter (as the served OpenAPI document
 * describes it), valid values, boundary values and hostile ones, as query or
 * path text or as raw JSON fragments (so that `1e400` reaches the server as
 * written).
 */

/** The project's deterministic PRNG (mulberry32), seeded per test. */
export { createRng as rng } from '../../src/data/random.ts';

export type Random = () => number;

export function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

export function int(random: Random, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

export interface ParamSchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  items?: ParamSchema;
  maxItems?: number;
  minItems?: number;
  properties?: Record<string, ParamSchema>;
  anyOf?: ParamSchema[];
}

/** Query-string numbers that must never pass as numbers (each is 400 on every numeric parameter). */
export const BAD_NUMBERS = [
  'Infinity',
  '-Infinity',
  'NaN',
  '1e400',
  '-1e400',
  '0x10',
  '0b11',
  '0o7',
  ' 5',
  '5 ',
  '\t5',
  '5\n',
  '+5',
  '',
  '1_000',
  '1,5',
  '.5',
  '5.',
  'five',
  '5abc',
  'null',
  'true',
  '[5]',
  '１２', // full-width digits
];
/** Also refused for integers, though they are numbers. */
export const BAD_INTEGERS = [...BAD_NUMBERS, '1.0', '1.5', '1e1', '2E0', '9007199254740993', '-0.0'];

/** Strings that probe for injection, traversal, encoding and parser bugs. */
export const HOSTILE_STRINGS = [
  "' OR '1'='1",
  '1; DROP TABLE items; --',
  '"; SELECT * FROM sqlite_master; --',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  '\u0000',
  '\r\nX-Injected: 1',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the probe.
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '🧥👟👗'.repeat(10),
  '\ud800',
  'A'.repeat(201),
  'A'.repeat(5000),
  ' ',
  '*',
  '%',
  '%%%%',
  '%E0%A4%A',
  '\\',
  '/',
  '?',
  '#',
  '&',
  '=',
  'null',
  '-1',
  '0',
  '1e400',
  '[]',
  '{}',
  '{"$where":"sleep(1000)"}',
  'fmnist-test-00001/../../admin',
];

/** Raw JSON fragments of every kind, for body fields (each must be refused or handled, never a 5xx). */
export const JSON_FRAGMENTS = [
  'null',
  'true',
  'false',
  '0',
  '-1',
  '1.5',
  '1e400',
  '-1e400',
  '1e-400',
  '9007199254740993',
  '""',
  '"5"',
  '"Infinity"',
  '"NaN"',
  '[]',
  '[5]',
  '[[[[[[[[[[]]]]]]]]]]',
  '{}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  JSON.stringify('x'.repeat(10_000)),
  JSON.stringify(Array.from({ length: 1000 }, (_, i) => `id-${i}`)),
  JSON.stringify(Array.from({ length: 200 }, () => 1)),
  JSON.stringify({ a: { b: { c: { d: { e: { f: { g: 1 } } } } } } }),
  `${'['.repeat(3000)}${']'.repeat(3000)}`,
  `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`,
];

function randomText(random: Random, length: number): string {
  const alphabets = [
    'abcdefghijklmnopqrstuvwxyz0123456789',
    'ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:',
    ' !"#$%&\'()*+,/;<=>?@[\\]^`{|}~',
    'éàüßçñøå',
    '漢字かなカナ한국어',
    '\u0000\u0001\u001f\u007f',
  ];
  let out = '';
  for (let i = 0; i < length; i++) out += pick(random, pick(random, alphabets).split(''));
  return out;
}

/** A text value (query or path) for a parameter of this schema; `valid` is a known-good value. */
export function textValue(random: Random, schema: ParamSchema, valid: string): string {
  const roll = random();
  if (schema.type === 'integer' || schema.type === 'number') {
    const lo = schema.minimum ?? -1000;
    const hi = schema.maximum ?? 1000;
    if (roll < 0.3) return String(int(random, lo, hi));
    if (roll < 0.45) return pick(random, [String(lo - 1), String(hi + 1), String(lo), String(hi)]);
    if (roll < 0.55 && schema.type === 'number') return String(lo + random() * (hi - lo));
    return pick(random, schema.type === 'integer' ? BAD_INTEGERS : BAD_NUMBERS);
  }
  if (schema.enum && roll < 0.4) return String(pick(random, schema.enum));
  if (roll < 0.25) return valid;
  if (roll < 0.55) return pick(random, HOSTILE_STRINGS);
  if (roll < 0.65 && schema.maxLength !== undefined) {
    return 'a'.repeat(schema.maxLength + pick(random, [0, 1, 100]));
  }
  return randomText(random, int(random, 0, 300));
}

/** A raw JSON fragment for a body field of this schema; `valid` is a known-good value. */
export function jsonValue(random: Random, schema: ParamSchema, valid: unknown): string {
  const roll = random();
  if (roll < 0.2 && valid !== undefined) return JSON.stringify(valid);
  if (roll < 0.55) return pick(random, JSON_FRAGMENTS);
  if (schema.type === 'integer' || schema.type === 'number') {
    const lo = schema.minimum ?? -1000;
    const hi = schema.maximum ?? 1000;
    return pick(random, [
      String(lo - 1),
      String(hi + 1),
      String(lo),
      String(hi),
      String(lo + random() * (hi - lo)),
    ]);
  }
  if (schema.type === 'array') {
    const n = pick(random, [0, 1, (schema.maxItems ?? 10) + 1, int(random, 0, 5)]);
    const item = Array.isArray(valid) && valid.length > 0 ? valid[0] : 'x';
    return JSON.stringify(
      Array.from({ length: n }, () => (random() < 0.5 ? item : pick(random, HOSTILE_STRINGS))),
    );
  }
  return JSON.stringify(pick(random, HOSTILE_STRINGS));
}

/** `JSON.stringify(value)` with the field at `path` replaced by the raw JSON `fragment`. */
export function withFragment(value: unknown, path: (string | number)[], fragment: string): string {
  const marker = '__FRAGMENT_MARKER_7f3a__';
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = marker;
  return JSON.stringify(copy).replace(`"${marker}"`, fragment);
}

/** encodeURIComponent, with lone surrogates (which it refuses) sent as U+FFFD, as a browser would. */
export function encode(value: string): string {
  return encodeURIComponent(
    value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}
