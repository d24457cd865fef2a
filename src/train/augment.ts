import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { gaussianBlur } from '../data/filters.ts';
import { drawPhotoParams, renderPhotoAtWorkSize } from '../data/photoLike.ts';
import { createRng } from '../data/random.ts';
import { epochSeed } from './sampler.ts';

/** shift2: random shifts of up to 2 pixels; shift2-flip: those and a mirror image for half of the images. */
export const AUGMENTATIONS = ['none', 'shift2', 'shift2-flip'] as const;
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** Changes a batch of images (count*784 floats in [0,1]) in place. */
export type BatchAugment = (batch: Float32Array, count: number) => void;

/**
 * Per-step random streams (epochSeed streams): the shift's is 1 + step, as before the photo augmentation
 * existed, so --augment shift2 alone replays older runs exactly; the photo augmentation's starts far above.
 */
const SHIFT_STREAM = 1;
const PHOTO_STREAM = 0x20000000;
const FLIP_STREAM = 0x40000000;
const PHOTOMETRIC_STREAM = 0x60000000;
const ERASE_STREAM = 0x70000000;

/**
 * What a product photo does to the 28x28 input once the serving preprocessing has inverted and rescaled
 * it, without rendering one: the garment's peak falls to (backdrop − ink) / backdrop of the full level
 * (src/data/photoLike.ts' ranges give 0.6-1), the lens and the resampling chain blur it, and sensor and
 * JPEG noise survive the shrink in part.
 */
export const PHOTOMETRIC = { contrast: [0.55, 1], blurSigma: [0.1, 0.7], noiseSigma: [0, 6 / 255] } as const;

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

/** Mirrors (left to right) each 28x28 image of `batch` (in place) with probability 1/2. */
export function randomFlip(batch: Float32Array, count: number, rng: () => number): void {
  const n = IMAGE_SIZE;
  for (let img = 0; img < count; img++) {
    if (rng() >= 0.5) continue;
    for (let row = img * n * n; row < (img + 1) * n * n; row += n) batch.subarray(row, row + n).reverse();
  }
}

const uniform = (rng: () => number, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * rng();

/** Standard normal deviate (Box-Muller) from two uniform draws. */
function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * Gives a `fraction` of the images of `batch` (in place) a photo's lower contrast, blur and noise
 * (PHOTOMETRIC), drawn per image: ~20 µs an image, against 1-4 ms for a rendered photo (photoAugment).
 */
export function photometricAugment(
  batch: Float32Array,
  count: number,
  rng: () => number,
  fraction: number,
): void {
  for (let img = 0; img < count; img++) {
    if (rng() >= fraction) continue;
    const image = batch.subarray(img * IMAGE_PIXELS, (img + 1) * IMAGE_PIXELS);
    const contrast = uniform(rng, PHOTOMETRIC.contrast);
    for (let i = 0; i < IMAGE_PIXELS; i++) image[i] *= contrast;
    gaussianBlur(image, IMAGE_SIZE, IMAGE_SIZE, uniform(rng, PHOTOMETRIC.blurSigma));
    const noise = uniform(rng, PHOTOMETRIC.noiseSigma);
    for (let i = 0; i < IMAGE_PIXELS; i++)
      image[i] = Math.min(1, Math.max(0, image[i] + noise * gaussian(rng)));
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

/**
 * Random erasing (Zhong et al. 2017, "Random Erasing Data Augmentation"): the rectangle's share of the
 * image and its aspect ratio (height / width) are drawn from the paper's ranges, its pixels uniform
 * noise, the fill the paper found best; a draw that does not fit the image is drawn again.
 */
export const ERASE = { area: [0.02, 0.4], aspect: [0.3, 1 / 0.3], attempts: 100 } as const;

/**
 * Overwrites one random rectangle of a `fraction` of the images of `batch` (in place) with uniform
 * noise in [0, 1] (ERASE): the network must recognise a garment from the parts it still sees.
 */
export function randomErase(batch: Float32Array, count: number, rng: () => number, fraction: number): void {
  const n = IMAGE_SIZE;
  for (let img = 0; img < count; img++) {
    if (rng() >= fraction) continue;
    for (let attempt = 0; attempt < ERASE.attempts; attempt++) {
      const area = uniform(rng, ERASE.area) * IMAGE_PIXELS;
      const aspect = uniform(rng, ERASE.aspect);
      const h = Math.round(Math.sqrt(area * aspect));
      const w = Math.round(Math.sqrt(area / aspect));
      if (h < 1 || w < 1 || h >= n || w >= n) continue;
      const top = Math.floor(rng() * (n - h + 1));
      const left = Math.floor(rng() * (n - w + 1));
      for (let y = top; y < top + h; y++) {
        const row = img * IMAGE_PIXELS + y * n;
        for (let x = left; x < left + w; x++) batch[row + x] = rng();
      }
      break;
    }
  }
}

/** The augmentation settings of a training run. */
export interface AugmentOptions {
  augment: Augmentation;
  /** Share of the images replaced by photo renderings (0 = none). */
  photoAugment: number;
  /** Share of the images given a photo's contrast, blur and noise (0 = none). */
  photometric: number;
  /** Share of the images given a randomly erased rectangle (0 = none). */
  erase: number;
  seed: number;
}

/**
 * The augmentation of one training step, seeded by (seed, epoch, step) so that a resumed run replays it;
 * undefined when there is none. Photos first: the shift then moves the re-centred photo like any image;
 * erasing last, so that its rectangle is noise of the drawn level whatever came before.
 */
export function stepAugmentation(
  opts: AugmentOptions,
  epoch: number,
  step: number,
): BatchAugment | undefined {
  const stream = (base: number) => createRng(epochSeed(opts.seed, epoch, base + step));
  const shiftRng = opts.augment !== 'none' ? stream(SHIFT_STREAM) : null;
  const flipRng = opts.augment === 'shift2-flip' ? stream(FLIP_STREAM) : null;
  const photoRng = opts.photoAugment > 0 ? stream(PHOTO_STREAM) : null;
  const photometricRng = opts.photometric > 0 ? stream(PHOTOMETRIC_STREAM) : null;
  const eraseRng = opts.erase > 0 ? stream(ERASE_STREAM) : null;
  if (!shiftRng && !photoRng && !photometricRng && !eraseRng) return undefined;
  return (batch, count) => {
    if (photoRng) photoAugment(batch, count, photoRng, opts.photoAugment);
    if (photometricRng) photometricAugment(batch, count, photometricRng, opts.photometric);
    if (shiftRng) randomShift(batch, count, shiftRng);
    if (flipRng) randomFlip(batch, count, flipRng);
    if (eraseRng) randomErase(batch, count, eraseRng, opts.erase);
  };
}
