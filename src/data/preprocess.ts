/**
 * The one image preprocessing: any PNG/JPEG/WebP/GIF photo → a Fashion-MNIST-like 28x28 image.
 *
 * Header first (`readImageHeader`, in JS: size and pixel-bomb limits before anything is decoded), then a
 * small gray image of at most WORK_SIZE a side from one decoder: in-process JS for baseline JPEGs (DCT-domain
 * scaling, see jpeg/decode.ts) and for small 8-bit gray PNGs (png.ts), one libvips pipeline (sharp, with
 * shrink-on-load) for everything else. Then `normalizeGarment` in JS.
 */
import sharp, { type OutputInfo } from 'sharp';
import { IMAGE_PIXELS, IMAGE_SIZE } from './classes.ts';
import { scaleToPeak, unsharpMask } from './filters.ts';
import { fitInside, type GrayImage, orient, resizeCrop, WORK_SIZE } from './grayImage.ts';
import {
  DEFAULT_IMAGE_LIMITS,
  type ImageFormat,
  type ImageHeader,
  type ImageLimits,
  invalidImage,
  readImageHeader,
} from './imageHeader.ts';
import { decodeJpegLuma } from './jpeg/decode.ts';
import { bytesToUnit } from './pixels.ts';
import { decodeSmallGrayPng, encodeGrayPng28 } from './png.ts';

export type { GrayImage } from './grayImage.ts';
export { WORK_SIZE } from './grayImage.ts';
export {
  DEFAULT_IMAGE_LIMITS,
  detectFormat,
  type ImageFormat,
  type ImageHeader,
  type ImageLimits,
  readImageHeader,
} from './imageHeader.ts';

/**
 * Resampling and lossy compression leave ringing next to edges, in proportion to the edge's contrast; a
 * trim threshold below it makes the bounding box too large and the garment too small. 15% of the peak
 * level minimised the round-trip error over 100 test images upscaled with lanczos3 and nearest-neighbour
 * (mean absolute difference 8.9 and 5.1, against 11.5 and 11.3 with no such threshold). Clean, unresampled
 * inputs (a 28x28 PNG) keep a zero threshold so that they pass through exactly.
 */
const ARTIFACT_THRESHOLD = 0.15;

/**
 * The finish of a garment shrunk to 28 px. Fashion-MNIST's own conversion sharpened every image after
 * shrinking it (Xiao et al. 2017, step 4: a gaussian operator of radius and sigma 1.0), and 92% of its
 * images peak at level 255 (the rest at 250-254). A photo shrunk here comes out softer and dimmer than
 * that, and the network, which has only seen the sharp originals, finds its item less often. Chosen on
 * 1,000 photos of the validation images (`src/data/photoLike.ts`, seed 7): exact-item recall@10 among the
 * 60,000 training images 0.844 unfinished, 0.860 scaled to the peak alone, 0.909 with this unsharp mask
 * too, on a plateau (sigma 0.5-0.7, amount 1-2 within 0.01); the sharpest photos gain as well. Inputs that
 * were not shrunk (a 28x28 image) are left as they are.
 */
export const SHRUNK_GARMENT_FINISH = { sharpenSigma: 0.6, sharpenAmount: 1, peak: 255 } as const;

/**
 * JPEGs up to this many bytes and pixels are decoded in JS, on the calling thread; larger ones by sharp on
 * the libuv pool. The JS decoder runs on the event loop and its time grows with the entropy-coded bytes
 * and the number of blocks (measured ~18 ms per MB plus ~2.6 ms per megapixel here: 1200x900 in 150 KB
 * 3.7 ms against sharp's 5.5 ms; 2000x1500 in 710 KB 19 ms against 22 ms; 12 MP in 0.9-3.5 MB 46-92 ms
 * against 24-51 ms). The limits keep one decode under ~12 ms, where JS is also the faster of the two;
 * phone photos go to sharp, whose DCT scaling is then faster and runs off the event loop.
 */
export const JS_JPEG_MAX_BYTES = 400_000;
export const JS_JPEG_MAX_PIXELS = 2_100_000;

/**
 * Validates size, format and declared dimensions from the header alone, so that oversized uploads and
 * decompression bombs are rejected before any pixel is decoded (see `readImageHeader`, which this wraps).
 */
export async function checkImageHeader(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<ImageHeader> {
  return readImageHeader(bytes, limits);
}

/**
 * Background level and noise, from the border pixels. The level is the median of the most populated
 * 16-level histogram bin rather than the plain median, so a garment that touches much of the border (a
 * pullover filling the frame) does not outvote a uniform background. The noise (90th percentile of the
 * deviation of the pixels near that level) is 0 on a clean background, which keeps 28x28 inputs exact,
 * and a few levels on a JPEG. Computed from a 256-level histogram of the border (no sorting).
 */
export function borderBackground(gray: Uint8Array, w: number, h: number): { level: number; noise: number } {
  const hist = new Int32Array(256);
  for (let x = 0; x < w; x++) {
    hist[gray[x]]++;
    hist[gray[(h - 1) * w + x]]++;
  }
  for (let y = 1; y < h - 1; y++) {
    hist[gray[y * w]]++;
    hist[gray[y * w + w - 1]]++;
  }
  let mode = 0;
  let modeCount = -1;
  for (let b = 0; b < 16; b++) {
    let n = 0;
    for (let v = b * 16; v < b * 16 + 16; v++) n += hist[v];
    if (n > modeCount) {
      mode = b;
      modeCount = n;
    }
  }
  // The middle (upper median) of the bin's values in ascending order.
  let level = mode * 16;
  for (let seen = 0, target = modeCount >> 1; ; level++) {
    seen += hist[level];
    if (seen > target) break;
  }
  // The 90th percentile (lower) of the deviations below 32.
  const dev = new Int32Array(32);
  let nDev = 0;
  for (let v = Math.max(0, level - 31); v <= Math.min(255, level + 31); v++) {
    dev[Math.abs(v - level)] += hist[v];
    nDev += hist[v];
  }
  const target = Math.floor((nDev - 1) * 0.9);
  let noise = 0;
  for (let seen = 0; ; noise++) {
    seen += dev[noise];
    if (seen > target) break;
  }
  return { level, noise };
}

/**
 * Turns a small grayscale image into Fashion-MNIST form: light background → inverted, background level
 * subtracted, trimmed to the garment's bounding box, longest side fitted to 28 px, centred on black.
 * Centring puts an odd leftover pixel on the left/top, as Fashion-MNIST does (reproduces ~98% of its
 * images exactly). `artifacts` says the pixels went through resampling or lossy compression (raises the
 * trim threshold, see ARTIFACT_THRESHOLD). A garment shrunk to fit gets SHRUNK_GARMENT_FINISH. Returns 784
 * bytes.
 */
export function normalizeGarment(gray: Uint8Array, w: number, h: number, artifacts = false): Uint8Array {
  const { level, noise } = borderBackground(gray, w, h);
  const invert = level > 127;
  const bg = invert ? 255 - level : level;
  const gain = 255 / (255 - bg);
  // Every pixel goes through the same level mapping: a 256-entry table keeps the per-pixel work to a lookup.
  // The table is monotonic, so the peak is the mapped level of the darkest (inverted) or lightest pixel.
  const lut = new Float32Array(256);
  for (let g = 0; g < 256; g++) lut[g] = Math.max(0, (invert ? 255 - g : g) - bg) * gain;
  const n = w * h;
  let lo = 255;
  let hi = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    // Four at a time (measured 1.5x faster than one comparison per pixel).
    const g0 = gray[i];
    const g1 = gray[i + 1];
    const g2 = gray[i + 2];
    const g3 = gray[i + 3];
    lo = Math.min(lo, Math.min(Math.min(g0, g1), Math.min(g2, g3)));
    hi = Math.max(hi, Math.max(Math.max(g0, g1), Math.max(g2, g3)));
  }
  for (; i < n; i++) {
    lo = Math.min(lo, gray[i]);
    hi = Math.max(hi, gray[i]);
  }
  const peak = invert ? lut[lo] : lut[hi];
  // Above the background noise always; on a clean background (noise 0) that keeps even the faintest
  // garment pixels, so a Fashion-MNIST image keeps its exact bounding box.
  const threshold = Math.max(2 * noise, artifacts ? ARTIFACT_THRESHOLD * peak : 0);
  const above = new Uint8Array(256);
  for (let g = 0; g < 256; g++) above[g] = lut[g] > threshold ? 1 : 0;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = 0;
    while (first < w && above[gray[row + first]] === 0) first++;
    if (first === w) continue;
    let last = w - 1;
    while (above[gray[row + last]] === 0) last--;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
    if (y0 === h) y0 = y;
    y1 = y;
  }
  if (x1 < 0) return new Uint8Array(IMAGE_PIXELS); // nothing stands out from the background
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const scale = IMAGE_SIZE / Math.max(cw, ch);
  const ow = Math.max(1, Math.min(IMAGE_SIZE, Math.round(cw * scale)));
  const oh = Math.max(1, Math.min(IMAGE_SIZE, Math.round(ch * scale)));
  const fitted = resizeCrop(gray, w, x0, y0, cw, ch, ow, oh, lut);
  const canvas = new Float32Array(IMAGE_PIXELS);
  const ox = Math.ceil((IMAGE_SIZE - ow) / 2);
  const oy = Math.ceil((IMAGE_SIZE - oh) / 2);
  for (let y = 0; y < oh; y++) canvas.set(fitted.subarray(y * ow, (y + 1) * ow), (oy + y) * IMAGE_SIZE + ox);
  if (Math.max(cw, ch) > IMAGE_SIZE) {
    const { sharpenSigma, sharpenAmount, peak } = SHRUNK_GARMENT_FINISH;
    unsharpMask(canvas, IMAGE_SIZE, IMAGE_SIZE, sharpenSigma, sharpenAmount);
    scaleToPeak(canvas, peak);
  }
  const out = new Uint8Array(IMAGE_PIXELS);
  for (let i = 0; i < IMAGE_PIXELS; i++) out[i] = Math.min(255, Math.max(0, Math.round(canvas[i])));
  return out;
}

/** A decoded work image and whether its pixels were resampled on the way (changes the trim threshold). */
interface WorkImage {
  image: GrayImage;
  resampled: boolean;
}

/**
 * sharp's path: decodes (first frame only), auto-orients, flattens transparency onto white and shrinks to
 * at most WORK_SIZE (JPEG/WebP shrink-on-load), in one pipeline. The gray conversion is done here in JS on
 * the small image (ITU-R 601 luma, as PIL's "L"): sharp's colour-managed grayscale() was measured to cost
 * ~30% of the whole decode.
 */
export async function decodeWithSharp(
  bytes: Uint8Array,
  header: ImageHeader,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<WorkImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated' })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .resize({ width: WORK_SIZE, height: WORK_SIZE, fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw invalidImage(header.format, err);
  }
  const { data, info } = decoded;
  const n = info.width * info.height;
  const c = info.channels;
  let gray: Uint8Array;
  if (c === 1) gray = new Uint8Array(data.buffer, data.byteOffset, n);
  else if (c === 2) {
    gray = new Uint8Array(n);
    for (let i = 0; i < n; i++) gray[i] = data[i * c];
  } else {
    gray = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      gray[i] = (data[i * c] * 19595 + data[i * c + 1] * 38470 + data[i * c + 2] * 7471 + 32768) >>> 16;
    }
  }
  // Compared by area because auto-orientation may have swapped width and height.
  const resampled = n !== header.width * header.height;
  return { image: { gray, width: info.width, height: info.height }, resampled };
}

/** The in-process decoders; null when the image is not one they take (then sharp decodes it). */
function decodeInProcess(bytes: Uint8Array, header: ImageHeader): WorkImage | null {
  if (header.format === 'png') {
    const image = decodeSmallGrayPng(bytes);
    return image && { image, resampled: false };
  }
  if (
    header.format === 'jpeg' &&
    bytes.length <= JS_JPEG_MAX_BYTES &&
    header.width * header.height <= JS_JPEG_MAX_PIXELS
  ) {
    const r = decodeJpegLuma(bytes);
    if ('unsupported' in r) return null;
    const oriented = orient(r.image, r.orientation);
    const image = fitInside(oriented, WORK_SIZE);
    return { image, resampled: image.width * image.height !== header.width * header.height };
  }
  return null;
}

/**
 * Decodes an image to gray of at most WORK_SIZE a side, upright: the JS decoders where they apply, else
 * sharp. `header` is `readImageHeader`'s result for these bytes (the limits have been checked).
 */
export async function decodeWorkImage(
  bytes: Uint8Array,
  header: ImageHeader,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<WorkImage> {
  return decodeInProcess(bytes, header) ?? decodeWithSharp(bytes, header, limits);
}

function normalizeWorkImage(format: ImageFormat, { image, resampled }: WorkImage): Uint8Array {
  return normalizeGarment(
    image.gray,
    image.width,
    image.height,
    resampled || format === 'jpeg' || format === 'webp',
  );
}

/** Preprocesses an encoded image to 784 bytes (0 = background), e.g. for the catalog's stored thumbnails. */
export async function preprocessImageToBytes(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<Uint8Array> {
  const header = readImageHeader(bytes, limits);
  return normalizeWorkImage(
    header.format,
    decodeInProcess(bytes, header) ?? (await decodeWithSharp(bytes, header, limits)),
  );
}

/**
 * The one preprocessing used by training-time evaluation, catalog import and serving: any PNG/JPEG/WebP/GIF
 * photo → 784 floats in [0,1], garment light on dark as in Fashion-MNIST.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<Float32Array> {
  return bytesToUnit(await preprocessImageToBytes(bytes, limits));
}

/**
 * The shared preprocessing's result for a small 8-bit gray PNG, synchronously; null when the PNG is not one
 * (use `preprocessImage`). `preprocessImage` takes the same path for such PNGs.
 */
export function preprocessSmallGrayPng(bytes: Uint8Array): Float32Array | null {
  const image = decodeSmallGrayPng(bytes);
  if (!image) return null;
  return bytesToUnit(normalizeGarment(image.gray, image.width, image.height));
}

/**
 * Encodes a 28x28 grayscale image (784 bytes) as PNG (`encodeGrayPng28`, synchronous, in JS; this async
 * form is kept for its callers).
 */
export async function encodePng28(pixels: Uint8Array): Promise<Buffer> {
  return encodeGrayPng28(pixels);
}
