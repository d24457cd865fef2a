/**
 * Maximal marginal relevance: re-ranks nearest-neighbour candidates so that
 * results are relevant to the query but not near-duplicates of each other.
 *
 * With λ = `diversity` in [0, 1], d(q, c) the euclidean distance from the
 * query to candidate c, d(c, s) between two candidates, and
 *
 *   D        = 2 · max over the candidate pool of d(q, c)   (1 if that is 0)
 *   rel(c)   = 1 − d(q, c) / D                              in [0.5, 1]
 *   sim(c,s) = 1 − d(c, s) / D                              in [0, 1]   (triangle inequality)
 *
 * the first result is the nearest candidate, and each next one is the
 * unselected candidate c maximising
 *
 *   mmr(c) = (1 − λ) · rel(c) − λ · max over selected s of sim(c, s).
 *
 * D only rescales: the ranking is that of λ · min_s d(c, s) − (1 − λ) · d(q, c),
 * so it does not change when the embedding space is scaled. λ = 0 is the
 * plain ranking by distance; λ = 1 ignores relevance after the first pick and
 * takes the candidate farthest from everything selected (farthest-point
 * sampling within the pool). Ties go to the smaller distance, then the
 * smaller label. Results come in selection order, so distances need not be
 * ascending when λ > 0; `distance` stays the distance to the query.
 *
 * Greedy selection makes every shorter result a prefix of a longer one over
 * the same pool, which is what keeps pages consistent (see resultControls.ts).
 * Cost: O(n · k · dim) for n candidates.
 */
import { ValidationError } from '../errors.ts';
import type { Vector } from '../index/vectorIndex.ts';
import { euclidean } from './distance.ts';

export interface MmrCandidate {
  label: number;
  /** Euclidean distance to the query. */
  distance: number;
  vector: Vector;
}

/** Throws `ValidationError` code `INVALID_DIVERSITY` unless 0 ≤ diversity ≤ 1. */
export function checkDiversity(diversity: number, path = 'diversity'): number {
  if (typeof diversity !== 'number' || !(diversity >= 0 && diversity <= 1)) {
    throw new ValidationError(`${path} must be a number between 0 and 1`, 'INVALID_DIVERSITY');
  }
  return diversity;
}

/** Plain ranking order: distance, then label. */
export function byDistance(
  a: { distance: number; label: number },
  b: { distance: number; label: number },
): number {
  return a.distance - b.distance || a.label - b.label;
}

/** The first min(k, candidates) candidates in MMR order (see the module comment). */
export function mmr<T extends MmrCandidate>(candidates: readonly T[], k: number, diversity: number): T[] {
  checkDiversity(diversity);
  if (!Number.isInteger(k) || k < 0) throw new ValidationError('k must be an integer ≥ 0', 'INVALID_K');
  const order = [...candidates].sort(byDistance);
  const take = Math.min(k, order.length);
  if (diversity === 0 || take === 0) return order.slice(0, take);

  const n = order.length;
  const maxDistance = order[n - 1].distance;
  const D = maxDistance > 0 ? 2 * maxDistance : 1;
  const lambda = diversity;
  const rel = order.map((c) => 1 - c.distance / D);
  const maxSim = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const chosen = new Uint8Array(n);
  const out: T[] = [];
  let pick = 0; // the nearest candidate comes first
  for (;;) {
    chosen[pick] = 1;
    const s = order[pick];
    out.push(s);
    if (out.length === take) return out;
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    // `order` is sorted by (distance, label), so a strict > leaves ties to the nearer, then lower label.
    for (let i = 0; i < n; i++) {
      if (chosen[i]) continue;
      const sim = 1 - euclidean(s.vector, order[i].vector) / D;
      if (sim > maxSim[i]) maxSim[i] = sim;
      const score = (1 - lambda) * rel[i] - lambda * maxSim[i];
      if (best < 0 || score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    pick = best;
  }
}
