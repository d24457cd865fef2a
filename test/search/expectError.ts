import { expect } from 'vitest';
import { ValidationError } from '../../src/errors.ts';

/** Asserts `fn` throws a 400 ValidationError with this code and exactly this message (or matching it). */
export function expectValidationError(fn: () => unknown, code: string, message: string | RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a ValidationError').toBeInstanceOf(ValidationError);
  const err = thrown as ValidationError;
  expect(err.status).toBe(400);
  expect(err.code).toBe(code);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}
