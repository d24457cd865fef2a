/**
 * Product-photo-like renderings of 28x28 Fashion-MNIST images, for the photo robustness evaluation and the
 * photo augmentation of training (issue 16 item 5). A catalog item is a clean 28x28 image; a shopper's query
 * is a photo of it: hundreds of pixels, a dark garment on a light backdrop, off-centre, soft or noisy, JPEG.
 *
 * `renderPhoto` makes that photo with sharp (resize, extend, blur, JPEG) and `photoQuery` brings it back
 * through the serving preprocessing, exactly as an upload to /similar would be. `renderPhotoAtWorkSize` is
 * the synchronous, in-memory variant for training: the same drawn parameters, rendered directly at the
 * size the serving decoder shrinks a photo to (WORK_SIZE), then the serving normalisation. Everything is a
 * pure function of the image and a seed.
 */
import sharp from 'sharp';
import { IMAGE_PIXELS, IMAGE_SIZE } from './classes.ts';
import { gaussianBlur } from './filters.ts';
import { resizeCrop, WORK_SIZE } from './grayImage.ts';
import { normalizeGarment, preprocessImageToBytes } from './preprocess.ts';
import { createRng, shuffleInPlace } from './random.ts';
import type { ImageSet } from './types.ts';

type Range = readonly [number, number];

/** Long side of the photo (px): the shop listings issue 16 describes are 500-1,300 px. */
export const PHOTO_LONG_SIDE: Range = [500, 1300];
/** Width / height: 3:4 portrait to 4:3 landscape, the usual product-photo frames. */
export const PHOTO_ASPECT: Range = [0.75, 4 / 3];
/**
 * Side of the garment's 28-px frame as a share of the photo's short side: from a garment in a wide margin
 * to one filling most of the picture. Below 0.85 there is always a margin all round, which the
 * preprocessing needs (it reads the background from the border pixels, as on a real product photo).
 */
export const GARMENT_FRACTION: Range = [0.45, 0.85];
/** Backdrop gray level: light-gray to white studio backgrounds. */
export const BACKGROUND_LEVEL: Range = [200, 252];
/** Level of the garment's darkest part (Fashion-MNIST's 255): near-black to mid-dark fabric. */
export const INK_LEVEL: Range = [0, 80];
/**
 * Gaussian blur, sigma in Fashion-MNIST pixels (scaled to the photo): a slightly soft to a visibly
 * out-of-focus shot. Measured in the garment's own pixels so the blur means the same at every photo size.
 */
export const BLUR_SIGMA: Range = [0.1, 0.6];
/** Sensor noise: gaussian, standard deviation in gray levels per photo pixel (a clean to a grainy phone shot). */
export const NOISE_SIGMA: Range = [0, 14];
/** JPEG quality: a careful upload (90) down to a heavily recompressed marketplace image (40). */
export const JPEG_QUALITY: Range = [40, 90];

/** One photo's drawn settings; all lengths in photo pixels. */
export interface PhotoParams {
  width: number;
  height: number;
  /** Side of the square the 28x28 image is enlarged to. */
  garmentSide: number;
  left: number;
  top: number;
  background: number;
  ink: number;
  blurSigma: number;
  noiseSigma: number;
  quality: number;
  /** Seed of the noise field. */
  noiseSeed: number;
}

const uniform = (rng: () => number, [lo, hi]: Range) => lo + (hi - lo) * rng();

/** Draws one photo's settings from the ranges above. */
export function drawPhotoParams(rng: () => number): PhotoParams {
  const longSide = Math.round(uniform(rng, PHOTO_LONG_SIDE));
  const aspect = uniform(rng, PHOTO_ASPECT);
  const width = aspect >= 1 ? longSide : Math.round(longSide * aspect);
  const height = aspect >= 1 ? Math.round(longSide / aspect) : longSide;
  const garmentSide = Math.round(uniform(rng, GARMENT_FRACTION) * Math.min(width, height));
  const scale = garmentSide / IMAGE_SIZE;
  return {
    width,
    height,
    garmentSide,
    // Anywhere in the free space: off-centre, with whatever margin is left on each side.
    left: Math.round(rng() * (width - garmentSide)),
    top: Math.round(rng() * (height - garmentSide)),
    background: Math.round(uniform(rng, BACKGROUND_LEVEL)),
    ink: Math.round(uniform(rng, INK_LEVEL)),
    blurSigma: uniform(rng, BLUR_SIGMA) * scale,
    noiseSigma: uniform(rng, NOISE_SIGMA),
    quality: Math.round(uniform(rng, JPEG_QUALITY)),
    noiseSeed: Math.floor(rng() * 2 ** 32),
  };
}

/** Fashion-MNIST level v (light garment on black) → the photo's level (dark garment on the backdrop). */
function toneTable(background: number, ink: number): Float32Array {
  return Float32Array.from({ length: 256 }, (_, v) => background - (v / 255) * (background - ink));
}

/** Standard normal draws from a uniform generator (Box-Muller, both values used). */
function gaussianSource(rng: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const t = 2 * Math.PI * rng();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

function addNoise(gray: Uint8Array, sigma: number, seed: number): Uint8Array {
  const out = new Uint8Array(gray.length);
  const normal = gaussianSource(createRng(seed));
  for (let i = 0; i < gray.length; i++) {
    const v = sigma > 0 ? gray[i] + sigma * normal() : gray[i];
    out[i] = Math.min(255, Math.max(0, Math.round(v)));
  }
  return out;
}

/**
 * The product photo of a 28x28 image (784 bytes) as a JPEG: sRGB with equal channels (sharp's default for
 * a gray source), the kind of file a phone or a shop's system writes, so the decoder's colour path is used.
 */
export async function renderPhoto(pixels: Uint8Array, p: PhotoParams): Promise<Buffer> {
  const lut = toneTable(p.background, p.ink);
  const toned = Uint8Array.from(pixels, (v) => Math.round(lut[v]));
  const bg = { r: p.background, g: p.background, b: p.background };
  const { data, info } = await sharp(toned, { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 } })
    .resize(p.garmentSide, p.garmentSide, { kernel: 'lanczos3' })
    .extend({
      left: p.left,
      top: p.top,
      right: p.width - p.left - p.garmentSide,
      bottom: p.height - p.top - p.garmentSide,
      background: bg,
    })
    .blur(Math.max(0.3, p.blurSigma))
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  // Should the pipeline hand back colour channels anyway, they are equal: keep the first.
  const gray = info.channels === 1 ? data : Uint8Array.from({ length: n }, (_, i) => data[i * info.channels]);
  const noisy = addNoise(gray, p.noiseSigma, p.noiseSeed);
  return sharp(noisy, { raw: { width: info.width, height: info.height, channels: 1 } })
    .jpeg({ quality: p.quality })
    .toBuffer();
}

/** The photo of `pixels` as a served query sees it: rendered, then the serving preprocessing (784 bytes). */
export async function photoQuery(pixels: Uint8Array, p: PhotoParams): Promise<Uint8Array> {
  return preprocessImageToBytes(await renderPhoto(pixels, p));
}

export interface PhotoSet {
  /** The preprocessed photos (784 bytes each) with their items' labels. */
  photos: ImageSet;
  /** items[i]: index in the source set of photo i's item (its clean catalog image). */
  items: Uint32Array;
  params: PhotoParams[];
}

export interface PhotoSetOptions {
  count: number;
  seed: number;
  /** Photos rendered at a time (sharp runs them on the libuv pool). */
  concurrency?: number;
  onProgress?: (done: number) => void;
}

/**
 * Photos of `count` items of `set`, picked by a seeded shuffle. Item j's photo depends only on the seed and
 * j (every item has its own settings stream), so a larger set extends a smaller one with the same seed.
 */
export async function buildPhotoSet(set: ImageSet, opts: PhotoSetOptions): Promise<PhotoSet> {
  const count = Math.min(opts.count, set.count);
  const seeds = createRng(opts.seed);
  const itemSeeds = Uint32Array.from({ length: set.count }, () => Math.floor(seeds() * 2 ** 32));
  const order = shuffleInPlace(
    Uint32Array.from({ length: set.count }, (_, i) => i),
    seeds,
  );
  const items = order.slice(0, count);
  const params = Array.from(items, (j) => drawPhotoParams(createRng(itemSeeds[j])));
  const images = new Uint8Array(count * IMAGE_PIXELS);
  const labels = Uint8Array.from(items, (j) => set.labels[j]);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const j = items[i];
      const query = await photoQuery(
        set.images.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS),
        params[i],
      );
      images.set(query, i * IMAGE_PIXELS);
      opts.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return { photos: { images, labels, count }, items, params };
}

// ---- the in-memory variant, for training ----

/** JPEG's luminance quantisation table (ITU-T T.81 Annex K), in row-major order. */
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** The 8-point DCT-II basis, orthonormal: DCT[u*8+x]; IDCT is its transpose. */
const DCT = Float64Array.from({ length: 64 }, (_, i) => {
  const u = i >> 3;
  const x = i & 7;
  return (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});
const IDCT = Float64Array.from({ length: 64 }, (_, i) => DCT[(i & 7) * 8 + (i >> 3)]);

/** libjpeg's quality scaling of the table. */
function quantTable(quality: number): Float64Array {
  const s = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  return Float64Array.from(LUMA_QUANT, (q) => Math.min(255, Math.max(1, Math.floor((q * s + 50) / 100))));
}

/** dst = m · src · mᵀ for 8x8 blocks (m = DCT: forward transform; m = IDCT: inverse). */
function transform8x8(m: Float64Array, src: Float64Array, dst: Float64Array, tmp: Float64Array): void {
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      let acc = 0;
      for (let k = 0; k < 8; k++) acc += m[r * 8 + k] * src[k * 8 + c];
      tmp[r * 8 + c] = acc;
    }
  }
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      let acc = 0;
      for (let k = 0; k < 8; k++) acc += tmp[r * 8 + k] * m[c * 8 + k];
      dst[r * 8 + c] = acc;
    }
  }
}

/**
 * JPEG's loss without its bytes: each 8x8 block (edges replicated) to DCT coefficients, rounded to the
 * quality's quantisation steps, and back. In place on 0..255 values.
 */
export function jpegQuantize(img: Float32Array, w: number, h: number, quality: number): void {
  const q = quantTable(quality);
  const block = new Float64Array(64);
  const coef = new Float64Array(64);
  const tmp = new Float64Array(64);
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let i = 0; i < 64; i++) {
        const y = Math.min(h - 1, by + (i >> 3));
        const x = Math.min(w - 1, bx + (i & 7));
        block[i] = img[y * w + x] - 128;
      }
      transform8x8(DCT, block, coef, tmp);
      for (let i = 0; i < 64; i++) coef[i] = Math.round(coef[i] / q[i]) * q[i];
      transform8x8(IDCT, coef, block, tmp);
      for (let i = 0; i < 64; i++) {
        const y = by + (i >> 3);
        const x = bx + (i & 7);
        if (y < h && x < w) img[y * w + x] = block[i] + 128;
      }
    }
  }
}

/**
 * The photo of `pixels` as the serving path sees it, without rendering hundreds of pixels: drawn at the
 * size the decoder shrinks the photo to (longest side WORK_SIZE), then `normalizeGarment`. Blur and noise
 * are scaled the way that shrink scales them (the noise of the 1/f² photo pixels averaged into one); the
 * JPEG quantisation is applied at this size, where it is harsher than on the full photo (whose blocks the
 * shrink averages away): for training, erring on the strong side. Returns 784 bytes. Synchronous, ~1 ms.
 */
export function renderPhotoAtWorkSize(pixels: Uint8Array, p: PhotoParams): Uint8Array {
  const f = WORK_SIZE / Math.max(p.width, p.height);
  const w = Math.max(1, Math.round(p.width * f));
  const h = Math.max(1, Math.round(p.height * f));
  const side = Math.max(1, Math.min(w, h, Math.round(p.garmentSide * f)));
  const left = Math.min(w - side, Math.round(p.left * f));
  const top = Math.min(h - side, Math.round(p.top * f));
  const garment = resizeCrop(
    pixels,
    IMAGE_SIZE,
    0,
    0,
    IMAGE_SIZE,
    IMAGE_SIZE,
    side,
    side,
    toneTable(p.background, p.ink),
  );
  const img = new Float32Array(w * h).fill(p.background);
  for (let y = 0; y < side; y++) img.set(garment.subarray(y * side, (y + 1) * side), (top + y) * w + left);
  gaussianBlur(img, w, h, p.blurSigma * f);
  const normal = gaussianSource(createRng(p.noiseSeed));
  const sigma = p.noiseSigma * f;
  for (let i = 0; i < img.length; i++) img[i] += sigma * normal();
  jpegQuantize(img, w, h, p.quality);
  const gray = new Uint8Array(img.length);
  for (let i = 0; i < img.length; i++) gray[i] = Math.min(255, Math.max(0, Math.round(img[i])));
  return normalizeGarment(gray, w, h, true);
}
