/** The JS PNG codec (src/data/png.ts) and the stored-image decode (src/data/storedImage.ts) against sharp. */
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { bytesToUnit } from '../../src/data/pixels.ts';
import { decodeSmallGrayPng, encodeGrayPng28 } from '../../src/data/png.ts';
import { decodeStoredImage } from '../../src/data/storedImage.ts';
import type { ImageSet } from '../../src/data/types.ts';
import { DataFileError } from '../../src/errors.ts';

let test: ImageSet;
beforeAll(async () => {
  test = await loadFashionMnistSplit('test');
});
const image = (i: number) => test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
const raw28 = { raw: { width: 28, height: 28, channels: 1 as const } };

/** sharp's PNG encoder as the catalog used it before the JS one (what older databases hold). */
const sharpPng28 = (pixels: Uint8Array) =>
  sharp(pixels, raw28).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();

describe('encodeGrayPng28', () => {
  it('writes an 8-bit gray 28x28 PNG that sharp decodes to the same pixels, deterministically', async () => {
    for (let i = 0; i < 200; i++) {
      const png = encodeGrayPng28(image(i));
      // (sharp's raw output of a gray PNG is sRGB unless asked for one channel.)
      const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([28, 28, 1]);
      expect(new Uint8Array(data)).toEqual(image(i));
      expect(encodeGrayPng28(image(i))).toEqual(png);
    }
    const meta = await sharp(encodeGrayPng28(image(0))).metadata();
    expect([meta.format, meta.depth, meta.isProgressive, meta.hasAlpha]).toEqual([
      'png',
      'uchar',
      false,
      false,
    ]);
  });

  it('is one IDAT of unfiltered rows, and refuses a wrong length', () => {
    const png = encodeGrayPng28(image(3));
    const types: string[] = [];
    for (let pos = 8; pos < png.length; pos += 12 + png.readUInt32BE(pos)) {
      types.push(png.toString('latin1', pos + 4, pos + 8));
    }
    expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
    const raw = inflateSync(png.subarray(41, 41 + png.readUInt32BE(33)));
    expect(raw.length).toBe(29 * 28);
    for (let y = 0; y < 28; y++) expect(raw[y * 29]).toBe(0);
    expect(() => encodeGrayPng28(new Uint8Array(100))).toThrow(RangeError);
  });
});

describe('decodeSmallGrayPng', () => {
  it('decodes what sharp writes (every filter type and compression level) to sharp’s pixels', async () => {
    const gradient = Buffer.alloc(120 * 77);
    for (let i = 0; i < gradient.length; i++) gradient[i] = (i * 7 + (i % 120) * (i % 13)) & 0xff;
    for (const level of [0, 1, 6, 9]) {
      for (const adaptiveFiltering of [false, true]) {
        const png = await sharp(gradient, { raw: { width: 120, height: 77, channels: 1 } })
          .toColourspace('b-w')
          .png({ compressionLevel: level, adaptiveFiltering })
          .toBuffer();
        const ours = decodeSmallGrayPng(png);
        expect(ours).not.toBeNull();
        expect([ours?.width, ours?.height]).toEqual([120, 77]);
        expect(ours?.gray).toEqual(new Uint8Array(gradient));
      }
    }
  });

  it('takes nothing larger than its maxSide', async () => {
    const png = encodeGrayPng28(image(1));
    expect(decodeSmallGrayPng(png, 28)).not.toBeNull();
    expect(decodeSmallGrayPng(png, 27)).toBeNull();
  });
});

describe('decodeStoredImage', () => {
  it('gives exactly sharp’s pixels for the PNGs of both encoders (JS fast path)', async () => {
    for (let i = 0; i < 100; i++) {
      for (const png of [encodeGrayPng28(image(i)), await sharpPng28(image(i))]) {
        const floats = await decodeStoredImage(png, i);
        const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
        expect(floats).toEqual(bytesToUnit(data));
      }
    }
  });

  it('falls back to sharp for other PNGs (RGB, alpha) with the same result as before', async () => {
    const rgb = await sharp(Buffer.from(Array.from(image(4)).flatMap((v) => [v, v, v])), {
      raw: { width: 28, height: 28, channels: 3 },
    })
      .png()
      .toBuffer();
    expect(decodeSmallGrayPng(rgb)).toBeNull();
    const floats = await decodeStoredImage(rgb, 'rgb');
    const { data } = await sharp(rgb).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect(floats).toEqual(bytesToUnit(data));
  });

  it('refuses undecodable bytes and wrong sizes with DataFileError naming the item', async () => {
    const png = encodeGrayPng28(image(0));
    await expect(decodeStoredImage(png.subarray(0, 40), 17)).rejects.toThrow(
      /^stored image of item 17 cannot be decoded: /,
    );
    await expect(decodeStoredImage(png.subarray(0, 40), 17)).rejects.toBeInstanceOf(DataFileError);
    const big = await sharp(Buffer.alloc(30 * 30, 9), { raw: { width: 30, height: 30, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    await expect(decodeStoredImage(big, 'sku-1')).rejects.toThrow(
      'stored image of item sku-1 is 30x30, expected 28x28',
    );
  });
});
