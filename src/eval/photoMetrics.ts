import { ValidationError } from '../errors.ts';

/**
 * Figures of the photo robustness evaluation (issue 16 item 5), per query, for `meanByClass` to average:
 * - exact-item hit@k: 1 when the query's own catalog item is among its k nearest, else 0; the mean over the
 *   queries is exact-item recall@k (each photo has exactly one relevant item);
 * - category precision@k: the share of the k nearest whose label is the query's.
 */

/** hits[q] = 1 when targets[q] is among the first `atK` of query q's `k` ranked gallery indices. */
export function exactItemHits(
  indices: Int32Array,
  k: number,
  targets: ArrayLike<number>,
  atK: number = k,
): Float64Array {
  if (indices.length !== targets.length * k) {
    throw new ValidationError(`ranked indices: expected ${targets.length} x ${k}, got ${indices.length}`);
  }
  if (!Number.isInteger(atK) || atK < 1 || atK > k) throw new ValidationError(`atK must be in [1, ${k}]`);
  const hits = new Float64Array(targets.length);
  for (let q = 0; q < targets.length; q++) {
    for (let i = 0; i < atK; i++) {
      if (indices[q * k + i] === targets[q]) {
        hits[q] = 1;
        break;
      }
    }
  }
  return hits;
}

/** precision[q] = share of the first k of query q's `depth` ranked labels that equal queryLabels[q]. */
export function categoryPrecision(
  labels: Uint8Array,
  depth: number,
  queryLabels: ArrayLike<number>,
  k: number,
): Float64Array {
  if (labels.length !== queryLabels.length * depth) {
    throw new ValidationError(
      `ranked labels: expected ${queryLabels.length} x ${depth}, got ${labels.length}`,
    );
  }
  if (!Number.isInteger(k) || k < 1 || k > depth) throw new ValidationError(`k must be in [1, ${depth}]`);
  const out = new Float64Array(queryLabels.length);
  for (let q = 0; q < queryLabels.length; q++) {
    let same = 0;
    for (let i = 0; i < k; i++) if (labels[q * depth + i] === queryLabels[q]) same++;
    out[q] = same / k;
  }
  return out;
}

export interface ClassMeans {
  overall: number;
  /** Indexed by class; NaN for a class with no query. */
  perClass: number[];
}

/** The mean of per-query values overall and per query class. */
export function meanByClass(
  values: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): ClassMeans {
  if (values.length !== labels.length) {
    throw new ValidationError(`${values.length} values for ${labels.length} labels`);
  }
  const sums = new Array<number>(numClasses).fill(0);
  const counts = new Array<number>(numClasses).fill(0);
  let total = 0;
  for (let q = 0; q < values.length; q++) {
    if (labels[q] >= numClasses)
      throw new ValidationError(`label ${labels[q]} is outside [0, ${numClasses})`);
    sums[labels[q]] += values[q];
    counts[labels[q]]++;
    total += values[q];
  }
  return {
    overall: values.length > 0 ? total / values.length : Number.NaN,
    perClass: sums.map((s, c) => (counts[c] > 0 ? s / counts[c] : Number.NaN)),
  };
}
