import { ValidationError } from '../errors.ts';

/**
 * Retrieval metrics as defined by Musgrave et al. 2020, "A Metric Learning Reality Check":
 * for a query of class c, R = number of gallery items of class c (minus the query itself under
 * leave-one-out); rel(i) = 1 when the i-th nearest neighbour has class c; P(i) = precision at i.
 * - Precision@1 = rel(1); Precision@10 = (1/10) sum_{i<=10} rel(i)
 * - R-Precision = (1/R) sum_{i<=R} rel(i)
 * - MAP@R = (1/R) sum_{i<=R} P(i) rel(i)
 * - kNN accuracy: majority class among the 10 nearest; among tied classes the one whose member is
 *   ranked nearest wins (so with k=1 it is the nearest neighbour's class).
 * Queries whose R is 0 (no other item of their class) have no answer to rank; as in
 * pytorch-metric-learning they are left out of every average and counted in `excludedQueries`.
 */
export interface MetricSet {
  queries: number;
  precisionAt1: number;
  precisionAt10: number;
  rPrecision: number;
  mapAtR: number;
  knnAccuracy: number;
}

export interface RetrievalMetrics {
  overall: MetricSet;
  /** Indexed by class; averages over the queries of that class. */
  perClass: MetricSet[];
  /** confusion[trueClass][class of the nearest neighbour] = number of queries. */
  confusion: number[][];
  knnK: number;
  excludedQueries: number;
}

export interface RankedLabels {
  /** queryCount * depth labels of each query's neighbours, nearest first (query itself excluded). */
  labels: Uint8Array;
  depth: number;
  queryLabels: Uint8Array;
  /** Number of gallery items per class (index = class). */
  galleryClassCounts: ArrayLike<number>;
  /** The gallery contains the queries themselves: R is one less. */
  leaveOneOut: boolean;
}

export interface QueryScores {
  precisionAt1: number;
  precisionAt10: number;
  rPrecision: number;
  mapAtR: number;
  knnPrediction: number;
}

export const KNN_K = 10;

/** Counts of each label value 0..numClasses-1. */
export function classCounts(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of labels) {
    if (l >= numClasses) throw new ValidationError(`label ${l} is outside [0, ${numClasses})`);
    counts[l]++;
  }
  return counts;
}

/**
 * Majority vote among the first k labels; ties go to the tied class with the nearest member.
 */
export function knnVote(ranked: ArrayLike<number>, offset: number, k: number, numClasses: number): number {
  const votes = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < k; i++) votes[ranked[offset + i]]++;
  let best = ranked[offset];
  for (let i = 1; i < k; i++) {
    const c = ranked[offset + i];
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

/** Scores of one query from its ranked neighbour labels starting at `offset`. */
export function scoreQuery(
  ranked: ArrayLike<number>,
  offset: number,
  queryLabel: number,
  r: number,
  numClasses: number,
  knnK = KNN_K,
): QueryScores {
  let hits = 0;
  let top10 = 0;
  let apSum = 0;
  const n = Math.max(r, 10);
  for (let i = 0; i < n; i++) {
    const rel = ranked[offset + i] === queryLabel;
    if (i < r && rel) {
      hits++;
      apSum += hits / (i + 1);
    }
    if (i < 10 && rel) top10++;
  }
  return {
    precisionAt1: ranked[offset] === queryLabel ? 1 : 0,
    precisionAt10: top10 / 10,
    rPrecision: hits / r,
    mapAtR: apSum / r,
    knnPrediction: knnVote(ranked, offset, knnK, numClasses),
  };
}

function emptySet(): MetricSet {
  return { queries: 0, precisionAt1: 0, precisionAt10: 0, rPrecision: 0, mapAtR: 0, knnAccuracy: 0 };
}

function addTo(set: MetricSet, s: QueryScores, label: number): void {
  set.queries++;
  set.precisionAt1 += s.precisionAt1;
  set.precisionAt10 += s.precisionAt10;
  set.rPrecision += s.rPrecision;
  set.mapAtR += s.mapAtR;
  set.knnAccuracy += s.knnPrediction === label ? 1 : 0;
}

function averaged(set: MetricSet): MetricSet {
  const n = set.queries || 1;
  return {
    queries: set.queries,
    precisionAt1: set.precisionAt1 / n,
    precisionAt10: set.precisionAt10 / n,
    rPrecision: set.rPrecision / n,
    mapAtR: set.mapAtR / n,
    knnAccuracy: set.knnAccuracy / n,
  };
}

/** The depth of ranked labels that retrievalMetrics needs: the largest R, and at least 10. */
export function requiredDepth(
  galleryClassCounts: ArrayLike<number>,
  leaveOneOut: boolean,
  knnK = KNN_K,
): number {
  let maxR = 0;
  for (let c = 0; c < galleryClassCounts.length; c++) {
    maxR = Math.max(maxR, galleryClassCounts[c] - (leaveOneOut ? 1 : 0));
  }
  return Math.max(maxR, 10, knnK);
}

/** All metrics, overall and per class, plus the nearest-neighbour confusion matrix. */
export function retrievalMetrics(input: RankedLabels, knnK = KNN_K): RetrievalMetrics {
  const { labels, depth, queryLabels, galleryClassCounts, leaveOneOut } = input;
  const numClasses = galleryClassCounts.length;
  const queryCount = queryLabels.length;
  if (labels.length !== queryCount * depth) {
    throw new ValidationError(
      `ranked labels: expected ${queryCount} x ${depth} entries, got ${labels.length}`,
    );
  }
  if (knnK < 1 || knnK > depth) throw new ValidationError(`knnK must be in [1, ${depth}], got ${knnK}`);
  const overall = emptySet();
  const perClass = Array.from({ length: numClasses }, emptySet);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let excludedQueries = 0;
  for (let q = 0; q < queryCount; q++) {
    const label = queryLabels[q];
    if (label >= numClasses)
      throw new ValidationError(`query ${q}: label ${label} has no gallery class count`);
    const r = galleryClassCounts[label] - (leaveOneOut ? 1 : 0);
    if (r <= 0) {
      excludedQueries++;
      continue;
    }
    if (Math.max(r, 10) > depth) {
      throw new ValidationError(
        `query ${q}: R = ${r} needs ${Math.max(r, 10)} ranked labels, only ${depth} given`,
      );
    }
    const s = scoreQuery(labels, q * depth, label, r, numClasses, knnK);
    addTo(overall, s, label);
    addTo(perClass[label], s, label);
    confusion[label][labels[q * depth]]++;
  }
  return {
    overall: averaged(overall),
    perClass: perClass.map(averaged),
    confusion,
    knnK,
    excludedQueries,
  };
}
