import { squaredDistanceWithin, TopK } from './topK.ts';
import type { SearchHit, Vector } from './vectorIndex.ts';
import type { VectorTable } from './vectorTable.ts';

/**
 * Exact k nearest among `labels` (their vectors read from `table`; labels
 * without one are skipped), nearest first, ties by label: the search for a
 * filter that matches few items, where an approximate graph walk would visit
 * mostly rejected nodes. Float64 accumulation, like ExactIndex.
 */
export function scanNearest(
  table: VectorTable,
  labels: ArrayLike<number>,
  query: Vector,
  k: number,
): SearchHit[] {
  const q = Float64Array.from(query);
  const top = new TopK(k);
  for (let i = 0; i < labels.length; i++) {
    const v = table.get(labels[i]);
    if (!v) continue;
    const bound = top.bound;
    const sum = squaredDistanceWithin(v, 0, q, bound);
    if (sum <= bound) top.push(sum, labels[i]);
  }
  return top.labels.map((label, i) => ({ label, distance: Math.sqrt(top.distances[i]) }));
}
