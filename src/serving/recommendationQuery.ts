/** The query vector of "like these, unlike those" recommendations. */
/** How far the query moves away from the negatives, relative to the positives' centroid. */
export const NEGATIVE_WEIGHT = 0.5;

/**
 * The query of POST /recommendations: q = p + w·(p − n), where p and n are the
 * centroids of the positive and negative embeddings and w = NEGATIVE_WEIGHT
 * (q = p without negatives). Moving from the positives' centroid directly away
 * from the negatives' keeps the query near the positives, whatever the scale
 * of the embedding space.
 */
export function recommendationQuery(
  positives: readonly Float32Array[],
  negatives: readonly Float32Array[],
  weight = NEGATIVE_WEIGHT,
): Float32Array {
  const dim = positives[0].length;
  const centroid = (vs: readonly Float32Array[]) => {
    const c = new Float64Array(dim);
    for (const v of vs) for (let j = 0; j < dim; j++) c[j] += v[j] / vs.length;
    return c;
  };
  const p = centroid(positives);
  const q = new Float32Array(dim);
  if (negatives.length === 0) {
    q.set(p);
    return q;
  }
  const n = centroid(negatives);
  for (let j = 0; j < dim; j++) q[j] = p[j] + weight * (p[j] - n[j]);
  return q;
}
