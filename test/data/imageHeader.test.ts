/** Headers read in JS (src/data/imageHeader.ts) against sharp's metadata, and their refusals. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../src/data/imageHeader.ts';
import {
  PayloadTooLargeError,
  UnprocessableImageError,
  UnsupportedMediaTypeError,
} from '../../src/errors.ts';

const limits = { maxBytes: 1e7, maxPixels: 1e8 };

function thrown(fn: () => unknown): Error & { code?: string; status?: number } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string; status?: number };
  }
  throw new Error('expected an exception');
}

describe('readImageHeader', () => {
  it('reads the same width and height as sharp for every format and variant', async () => {
    const rgb = sharp({ create: { width: 123, height: 45, channels: 3, background: '#7a5' } });
    const rgba = sharp({ create: { width: 67, height: 301, channels: 4, background: '#7a58' } });
    const variants: [Buffer, string][] = [
      [await rgb.clone().png().toBuffer(), 'png'],
      [await rgba.clone().png({ palette: true }).toBuffer(), 'png'],
      [await rgb.clone().jpeg().toBuffer(), 'jpeg'],
      [await rgb.clone().jpeg({ progressive: true }).toBuffer(), 'jpeg'],
      [await rgb.clone().jpeg().withMetadata({ orientation: 6 }).toBuffer(), 'jpeg'],
      [await rgb.clone().withIccProfile('p3').jpeg().toBuffer(), 'jpeg'],
      [await rgb.clone().webp({ quality: 80 }).toBuffer(), 'webp'],
      [await rgb.clone().webp({ lossless: true }).toBuffer(), 'webp'],
      [await rgba.clone().webp({ quality: 80 }).toBuffer(), 'webp'],
      [await rgb.clone().webp().withMetadata({ orientation: 3 }).toBuffer(), 'webp'],
      [await rgb.clone().gif().toBuffer(), 'gif'],
      [
        await sharp({ create: { width: 16383, height: 3, channels: 3, background: '#fff' } })
          .webp()
          .toBuffer(),
        'webp',
      ],
    ];
    for (const [bytes, format] of variants) {
      const meta = await sharp(bytes).metadata();
      expect(readImageHeader(bytes, limits)).toEqual({ format, width: meta.width, height: meta.height });
    }
  });

  it('skips fill bytes and standalone markers before a JPEG frame header', async () => {
    const jpeg = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    const padded = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xff, 0xff]), jpeg.subarray(3)]);
    expect(readImageHeader(padded, limits)).toMatchObject({ width: 20, height: 10 });
  });

  it('refuses headers it cannot read with 422 INVALID_IMAGE, in the message style of the decoders', async () => {
    const png = await sharp({ create: { width: 9, height: 9, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const jpeg = await sharp({ create: { width: 9, height: 9, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    const webp = await sharp({ create: { width: 9, height: 9, channels: 3, background: '#fff' } })
      .webp()
      .toBuffer();
    const sos = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    const noSof = Buffer.from(jpeg);
    noSof[sos + 1] = 0xfe; // the frame header becomes a comment
    const zeroSize = Buffer.from(png);
    zeroSize.writeUInt32BE(0, 16);
    for (const [bytes, format] of [
      [png.subarray(0, 12), 'png'],
      [zeroSize, 'png'],
      [jpeg.subarray(0, 20), 'jpeg'],
      [noSof, 'jpeg'],
      [webp.subarray(0, 20), 'webp'],
      [Buffer.from('GIF89a'), 'gif'],
    ] as const) {
      const err = thrown(() => readImageHeader(bytes, limits));
      expect(err).toBeInstanceOf(UnprocessableImageError);
      expect([err.status, err.code]).toEqual([422, 'INVALID_IMAGE']);
      expect(err.message).toMatch(new RegExp(`^${format} image is corrupt or truncated: `));
    }
  });

  it('applies the byte and pixel limits before anything else (413), and 415 for other formats', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    const big = thrown(() => readImageHeader(jpeg, { maxBytes: 100, maxPixels: 1e9 }));
    expect(big).toBeInstanceOf(PayloadTooLargeError);
    expect(big.message).toBe(`image is ${jpeg.length} bytes, the limit is 100`);
    const bomb = thrown(() => readImageHeader(jpeg, { maxBytes: 1e6, maxPixels: 59_999 }));
    expect([bomb.status, bomb.code]).toEqual([413, 'IMAGE_TOO_LARGE']);
    expect(bomb.message).toBe('image header declares 300x200 = 60000 pixels, the limit is 59999');
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .tiff()
      .toBuffer();
    expect(thrown(() => readImageHeader(tiff, limits))).toBeInstanceOf(UnsupportedMediaTypeError);
  });
});
