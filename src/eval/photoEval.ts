import { NUM_CLASSES } from '../data/classes.ts';
import {
  BACKGROUND_LEVEL,
  BLUR_SIGMA,
  buildPhotoSet,
  GARMENT_FRACTION,
  INK_LEVEL,
  JPEG_QUALITY,
  NOISE_SIGMA,
  PHOTO_ASPECT,
  PHOTO_LONG_SIDE,
} from '../data/photoLike.ts';
import type { ImageSet } from '../data/types.ts';
import type { EmbeddingSource, ProgressFn } from './evaluate.ts';
import { exactSearch, type VectorArray } from './exactSearch.ts';
import { type ClassMeans, categoryPrecision, exactItemHits, meanByClass } from './photoMetrics.ts';

/** Photos of the test split in `npm run eval` unless --photos says otherwise: about a minute to render. */
export const DEFAULT_PHOTO_COUNT = 1000;
export const DEFAULT_PHOTO_SEED = 42;
const K = 10;

export interface PhotoEvalOptions {
  count: number;
  seed: number;
  /** What the query and gallery sets are called in the results (default 'test' and 'train'). */
  names?: SetNames;
  workers?: number;
  onProgress?: ProgressFn;
}

/** What an evaluation calls its query set (the photographed items) and its gallery. */
export interface SetNames {
  queries: string;
  gallery: string;
}
export const TEST_SPLIT_NAMES: SetNames = { queries: 'test', gallery: 'train' };

/** Exact-item retrieval of the photos in one catalog. */
export interface ExactItemResult {
  /** 'test' (the photographed items' own set) or 'test+train' (with the gallery), by the sets' names. */
  catalog: string;
  catalogCount: number;
  recallAt1: number;
  recallAt10: ClassMeans;
}

export interface PhotoEvaluation {
  photos: number;
  seed: number;
  /** The generator's ranges (src/data/photoLike.ts), so a report says which photos it measured. */
  generator: Record<string, readonly [number, number]>;
  /** The photographed items' set (SetNames.queries). */
  items: string;
  /** Category P@10 of the photos and of the same items' clean images, both against the gallery. */
  categoryPrecisionAt10: { gallery: string; galleryCount: number; photo: ClassMeans; clean: ClassMeans };
  /** The photo's own item (its clean test image) among the nearest, in the test images and in test+train. */
  exactItem: ExactItemResult[];
  seconds: { render: number; embed: number; search: number };
}

/** Rows `rows` of a row-major vector array, same element type. */
function pickRows(v: VectorArray, dim: number, rows: ArrayLike<number>): VectorArray {
  const out = new (v.constructor as new (n: number) => VectorArray)(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(v.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
  return out;
}

function concatRows(a: VectorArray, b: VectorArray): VectorArray {
  const out = new (a.constructor as new (n: number) => VectorArray)(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Renders `count` product photos of test items (src/data/photoLike.ts, through the serving preprocessing),
 * embeds them with `source`, and measures category P@10 (photo vs clean, against the training images) and
 * exact-item recall (the item's clean image among a photo's nearest, in the test catalog and in test+train).
 * `testVectors` / `trainVectors` are the embeddings of `test` / `train` the main evaluation computed.
 */
export async function evaluatePhotos(
  source: EmbeddingSource,
  test: ImageSet,
  train: ImageSet,
  testVectors: VectorArray,
  trainVectors: VectorArray,
  opts: PhotoEvalOptions,
): Promise<PhotoEvaluation> {
  const dim = source.dim;
  const progress = opts.onProgress;
  let t = performance.now();
  const count = Math.min(opts.count, test.count);
  const { photos, items } = await buildPhotoSet(test, {
    count,
    seed: opts.seed,
    onProgress: (d) => progress?.('render photos', d, count),
  });
  const render = (performance.now() - t) / 1000;
  t = performance.now();
  const photoVectors = await source.embedImages(photos, (d) => progress?.('embed photos', d, count));
  const embed = (performance.now() - t) / 1000;

  t = performance.now();
  const search = (queries: VectorArray, gallery: VectorArray, labels?: Uint8Array) =>
    exactSearch(queries, gallery, dim, {
      k: K,
      galleryLabels: labels,
      labelDepth: labels && K,
      workers: opts.workers,
    });
  const precisionOf = async (queries: VectorArray) => {
    const r = await search(queries, trainVectors, train.labels);
    return meanByClass(categoryPrecision(r.labels!, K, photos.labels, K), photos.labels, NUM_CLASSES);
  };
  const photo = await precisionOf(photoVectors);
  const clean = await precisionOf(pickRows(testVectors, dim, items));
  const exactItem: ExactItemResult[] = [];
  const { queries, gallery } = opts.names ?? TEST_SPLIT_NAMES;
  // Test items come first in the test+train catalog, so an item's index is its test index in both.
  for (const [catalog, vectors] of [
    [queries, testVectors],
    [`${queries}+${gallery}`, concatRows(testVectors, trainVectors)],
  ] as const) {
    const r = await search(photoVectors, vectors);
    exactItem.push({
      catalog,
      catalogCount: vectors.length / dim,
      recallAt1: meanByClass(exactItemHits(r.indices, K, items, 1), photos.labels, NUM_CLASSES).overall,
      recallAt10: meanByClass(exactItemHits(r.indices, K, items), photos.labels, NUM_CLASSES),
    });
  }
  return {
    photos: count,
    seed: opts.seed,
    items: queries,
    generator: {
      longSide: PHOTO_LONG_SIDE,
      aspect: PHOTO_ASPECT,
      garmentFraction: GARMENT_FRACTION,
      background: BACKGROUND_LEVEL,
      ink: INK_LEVEL,
      blurSigma: BLUR_SIGMA,
      noiseSigma: NOISE_SIGMA,
      jpegQuality: JPEG_QUALITY,
    },
    categoryPrecisionAt10: { gallery, galleryCount: train.count, photo, clean },
    exactItem,
    seconds: { render, embed, search: (performance.now() - t) / 1000 },
  };
}
