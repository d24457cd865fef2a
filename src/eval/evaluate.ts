import { IMAGE_PIXELS, NUM_CLASSES } from '../data/classes.ts';
import type { ImageSet } from '../data/types.ts';
import { exactSearch, type VectorArray } from './exactSearch.ts';
import { classCounts, type RetrievalMetrics, requiredDepth, retrievalMetrics } from './metrics.ts';

/** Rows of vectors with a class label each. */
export interface LabeledVectors {
  vectors: VectorArray;
  labels: Uint8Array;
  dim: number;
}

export interface SearchRun extends RetrievalMetrics {
  queryCount: number;
  galleryCount: number;
  searchSeconds: number;
  /** Mean euclidean distance from a query to its nearest gallery item (near 0: a collapsed embedding). */
  meanNearestDistance: number;
}

export interface RetrievalEvaluation {
  dim: number;
  /** Queries against a separate gallery (test images against training images). */
  testVsTrain: SearchRun;
  /** Every query against the other queries (test set leave-one-out). */
  leaveOneOut: SearchRun;
  /** Nearest gallery items of each query in testVsTrain: queryCount * k indices and distances. */
  nearest: { k: number; indices: Int32Array; distances: Float64Array };
}

export type ProgressFn = (stage: string, done: number, total: number) => void;

export interface EvaluateOptions {
  workers?: number;
  /** Neighbours kept per query for pictures (default 10). */
  keepNearest?: number;
  onProgress?: ProgressFn;
}

function rowsOf(set: LabeledVectors): number {
  return set.labels.length;
}

async function searchAndScore(
  stage: string,
  queries: LabeledVectors,
  gallery: LabeledVectors,
  leaveOneOut: boolean,
  keep: number,
  options: EvaluateOptions,
): Promise<{ run: SearchRun; indices: Int32Array; distances: Float64Array }> {
  const counts = classCounts(gallery.labels, NUM_CLASSES);
  const depth = Math.min(requiredDepth(counts, leaveOneOut), rowsOf(gallery) - (leaveOneOut ? 1 : 0));
  const total = rowsOf(queries);
  let done = 0;
  const started = performance.now();
  const result = await exactSearch(queries.vectors, gallery.vectors, queries.dim, {
    k: Math.min(keep, depth),
    galleryLabels: gallery.labels,
    labelDepth: depth,
    leaveOneOut,
    workers: options.workers,
    onProgress: (n) => {
      done += n;
      options.onProgress?.(stage, done, total);
    },
  });
  const searchSeconds = (performance.now() - started) / 1000;
  const metrics = retrievalMetrics({
    labels: result.labels!,
    depth,
    queryLabels: queries.labels,
    galleryClassCounts: counts,
    leaveOneOut,
  });
  let nearestSum = 0;
  for (let q = 0; q < total; q++) nearestSum += result.distances[q * result.k];
  return {
    run: {
      ...metrics,
      queryCount: total,
      galleryCount: rowsOf(gallery),
      searchSeconds,
      meanNearestDistance: nearestSum / total,
    },
    indices: result.indices,
    distances: result.distances,
  };
}

/**
 * Exact-search retrieval metrics of an embedding: queries against the gallery, and the queries
 * leave-one-out among themselves.
 */
export async function evaluateRetrieval(
  queries: LabeledVectors,
  gallery: LabeledVectors,
  options: EvaluateOptions = {},
): Promise<RetrievalEvaluation> {
  const keep = options.keepNearest ?? 10;
  const main = await searchAndScore('search test→train', queries, gallery, false, keep, options);
  const loo = await searchAndScore('search test leave-one-out', queries, queries, true, 1, options);
  return {
    dim: queries.dim,
    testVsTrain: main.run,
    leaveOneOut: loo.run,
    nearest: { k: main.indices.length / rowsOf(queries), indices: main.indices, distances: main.distances },
  };
}

export interface EmbeddingStats {
  /** Mean euclidean norm of the vectors. */
  meanNorm: number;
  /** Standard deviation of each dimension over the vectors, averaged over dimensions. */
  meanDimStd: number;
}

/** How spread out an embedding is: a collapsing one shrinks both figures towards 0. */
export function embeddingStats(vectors: VectorArray, dim: number): EmbeddingStats {
  const n = vectors.length / dim;
  const sum = new Float64Array(dim);
  const sumSq = new Float64Array(dim);
  let norms = 0;
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) {
      const v = vectors[i * dim + d];
      sum[d] += v;
      sumSq[d] += v * v;
      sq += v * v;
    }
    norms += Math.sqrt(sq);
  }
  let std = 0;
  for (let d = 0; d < dim; d++) {
    const mean = sum[d] / n;
    std += Math.sqrt(Math.max(0, sumSq[d] / n - mean * mean));
  }
  return { meanNorm: norms / n, meanDimStd: std / dim };
}

/** The first `limit` images of a set (all when limit is undefined or larger). */
export function sliceImageSet(set: ImageSet, limit?: number): ImageSet {
  const count = Math.min(set.count, limit ?? set.count);
  return {
    images: set.images.subarray(0, count * IMAGE_PIXELS),
    labels: set.labels.subarray(0, count),
    count,
  };
}

/** Turns images into vectors: a model's embedding, or the raw pixels. */
export interface EmbeddingSource {
  name: string;
  dim: number;
  embedImages(set: ImageSet, onProgress?: (done: number) => void): Promise<VectorArray>;
}

/**
 * Raw pixels as the no-learning baseline. The bytes themselves are the vectors: integer
 * differences are exact, and ranks equal those of the [0,1] floats (a constant factor).
 */
export const RAW_PIXELS: EmbeddingSource = {
  name: 'raw pixels (784-d)',
  dim: IMAGE_PIXELS,
  async embedImages(set) {
    return set.images;
  },
};
