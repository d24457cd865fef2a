/**
 * The catalog's stored images → the model's input. Every stored image is the output of the one
 * preprocessing (`preprocessImageToBytes` for photos, the dataset pixels for Fashion-MNIST) encoded as a
 * lossless 28x28 8-bit gray PNG, so decoding it yields exactly what training saw and what the live add path
 * embeds: no preprocessing runs again.
 */
import sharp from 'sharp';
import { DataFileError } from '../errors.ts';
import { IMAGE_PIXELS, IMAGE_SIZE } from './classes.ts';
import { bytesToUnit } from './pixels.ts';
import { decodeSmallGrayPng } from './png.ts';

/**
 * Decodes a stored catalog image (a 28x28 PNG) to the 784 floats in [0,1] the model takes. The PNGs this
 * project writes decode synchronously in JS (~20 us); any other PNG goes through sharp, with the same
 * pixels. `item` (a label or an id) only names the item in the error: DataFileError when the bytes do not
 * decode or are not 28x28.
 */
export async function decodeStoredImage(png: Uint8Array, item: number | string): Promise<Float32Array> {
  const fast = decodeSmallGrayPng(png, IMAGE_SIZE);
  let gray: Uint8Array;
  let width: number;
  let height: number;
  if (fast) {
    ({ gray, width, height } = fast);
  } else {
    try {
      const out = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
      if (out.info.channels !== 1) throw new Error(`${out.info.channels} channels after greyscale`);
      gray = out.data;
      ({ width, height } = out.info);
    } catch (err) {
      throw new DataFileError(`stored image of item ${item} cannot be decoded: ${(err as Error).message}`);
    }
  }
  if (width !== IMAGE_SIZE || height !== IMAGE_SIZE) {
    throw new DataFileError(`stored image of item ${item} is ${width}x${height}, expected 28x28`);
  }
  return bytesToUnit(gray.subarray(0, IMAGE_PIXELS));
}
