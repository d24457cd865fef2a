import { IMAGE_PIXELS } from './classes.ts';
import { bytesToUnit } from './pixels.ts';
import { createRng, shuffleInPlace } from './random.ts';
import type { ImageSet } from './types.ts';

/** A new ImageSet holding copies of the given images, in the given order. */
export function subsetImageSet(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const images = new Uint8Array(indices.length * IMAGE_PIXELS);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i];
    if (!Number.isInteger(src) || src < 0 || src >= set.count) {
      throw new RangeError(`index ${src} outside 0..${set.count - 1}`);
    }
    images.set(set.images.subarray(src * IMAGE_PIXELS, (src + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = set.labels[src];
  }
  return { images, labels, count: indices.length };
}

/**
 * Deterministic hold-out for model selection: a seeded shuffle picks `valCount` images; both parts keep
 * the original order (training shuffles on its own). The official test split is never touched here.
 */
export function trainValidationSplit(
  train: ImageSet,
  valCount = 5000,
  seed = 42,
): { train: ImageSet; validation: ImageSet } {
  if (!Number.isInteger(valCount) || valCount < 0 || valCount > train.count) {
    throw new RangeError(`valCount ${valCount} must be an integer in 0..${train.count}`);
  }
  const order = shuffleInPlace(
    Uint32Array.from({ length: train.count }, (_, i) => i),
    createRng(seed),
  );
  const validation = order.slice(0, valCount).sort();
  const rest = order.slice(valCount).sort();
  return { train: subsetImageSet(train, rest), validation: subsetImageSet(train, validation) };
}

/** Images [start, start+count) as floats in [0,1] (byte/255), the network's input format. */
export function imageSetToFloat(set: ImageSet, start = 0, count = set.count - start): Float32Array {
  if (start < 0 || count < 0 || start + count > set.count) {
    throw new RangeError(`range [${start}, ${start + count}) outside 0..${set.count}`);
  }
  return bytesToUnit(set.images.subarray(start * IMAGE_PIXELS, (start + count) * IMAGE_PIXELS));
}
