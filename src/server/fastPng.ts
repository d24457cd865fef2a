/**
 * A fast path for the commonest query image: a small 8-bit grayscale PNG (a
 * Fashion-MNIST image, or the catalog's own 28x28 PNGs). sharp costs ~1-2 ms
 * per call here even for 784 pixels (thread-pool hop, libvips pipeline set-up),
 * which capped /similar well below the model's throughput; zlib + unfiltering
 * in JS takes tens of microseconds. Only PNGs whose sharp decode is the
 * identity are taken (8-bit gray, no alpha/transparency, no EXIF orientation
 * or colour profile, not interlaced, at most WORK_SIZE px a side so the shared
 * preprocessing would not resize); the pixels then go through the same
 * `normalizeGarment` as every other image. Anything else, or anything
 * malformed, returns null and takes the normal sharp path, which also
 * produces the error messages.
 */
import { crc32, inflateSync } from 'node:zlib';
import { bytesToUnit } from '../data/pixels.ts';
import { normalizeGarment, WORK_SIZE } from '../data/preprocess.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Chunks that do not change decoded pixels (sharp ignores them). Any other chunk → the sharp path. */
const HARMLESS = new Set(['pHYs', 'tEXt', 'zTXt', 'iTXt', 'tIME', 'bKGD']);

export interface GrayImage {
  gray: Uint8Array;
  width: number;
  height: number;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit grayscale PNG of at most WORK_SIZE a side; null when it is anything else or malformed. */
export function decodeSmallGrayPng(bytes: Uint8Array): GrayImage | null {
  if (bytes.length < 8 + 25 || !SIGNATURE.every((v, i) => bytes[i] === v)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    if (pos + 12 + length > bytes.length) return null;
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== view.getUint32(pos + 8 + length)) return null;
    pos += 12 + length;
    if (type === 'IHDR') {
      if (length !== 13) return null;
      const header = new DataView(data.buffer, data.byteOffset, data.byteLength);
      width = header.getUint32(0);
      height = header.getUint32(4);
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      if (depth !== 8 || colour !== 0 || compression !== 0 || filter !== 0 || interlace !== 0) return null;
      // preprocess.ts shrinks larger images to WORK_SIZE before normalizing; smaller ones are left as they are.
      if (width < 1 || height < 1 || width > WORK_SIZE || height > WORK_SIZE) return null;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (!HARMLESS.has(type)) {
      return null;
    }
  }
  if (!ended || width === 0 || idat.length === 0) return null;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch {
    return null;
  }
  const stride = width + 1;
  if (raw.length !== stride * height) return null;
  const gray = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * stride];
    const row = y * width;
    const prev = row - width;
    for (let x = 0; x < width; x++) {
      const v = raw[y * stride + 1 + x];
      const a = x > 0 ? gray[row + x - 1] : 0;
      const b = y > 0 ? gray[prev + x] : 0;
      const c = x > 0 && y > 0 ? gray[prev + x - 1] : 0;
      let out: number;
      if (filter === 0) out = v;
      else if (filter === 1) out = v + a;
      else if (filter === 2) out = v + b;
      else if (filter === 3) out = v + ((a + b) >> 1);
      else if (filter === 4) out = v + paeth(a, b, c);
      else return null;
      gray[row + x] = out & 0xff;
    }
  }
  return { gray, width, height };
}

/** The shared preprocessing's result for such a PNG, or null when the PNG is not one (use `preprocessImage`). */
export function preprocessSmallGrayPng(bytes: Uint8Array): Float32Array | null {
  const image = decodeSmallGrayPng(bytes);
  if (!image) return null;
  return bytesToUnit(normalizeGarment(image.gray, image.width, image.height));
}
