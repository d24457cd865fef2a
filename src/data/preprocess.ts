import sharp, { type OutputInfo } from 'sharp';
import { PayloadTooLargeError, UnprocessableImageError, UnsupportedMediaTypeError } from '../errors.ts';
import { IMAGE_PIXELS, IMAGE_SIZE } from './classes.ts';
import { bytesToUnit } from './pixels.ts';

export interface ImageLimits {
  /** Largest accepted encoded size in bytes. */
  maxBytes: number;
  /** Largest accepted declared width x height; checked from the header before any decoding. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 };

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/**
 * The decoded image is first shrunk (by libvips, using JPEG/WebP shrink-on-load where it can) so that its
 * longest side is at most this; background detection, trimming and the final fit to 28 px run on that
 * small image in JS. 128 = 4 x 28 keeps enough detail for a good 28 px result and lets a 512 px JPEG
 * decode at exactly 1/4 scale with no further resampling.
 */
export const WORK_SIZE = 128;

/**
 * Resampling and lossy compression leave ringing next to edges, in proportion to the edge's contrast; a
 * trim threshold below it makes the bounding box too large and the garment too small. 15% of the peak
 * level minimised the round-trip error over 100 test images upscaled with lanczos3 and nearest-neighbour
 * (mean absolute difference 8.9 and 5.1, against 11.5 and 11.3 with no such threshold). Clean, unresampled
 * inputs (a 28x28 PNG) keep a zero threshold so that they pass through exactly.
 */
const ARTIFACT_THRESHOLD = 0.15;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SOI = [0xff, 0xd8, 0xff];

function hasBytes(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  return bytes.length >= at + expected.length && expected.every((v, i) => bytes[at + i] === v);
}

function hasAscii(bytes: Uint8Array, at: number, text: string): boolean {
  return hasBytes(
    bytes,
    at,
    Array.from(text, (c) => c.charCodeAt(0)),
  );
}

/** Sniffs the container format from magic bytes; the server uses it to reject a mismatching Content-Type. */
export function detectFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (hasBytes(bytes, 0, PNG_SIGNATURE)) return 'png';
  if (hasBytes(bytes, 0, JPEG_SOI)) return 'jpeg';
  if (hasAscii(bytes, 0, 'GIF87a') || hasAscii(bytes, 0, 'GIF89a')) return 'gif';
  if (hasAscii(bytes, 0, 'RIFF') && hasAscii(bytes, 8, 'WEBP')) return 'webp';
  return undefined;
}

function tooLarge(message: string): PayloadTooLargeError {
  return new PayloadTooLargeError(message, 'IMAGE_TOO_LARGE');
}

function invalid(format: string, err: unknown): UnprocessableImageError {
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new UnprocessableImageError(`${format} image is corrupt or truncated: ${reason}`, 'INVALID_IMAGE');
}

/**
 * Validates size, format and declared dimensions from the header alone, so that oversized uploads and
 * decompression bombs are rejected before any pixel is decoded.
 */
export async function checkImageHeader(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<ImageHeader> {
  if (bytes.length > limits.maxBytes) {
    throw tooLarge(`image is ${bytes.length} bytes, the limit is ${limits.maxBytes}`);
  }
  const format = detectFormat(bytes);
  if (!format) {
    throw new UnsupportedMediaTypeError(
      'not a supported image: expected PNG, JPEG, WebP or GIF',
      'UNSUPPORTED_IMAGE_FORMAT',
    );
  }
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (err) {
    throw invalid(format, err);
  }
  if (!width || !height) throw invalid(format, new Error('header has no dimensions'));
  if (width * height > limits.maxPixels) {
    throw tooLarge(
      `image header declares ${width}x${height} = ${width * height} pixels, the limit is ${limits.maxPixels}`,
    );
  }
  return { format, width, height };
}

/**
 * Background level and noise, from the border pixels. The level is the median of the most populated
 * 16-level histogram bin rather than the plain median, so a garment that touches much of the border (a
 * pullover filling the frame) does not outvote a uniform background. The noise (90th percentile of the
 * deviation of the pixels near that level) is 0 on a clean background, which keeps 28x28 inputs exact,
 * and a few levels on a JPEG.
 */
export function borderBackground(gray: Uint8Array, w: number, h: number): { level: number; noise: number } {
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(gray[x], gray[(h - 1) * w + x]);
  for (let y = 1; y < h - 1; y++) border.push(gray[y * w], gray[y * w + w - 1]);
  const bins = new Int32Array(16);
  for (const v of border) bins[v >> 4]++;
  let mode = 0;
  for (let b = 1; b < 16; b++) if (bins[b] > bins[mode]) mode = b;
  const inBin = border.filter((v) => v >> 4 === mode).sort((a, b) => a - b);
  const level = inBin[inBin.length >> 1];
  const dev = border
    .map((v) => Math.abs(v - level))
    .filter((d) => d < 32)
    .sort((a, b) => a - b);
  return { level, noise: dev[Math.floor((dev.length - 1) * 0.9)] };
}

/**
 * Resampling weights for output pixel i centred on source coordinate (i + 0.5) / scale: area averaging
 * (each source pixel weighted by how much of it the output pixel covers) when shrinking, which recovers a
 * pixel grid that was enlarged best of the kernels measured; bilinear when enlarging. Scale 1 is the identity.
 */
function weights(
  inSize: number,
  outSize: number,
): { start: Int32Array; count: Int32Array; w: Float32Array; taps: number } {
  const scale = outSize / inSize;
  const support = Math.max(1, 1 / scale);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) / scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const v =
        scale < 1
          ? Math.max(0, Math.min(j + 1, center + support / 2) - Math.max(j, center - support / 2))
          : Math.max(0, 1 - Math.abs(j + 0.5 - center));
      w[i * taps + j - lo] = v;
      sum += v;
    }
    for (let j = lo; j < hi; j++) w[i * taps + j - lo] /= sum;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, w, taps };
}

/** Resamples the crop (x0, y0, cw, ch) of a w-wide gray image to ow x oh, separably (rows, then columns). */
function resizeCrop(
  src: Float32Array,
  w: number,
  x0: number,
  y0: number,
  cw: number,
  ch: number,
  ow: number,
  oh: number,
): Float32Array {
  const hx = weights(cw, ow);
  const tmp = new Float32Array(ow * ch);
  for (let y = 0; y < ch; y++) {
    const row = (y0 + y) * w + x0;
    for (let i = 0; i < ow; i++) {
      let acc = 0;
      const s = hx.start[i];
      for (let k = 0; k < hx.count[i]; k++) acc += src[row + s + k] * hx.w[i * hx.taps + k];
      tmp[y * ow + i] = acc;
    }
  }
  const hy = weights(ch, oh);
  const out = new Float32Array(ow * oh);
  for (let i = 0; i < oh; i++) {
    const s = hy.start[i];
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < hy.count[i]; k++) acc += tmp[(s + k) * ow + x] * hy.w[i * hy.taps + k];
      out[i * ow + x] = acc;
    }
  }
  return out;
}

/**
 * Turns a small grayscale image into Fashion-MNIST form: light background → inverted, background level
 * subtracted, trimmed to the garment's bounding box, longest side fitted to 28 px, centred on black.
 * Centring puts an odd leftover pixel on the left/top, as Fashion-MNIST does (reproduces ~98% of its
 * images exactly). `artifacts` says the pixels went through resampling or lossy compression (raises the
 * trim threshold, see ARTIFACT_THRESHOLD). Returns 784 bytes.
 */
export function normalizeGarment(gray: Uint8Array, w: number, h: number, artifacts = false): Uint8Array {
  const { level, noise } = borderBackground(gray, w, h);
  const invert = level > 127;
  const bg = invert ? 255 - level : level;
  const gain = 255 / (255 - bg);
  // Every pixel goes through the same level mapping: a 256-entry table keeps the per-pixel work to a lookup.
  const lut = new Float32Array(256);
  for (let g = 0; g < 256; g++) lut[g] = Math.max(0, (invert ? 255 - g : g) - bg) * gain;
  const v = new Float32Array(w * h);
  let peak = 0;
  for (let i = 0; i < w * h; i++) {
    const value = lut[gray[i]];
    v[i] = value;
    if (value > peak) peak = value;
  }
  // Above the background noise always; on a clean background (noise 0) that keeps even the faintest
  // garment pixels, so a Fashion-MNIST image keeps its exact bounding box.
  const threshold = Math.max(2 * noise, artifacts ? ARTIFACT_THRESHOLD * peak : 0);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = 0;
    while (first < w && v[row + first] <= threshold) first++;
    if (first === w) continue;
    let last = w - 1;
    while (v[row + last] <= threshold) last--;
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
  const fitted = resizeCrop(v, w, x0, y0, cw, ch, ow, oh);
  const out = new Uint8Array(IMAGE_PIXELS);
  const ox = Math.ceil((IMAGE_SIZE - ow) / 2);
  const oy = Math.ceil((IMAGE_SIZE - oh) / 2);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      out[(oy + y) * IMAGE_SIZE + ox + x] = Math.min(255, Math.max(0, Math.round(fitted[y * ow + x])));
    }
  }
  return out;
}

/**
 * Decodes (first frame only), auto-orients, flattens transparency onto white and shrinks to at most
 * WORK_SIZE. The gray conversion is done here in JS on the small image (ITU-R 601 luma, as PIL's "L"):
 * sharp's colour-managed grayscale() was measured to cost ~30% of the whole decode.
 */
async function decodeSmallGray(bytes: Uint8Array, header: ImageHeader, limits: ImageLimits) {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated' })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .resize({ width: WORK_SIZE, height: WORK_SIZE, fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw invalid(header.format, err);
  }
  const { data, info } = decoded;
  const n = info.width * info.height;
  if (info.channels < 3) {
    if (info.channels === 1) return { gray: new Uint8Array(data.buffer, data.byteOffset, n), info };
    const gray = new Uint8Array(n);
    for (let i = 0; i < n; i++) gray[i] = data[i * info.channels];
    return { gray, info };
  }
  const gray = new Uint8Array(n);
  const c = info.channels;
  for (let i = 0; i < n; i++) {
    gray[i] = (data[i * c] * 19595 + data[i * c + 1] * 38470 + data[i * c + 2] * 7471 + 32768) >>> 16;
  }
  return { gray, info };
}

/** Preprocesses an encoded image to 784 bytes (0 = background), e.g. for the catalog's stored thumbnails. */
export async function preprocessImageToBytes(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<Uint8Array> {
  const header = await checkImageHeader(bytes, limits);
  const { gray, info } = await decodeSmallGray(bytes, header, limits);
  // Compared by area because auto-orientation may have swapped width and height.
  const resampled = info.width * info.height !== header.width * header.height;
  return normalizeGarment(
    gray,
    info.width,
    info.height,
    resampled || header.format === 'jpeg' || header.format === 'webp',
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

/** Encodes a 28x28 grayscale image (784 bytes) as PNG. */
export async function encodePng28(pixels: Uint8Array): Promise<Buffer> {
  if (pixels.length !== IMAGE_PIXELS) {
    throw new RangeError(`expected ${IMAGE_PIXELS} pixels (28x28), got ${pixels.length}`);
  }
  return sharp(pixels, { raw: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 9 })
    .toBuffer();
}
