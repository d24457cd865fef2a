import { ValidationError } from '../errors.ts';
import type { Vector } from './vectorIndex.ts';

export function checkDimension(vector: Vector, dim: number): void {
  if (vector.length !== dim) {
    throw new ValidationError(
      `vector has ${vector.length} values, the index expects ${dim}`,
      'INVALID_VECTOR',
    );
  }
}

export function checkQuery(vector: Vector, dim: number, k: number): void {
  checkDimension(vector, dim);
  if (!Number.isInteger(k) || k < 1) throw new ValidationError('k must be a positive integer', 'INVALID_K');
  for (let i = 0; i < vector.length; i++) {
    if (!Number.isFinite(vector[i])) {
      throw new ValidationError('vector contains a non-finite value', 'INVALID_VECTOR');
    }
  }
}

export function checkLabel(label: number): void {
  if (!Number.isSafeInteger(label) || label < 0) {
    throw new ValidationError(`label must be a non-negative integer, got ${label}`, 'INVALID_LABEL');
  }
}

/** An empty category list means "no filter", so callers can pass query params through unchanged. */
export function categorySet(categories: readonly string[] | undefined): Set<string> | null {
  return categories && categories.length > 0 ? new Set(categories) : null;
}
