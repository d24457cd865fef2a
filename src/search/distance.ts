/**
 * Euclidean distance for the search modules (MMR, recommendation strategies):
 * float64 accumulation of subtract-then-square, like `ExactIndex`, so results
 * agree with the index's distances to float32 precision.
 */
import { ValidationError } from '../errors.ts';
import type { Vector } from '../index/vectorIndex.ts';

export function euclidean(a: Vector, b: Vector): number {
  if (a.length !== b.length) {
    throw new ValidationError(
      `vector has ${b.length} dimensions, expected ${a.length}`,
      'DIMENSION_MISMATCH',
    );
  }
  let sum = 0;
  for (let j = 0; j < a.length; j++) {
    const d = a[j] - b[j];
    sum += d * d;
  }
  return Math.sqrt(sum);
}
