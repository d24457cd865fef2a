import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { drawPhotoParams, renderPhotoAtWorkSize } from '../data/photoLike.ts';
import { createRng } from '../data/random.ts';
import { epochSeed } from './sampler.ts';

export type Augmentation = 'none' | 'shift2';

/** Changes a batch of images (count*784 floats in [0,1]) in place. */
export type BatchAugment = (batch: Float32Array, count: number) => void;

/**
 * Per-step random streams (epochSeed streams): the shift's is 1 + step, as before the photo augmentation
 * existed, so --augment shift2 alone replays older runs exactly; the photo augmentation's starts far above.
 */
const SHIFT_STREAM = 1;
const PHOTO_STREAM = 0x20000000;

/**
 * Shifts each 28x28 image of `batch` (count*784 floats, in place) by a random whole-pixel offset in
 * [-maxShift, maxShift] on both axes, filling the uncovered border with 0 (the background).
 */
export function randomShift(batch: Float32Array, count: number, rng: () => number, maxShift = 2): void {
  const n = IMAGE_SIZE;
  const tmp = new Float32Array(n * n);
  const span = 2 * maxShift + 1;
  for (let img = 0; img < count; img++) {
    const dx = Math.floor(rng() * span) - maxShift;
    const dy = Math.floor(rng() * span) - maxShift;
    if (dx === 0 && dy === 0) continue;
    const base = img * n * n;
    tmp.fill(0);
    for (let y = Math.max(0, dy); y < Math.min(n, n + dy); y++) {
      const srcRow = base + (y - dy) * n;
      const x0 = Math.max(0, dx);
      const x1 = Math.min(n, n + dx);
      tmp.set(batch.subarray(srcRow + x0 - dx, srcRow + x1 - dx), y * n + x0);
    }
    batch.set(tmp, base);
  }
}

/**
 * Replaces a `fraction` of the images of `batch` (count*784 floats in [0,1], in place) by what the serving
 * preprocessing makes of a product photo of them: the evaluation's photo generator (src/data/photoLike.ts,
 * same drawn settings) in its in-memory form, ~1-4 ms an image. One draw per image decides whether it is
 * replaced, so the choice and the photo settings replay from the rng.
 */
export function photoAugment(batch: Float32Array, count: number, rng: () => number, fraction: number): void {
  const bytes = new Uint8Array(IMAGE_PIXELS);
  for (let img = 0; img < count; img++) {
    if (rng() >= fraction) continue;
    const base = img * IMAGE_PIXELS;
    for (let i = 0; i < IMAGE_PIXELS; i++) bytes[i] = Math.round(batch[base + i] * 255);
    const photo = renderPhotoAtWorkSize(bytes, drawPhotoParams(rng));
    for (let i = 0; i < IMAGE_PIXELS; i++) batch[base + i] = photo[i] / 255;
  }
}

/** The augmentation settings of a training run. */
export interface AugmentOptions {
  augment: Augmentation;
  /** Share of the images replaced by photo renderings (0 = none). */
  photoAugment: number;
  seed: number;
}

/**
 * The augmentation of one training step, seeded by (seed, epoch, step) so that a resumed run replays it;
 * undefined when there is none. Photos first: the shift then moves the re-centred photo like any image.
 */
export function stepAugmentation(
  opts: AugmentOptions,
  epoch: number,
  step: number,
): BatchAugment | undefined {
  const shiftRng =
    opts.augment === 'shift2' ? createRng(epochSeed(opts.seed, epoch, SHIFT_STREAM + step)) : null;
  const photoRng = opts.photoAugment > 0 ? createRng(epochSeed(opts.seed, epoch, PHOTO_STREAM + step)) : null;
  if (!shiftRng && !photoRng) return undefined;
  return (batch, count) => {
    if (photoRng) photoAugment(batch, count, photoRng, opts.photoAugment);
    if (shiftRng) randomShift(batch, count, shiftRng);
  };
}
