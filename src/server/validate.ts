/**
 * Validation of request parts Fastify's schema cannot see (multipart fields,
 * a JSON body on a route that also takes multipart), with the same schemas
 * and a message naming the offending field.
 */
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { ValidationError } from '../errors.ts';

export function checkSchema<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const first = [...Value.Errors(schema, value)][0];
  const field =
    first.instancePath.replace(/^\//, '').replaceAll('/', '.') ||
    (first.params as { requiredProperties?: string[] }).requiredProperties?.[0];
  throw new ValidationError(`${what} ${field ?? ''}: ${first.message}`.replace(/\s+:/, ':'));
}
