import { gunzipSync } from 'node:zlib';
import { DataFileError } from '../errors.ts';
import { IMAGE_SIZE } from './classes.ts';

/** IDX magic numbers: two zero bytes, type 0x08 (unsigned byte), then the number of dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** Decompresses gzip content (detected by its magic, not by the file name); raw content is returned as is. */
export function gunzipIfNeeded(bytes: Uint8Array, fileName: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new DataFileError(
      `${fileName}: gzip data is truncated or corrupt (${(err as Error).message})`,
      'DATA_FILE_CORRUPT',
    );
  }
}

export interface IdxImages {
  /** count * rows * cols bytes, row-major. */
  images: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

function readHeader(bytes: Uint8Array, fileName: string, magic: number, dims: number): number[] {
  const headerSize = 4 + 4 * dims;
  if (bytes.length < headerSize) {
    throw new DataFileError(
      `${fileName}: file is truncated: ${bytes.length} bytes, shorter than the ${headerSize}-byte IDX header`,
      'DATA_FILE_TRUNCATED',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    throw new DataFileError(
      `${fileName}: not an IDX ${dims === 3 ? 'image' : 'label'} file: magic 0x${found
        .toString(16)
        .padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}`,
      'DATA_FILE_CORRUPT',
    );
  }
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  return shape;
}

function checkSize(bytes: Uint8Array, fileName: string, headerSize: number, payload: number): void {
  const expected = headerSize + payload;
  if (bytes.length < expected) {
    throw new DataFileError(
      `${fileName}: file is truncated: ${bytes.length} bytes, the header declares ${expected}`,
      'DATA_FILE_TRUNCATED',
    );
  }
  if (bytes.length > expected) {
    throw new DataFileError(
      `${fileName}: file has ${bytes.length - expected} unexpected trailing bytes (header declares ${expected})`,
      'DATA_FILE_CORRUPT',
    );
  }
}

/** Parses an IDX3 image file (gzip or raw). Images must be 28x28 like Fashion-MNIST's. */
export function parseIdxImages(bytes: Uint8Array, fileName: string): IdxImages {
  const raw = gunzipIfNeeded(bytes, fileName);
  const [count, rows, cols] = readHeader(raw, fileName, IDX_IMAGES_MAGIC, 3);
  if (rows !== IMAGE_SIZE || cols !== IMAGE_SIZE) {
    throw new DataFileError(
      `${fileName}: images are ${rows}x${cols}, expected ${IMAGE_SIZE}x${IMAGE_SIZE}`,
      'DATA_FILE_CORRUPT',
    );
  }
  checkSize(raw, fileName, 16, count * rows * cols);
  return { images: raw.subarray(16), count, rows, cols };
}

/** Parses an IDX1 label file (gzip or raw); every label must be a class index 0..numClasses-1. */
export function parseIdxLabels(bytes: Uint8Array, fileName: string, numClasses = 10): Uint8Array {
  const raw = gunzipIfNeeded(bytes, fileName);
  const [count] = readHeader(raw, fileName, IDX_LABELS_MAGIC, 1);
  checkSize(raw, fileName, 8, count);
  const labels = raw.subarray(8);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DataFileError(
        `${fileName}: label ${labels[i]} at index ${i} is outside 0..${numClasses - 1}`,
        'DATA_FILE_CORRUPT',
      );
    }
  }
  return labels;
}
