/**
 * Image headers read in JS: format from the magic bytes, then the declared width and height from the
 * PNG IHDR, the JPEG frame header (SOFn), the WebP VP8/VP8L/VP8X chunk or the GIF logical screen, so that
 * size and pixel-bomb limits are checked before any decoder runs, without a libvips call (sharp's
 * `metadata()` costs a thread-pool hop and a pipeline set-up per image).
 */
import { PayloadTooLargeError, UnprocessableImageError, UnsupportedMediaTypeError } from '../errors.ts';

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

export function tooLarge(message: string): PayloadTooLargeError {
  return new PayloadTooLargeError(message, 'IMAGE_TOO_LARGE');
}

/** `jpeg image is corrupt or truncated: <first line of the reason>` (422 INVALID_IMAGE). */
export function invalidImage(format: string, err: unknown): UnprocessableImageError {
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new UnprocessableImageError(`${format} image is corrupt or truncated: ${reason}`, 'INVALID_IMAGE');
}

const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const u32be = (b: Uint8Array, at: number) =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** Frame-header markers (SOF0..SOF15 without DHT C4, JPG C8 and DAC CC). */
export function isSofMarker(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function pngSize(b: Uint8Array): [number, number] {
  // The IHDR chunk must come first: length 13, type, width, height.
  if (b.length < 8 + 8 + 13) throw new Error('file ends before the IHDR chunk');
  if (u32be(b, 8) !== 13 || !hasAscii(b, 12, 'IHDR')) throw new Error('the first chunk is not IHDR');
  return [u32be(b, 16), u32be(b, 20)];
}

function jpegSize(b: Uint8Array): [number, number] {
  let pos = 2;
  for (;;) {
    // Markers may be preceded by any number of 0xFF fill bytes.
    while (pos < b.length && b[pos] === 0xff && b[pos + 1] === 0xff) pos++;
    if (pos + 4 > b.length) throw new Error('file ends before the frame header (SOFn)');
    if (b[pos] !== 0xff) throw new Error(`expected a marker at byte ${pos}`);
    const marker = b[pos + 1];
    if (marker === 0xd9 || marker === 0xda) throw new Error('no frame header (SOFn) before the scan');
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2; // standalone markers
      continue;
    }
    const length = u16be(b, pos + 2);
    if (length < 2) throw new Error(`marker 0x${marker.toString(16)} has length ${length}`);
    if (isSofMarker(marker)) {
      if (pos + 9 > b.length) throw new Error('file ends inside the frame header');
      return [u16be(b, pos + 7), u16be(b, pos + 5)];
    }
    pos += 2 + length;
  }
}

function webpSize(b: Uint8Array): [number, number] {
  if (b.length < 30) throw new Error('file ends before the first chunk header');
  const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 scaling bits each).
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new Error('bad VP8 start code');
    return [u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff];
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw new Error('bad VP8L signature');
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X') return [u24le(b, 24) + 1, u24le(b, 27) + 1];
  throw new Error(`unknown first chunk '${chunk}'`);
}

function gifSize(b: Uint8Array): [number, number] {
  if (b.length < 10) throw new Error('file ends before the logical screen descriptor');
  return [u16le(b, 6), u16le(b, 8)];
}

/**
 * Validates size, format and declared dimensions from the header alone (no decoding, no libvips), so that
 * oversized uploads and decompression bombs are rejected before any pixel is decoded.
 * 413 IMAGE_TOO_LARGE, 415 UNSUPPORTED_IMAGE_FORMAT, 422 INVALID_IMAGE for a header that cannot be read.
 */
export function readImageHeader(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): ImageHeader {
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
  let width: number;
  let height: number;
  try {
    [width, height] =
      format === 'png'
        ? pngSize(bytes)
        : format === 'jpeg'
          ? jpegSize(bytes)
          : format === 'webp'
            ? webpSize(bytes)
            : gifSize(bytes);
  } catch (err) {
    throw invalidImage(format, err);
  }
  if (!width || !height) throw invalidImage(format, new Error('header has no dimensions'));
  if (width * height > limits.maxPixels) {
    throw tooLarge(
      `image header declares ${width}x${height} = ${width * height} pixels, the limit is ${limits.maxPixels}`,
    );
  }
  return { format, width, height };
}
