/**
 * Recommendation by example: how positive ("more like these") and negative
 * ("fewer like those") example embeddings turn into results.
 *
 * average_vector: one query vector, searched like an image query,
 *   q = p + w · (p − n)
 * with p and n the centroids (means) of the positive and negative embeddings
 * and w = DEFAULT_NEGATIVE_WEIGHT (0.5); q = p without negatives. The query
 * starts at what the positives share and moves directly away from the
 * negatives, by a step proportional to their separation, whatever the scale
 * of the embedding space.
 *
 * best_score: each candidate is scored against every example, with the
 * euclidean-derived similarity sim(d) = 1 / (1 + d) (in (0, 1], 1 at d = 0):
 *   P = max over positives of sim(d(c, positive))   (−∞ without positives)
 *   N = max over negatives of sim(d(c, negative))   (−∞ without negatives)
 *   score(c) = P     when P > N   (nearer to some positive than to every negative)
 *            = −N    otherwise
 * and results are ordered by score, highest first (ties by label). Every
 * candidate closer to a positive than to any negative ranks above every other
 * one; the former by closeness to their nearest positive, the latter by
 * distance from their nearest negative, farthest first. Since sim is
 * decreasing and positive, the ORDER is that of the distances alone and does
 * not change when the embedding space is scaled (the score values do).
 * This is Qdrant's best_score with 1/(1+d) in place of its sigmoid of the
 * similarity. Negatives alone are allowed (score = −N: farthest from the
 * negatives first). Candidates should come from the neighbourhoods of the
 * positives (the union of each positive's nearest neighbours), not from one
 * averaged query.
 */
import { ValidationError } from '../errors.ts';
import type { Vector } from '../index/vectorIndex.ts';
import { euclidean } from './distance.ts';

/** How far average_vector's query moves away from the negatives, relative to the positives' centroid. */
export const DEFAULT_NEGATIVE_WEIGHT = 0.5;

export const STRATEGIES = ['average_vector', 'best_score'] as const;
export type RecommendStrategy = (typeof STRATEGIES)[number];

function mismatch(got: number, want: number): ValidationError {
  return new ValidationError(`vector has ${got} dimensions, expected ${want}`, 'DIMENSION_MISMATCH');
}

/** The mean of equally long vectors, in float64. */
export function centroid(vectors: readonly Vector[]): Float64Array {
  if (vectors.length === 0) throw new ValidationError('no vectors to average', 'NO_EXAMPLES');
  const dim = vectors[0].length;
  const c = new Float64Array(dim);
  for (const v of vectors) {
    if (v.length !== dim) throw mismatch(v.length, dim);
    for (let j = 0; j < dim; j++) c[j] += v[j];
  }
  for (let j = 0; j < dim; j++) c[j] /= vectors.length;
  return c;
}

/** average_vector's query q = p + w · (p − n); q = p without negatives. Needs a positive. */
export function averageVector(
  positives: readonly Vector[],
  negatives: readonly Vector[] = [],
  weight = DEFAULT_NEGATIVE_WEIGHT,
): Float32Array {
  if (positives.length === 0) {
    throw new ValidationError('average_vector needs at least one positive example', 'NO_POSITIVE_EXAMPLES');
  }
  if (!Number.isFinite(weight)) throw new ValidationError('weight must be a finite number', 'INVALID_WEIGHT');
  const p = centroid(positives);
  const q = Float32Array.from(p);
  if (negatives.length === 0) return q;
  const n = centroid(negatives);
  if (n.length !== p.length) throw mismatch(n.length, p.length);
  for (let j = 0; j < p.length; j++) q[j] = p[j] + weight * (p[j] - n[j]);
  return q;
}

/** best_score's similarity of a euclidean distance: 1 / (1 + d). */
export function similarity(distance: number): number {
  return 1 / (1 + distance);
}

function bestSimilarity(candidate: Vector, examples: readonly Vector[]): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const e of examples) {
    const s = similarity(euclidean(candidate, e));
    if (s > best) best = s;
  }
  return best;
}

/** best_score of one candidate (see the module comment). Needs at least one example. */
export function bestScore(
  candidateVector: Vector,
  positives: readonly Vector[],
  negatives: readonly Vector[] = [],
): number {
  if (positives.length === 0 && negatives.length === 0) {
    throw new ValidationError('best_score needs at least one example', 'NO_EXAMPLES');
  }
  const p = bestSimilarity(candidateVector, positives);
  const n = bestSimilarity(candidateVector, negatives);
  return p > n ? p : -n;
}

/**
 * The k best candidates by best_score, highest first, ties by label; each
 * returned with its `score`. Duplicate labels are scored once.
 */
export function rankBestScore<T extends { label: number; vector: Vector }>(
  candidates: readonly T[],
  positives: readonly Vector[],
  negatives: readonly Vector[],
  k: number,
): (T & { score: number })[] {
  const seen = new Set<number>();
  const scored: (T & { score: number })[] = [];
  for (const c of candidates) {
    if (seen.has(c.label)) continue;
    seen.add(c.label);
    scored.push({ ...c, score: bestScore(c.vector, positives, negatives) });
  }
  scored.sort((a, b) => b.score - a.score || a.label - b.label);
  return scored.slice(0, Math.max(0, k));
}
