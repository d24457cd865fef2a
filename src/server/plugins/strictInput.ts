/**
 * Strict parsing of query strings and path parameters. The app's Ajv does not
 * coerce types (`coerceTypes: false`): Ajv's coercion lets `Infinity`, `1e400`,
 * `0x10`, ` 5` and `1.0` through as numbers and turns `true` into 1. Instead,
 * a `preValidation` hook added to every route with a query or params schema
 * converts only canonical text: integers as decimal digits (`-?(0|[1-9][0-9]*)`,
 * safe integers), numbers as decimals with an optional exponent that stay
 * finite, booleans as `true`/`false`, and a single value of an array parameter
 * to a one-element array. Anything else stays a string and fails the schema:
 * 400 `VALIDATION_ERROR` with the envelope. JSON bodies are not converted at
 * all: their types are checked as sent.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';

interface PropertySchema {
  type?: string;
  items?: PropertySchema;
}

type Convert = (value: unknown) => unknown;

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** A canonical integer as a number; anything else unchanged (the schema then refuses it). */
export function strictInteger(value: unknown): unknown {
  if (typeof value !== 'string' || value.length > 20 || !INTEGER.test(value)) return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/** A canonical finite decimal as a number; anything else unchanged. */
export function strictNumber(value: unknown): unknown {
  if (typeof value !== 'string' || value.length > 40 || !NUMBER.test(value)) return value;
  const n = Number(value);
  return Number.isFinite(n) ? n : value;
}

function strictBoolean(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

function scalar(schema: PropertySchema): Convert | null {
  switch (schema.type) {
    case 'integer':
      return strictInteger;
    case 'number':
      return strictNumber;
    case 'boolean':
      return strictBoolean;
    default:
      return null;
  }
}

function converter(schema: PropertySchema): Convert | null {
  if (schema.type !== 'array') return scalar(schema);
  const item = schema.items ? scalar(schema.items) : null;
  return (value) => {
    const list = Array.isArray(value) ? value : [value];
    return item ? list.map(item) : list;
  };
}

/** Converters by property of an object schema; null when nothing needs converting. */
function converters(schema: unknown): Map<string, Convert> | null {
  const properties = (schema as { properties?: Record<string, PropertySchema> } | undefined)?.properties;
  if (!properties) return null;
  const out = new Map<string, Convert>();
  for (const [name, property] of Object.entries(properties)) {
    const convert = converter(property);
    if (convert) out.set(name, convert);
  }
  return out.size > 0 ? out : null;
}

function apply(target: unknown, convert: Map<string, Convert>): void {
  if (!target || typeof target !== 'object') return;
  const record = target as Record<string, unknown>;
  for (const [name, fn] of convert) {
    if (Object.hasOwn(record, name) && record[name] !== undefined) record[name] = fn(record[name]);
  }
}

function addPreValidation(route: RouteOptions, hook: (request: FastifyRequest) => Promise<void>): void {
  const existing = route.preValidation;
  // First, so that other preValidation hooks see the converted values.
  route.preValidation = existing ? [hook, ...(Array.isArray(existing) ? existing : [existing])] : [hook];
}

export const strictInputPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      const query = converters(route.schema?.querystring);
      const params = converters(route.schema?.params);
      if (!query && !params) return;
      addPreValidation(route, async (request) => {
        if (query) apply(request.query, query);
        if (params) apply(request.params, params);
      });
    });
  },
  { name: 'strict-input' },
);
