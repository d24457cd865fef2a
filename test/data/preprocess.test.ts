import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import {
  checkImageHeader,
  DEFAULT_IMAGE_LIMITS,
  decodeWithSharp,
  detectFormat,
  encodePng28,
  normalizeGarment,
  preprocessImage,
  preprocessImageToBytes,
  readImageHeader,
} from '../../src/data/preprocess.ts';
import type { ImageSet } from '../../src/data/types.ts';
import {
  AppError,
  PayloadTooLargeError,
  UnprocessableImageError,
  UnsupportedMediaTypeError,
} from '../../src/errors.ts';

let test: ImageSet;
beforeAll(async () => {
  test = await loadFashionMnistSplit('test');
});
const image = (i: number) => test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
const raw28 = { raw: { width: 28, height: 28, channels: 1 as const } };

function mad(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / a.length;
}

/** The round trip: 28x28 → 512x512 (sharp's default lanczos3) → inverted to dark-on-white → JPEG q90. */
function toInvertedJpeg512(pixels: Uint8Array): Promise<Buffer> {
  return sharp(Buffer.from(pixels.map((v) => 255 - v)), raw28)
    .resize(512, 512)
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string; status?: number };
  }
  throw new Error('expected a rejection');
}

/** A real PNG whose header declares width x height of 1-bit pixels, all zero: ~50 KB that inflate to 50 MB. */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth 1, colour type 0 (gray), default compression/filter/interlace
  const rows = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('preprocess round trips on real Fashion-MNIST test images', () => {
  it('a 28x28 PNG passes through unchanged (measured: 975 of the first 1,000 exact, mean abs diff 0.5)', async () => {
    // The rest differ only where Fashion-MNIST itself centred an odd leftover pixel differently or its
    // garment does not reach 28 px; 500 images keep the test quick.
    let exact = 0;
    let total = 0;
    for (let i = 0; i < 500; i++) {
      const out = await preprocessImageToBytes(await encodePng28(image(i)));
      const d = mad(out, image(i));
      if (d === 0) exact++;
      total += d;
    }
    expect(exact).toBeGreaterThanOrEqual(480);
    expect(total / 500).toBeLessThan(1);
  });

  it('a 28x28 JPEG (q95) comes back within JPEG loss', async () => {
    let total = 0;
    for (let i = 0; i < 50; i++) {
      const jpeg = await sharp(Buffer.from(image(i)), raw28)
        .jpeg({ quality: 95 })
        .toBuffer();
      total += mad(await preprocessImageToBytes(jpeg), image(i));
    }
    expect(total / 50).toBeLessThan(5);
  });

  it('512x512 inverted JPEG q90 → mean abs diff to the original 9.2/255 over 50 images (max 34.1)', async () => {
    // For scale: resizing the same 512 px image straight back to 28x28 with sharp's lanczos3, knowing the
    // exact crop, gives 5.1; two unrelated test images differ by ~60. Decoded by sharp (shrink-on-load to
    // 256, lanczos3 to 128) instead of the JS decoder's 1/4 DCT scaling: 8.75.
    const mads: number[] = [];
    for (let i = 0; i < 50; i++)
      mads.push(mad(await preprocessImageToBytes(await toInvertedJpeg512(image(i))), image(i)));
    const mean = mads.reduce((a, b) => a + b, 0) / mads.length;
    expect(mean).toBeLessThan(10);
    expect(Math.max(...mads)).toBeLessThan(40);
    const unrelated = mad(image(0), image(1));
    expect(unrelated).toBeGreaterThan(4 * mean);
  });

  it('is idempotent on its own output stored as PNG (the catalog re-embeds stored thumbnails)', async () => {
    // Measured: 500 of 500 from 28x28 PNGs, 499 of 500 from the 512 px JPEGs.
    let same = 0;
    for (let i = 0; i < 50; i++) {
      const once = await preprocessImageToBytes(await toInvertedJpeg512(image(i)));
      const twice = await preprocessImageToBytes(await encodePng28(once));
      if (mad(once, twice) === 0) same++;
    }
    expect(same).toBeGreaterThanOrEqual(49);
  });

  it('light-on-dark photos are not inverted, and WebP and GIF decode like JPEG', async () => {
    const pixels = image(3);
    const up = sharp(Buffer.from(pixels), raw28).resize(300, 300);
    const viaJpeg = await preprocessImageToBytes(await up.clone().jpeg({ quality: 90 }).toBuffer());
    const viaWebp = await preprocessImageToBytes(await up.clone().webp({ quality: 90 }).toBuffer());
    const viaGif = await preprocessImageToBytes(await up.clone().gif().toBuffer());
    expect(mad(viaJpeg, pixels)).toBeLessThan(15);
    expect(mad(viaWebp, pixels)).toBeLessThan(15);
    expect(mad(viaGif, pixels)).toBeLessThan(15);
  });

  it('preprocessImage returns 784 floats = bytes / 255', async () => {
    const png = await encodePng28(image(7));
    const floats = await preprocessImage(png);
    const bytes = await preprocessImageToBytes(png);
    expect(floats.length).toBe(IMAGE_PIXELS);
    for (let i = 0; i < IMAGE_PIXELS; i++) expect(floats[i]).toBeCloseTo(bytes[i] / 255, 6);
  });
});

/** The same preprocessing with sharp as the decoder (what every JPEG went through before the JS decoder). */
async function viaSharp(bytes: Uint8Array): Promise<Uint8Array> {
  const header = readImageHeader(bytes);
  const { image: img, resampled } = await decodeWithSharp(bytes, header);
  return normalizeGarment(img.gray, img.width, img.height, resampled || header.format !== 'png');
}

describe('the in-process JPEG decoder in the preprocessing', () => {
  it('gives what the sharp path gives, to within a level, at the same round-trip quality', async () => {
    // Measured on these 30 images: mean difference to the sharp path 1.06 / 0.85 / 1.72, round-trip error
    // 9.66 vs 9.22, 10.06 vs 10.31, 8.93 vs 9.23. The gap is the shrink to WORK_SIZE, not the DCT scaling:
    // sharp's lanczos3 is a little sharper than the area averaging of the JS path, and the finish of a
    // shrunk garment (an unsharp mask) doubles what was 0.83 / 0.45 / 0.96 without it.
    const cases = [
      { name: '512 q90', max: 1.4, make: (px: Uint8Array) => toInvertedJpeg512(px) },
      {
        name: '300 q75 4:4:4',
        max: 1.1,
        make: (px: Uint8Array) =>
          sharp(Buffer.from(px.map((v) => 255 - v)), raw28)
            .resize(300, 300)
            .jpeg({ quality: 75, chromaSubsampling: '4:4:4' })
            .toBuffer(),
      },
      {
        name: '1000x800 q85',
        max: 2.2,
        make: (px: Uint8Array) =>
          sharp(Buffer.from(px.map((v) => 255 - v)), raw28)
            .resize(1000, 800, { fit: 'contain', background: '#ffffff' })
            .jpeg({ quality: 85 })
            .toBuffer(),
      },
    ];
    for (const { name, max, make } of cases) {
      let js = 0;
      let viaLibvips = 0;
      let between = 0;
      for (let i = 0; i < 30; i++) {
        const jpeg = await make(image(i));
        const a = await preprocessImageToBytes(jpeg);
        const b = await viaSharp(jpeg);
        js += mad(a, image(i)) / 30;
        viaLibvips += mad(b, image(i)) / 30;
        between += mad(a, b) / 30;
      }
      expect(between, name).toBeLessThan(max);
      expect(Math.abs(js - viaLibvips), name).toBeLessThan(0.6);
    }
  });

  it('a 28x28 JPEG decodes exactly as libjpeg does (full scale, no resampling)', async () => {
    for (let i = 0; i < 20; i++) {
      const jpeg = await sharp(Buffer.from(image(i)), raw28)
        .jpeg({ quality: 95 })
        .toBuffer();
      expect(await preprocessImageToBytes(jpeg)).toEqual(await viaSharp(jpeg));
    }
  });

  it('grayscale JPEGs and EXIF-rotated JPEGs come out as through sharp', async () => {
    const tall = sharp(Buffer.from(image(11).map((v) => 255 - v)), raw28).resize(200, 400, { fit: 'fill' });
    for (const jpeg of [
      await tall.clone().toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(),
      await tall.clone().jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer(),
      await tall.clone().jpeg({ quality: 90 }).withMetadata({ orientation: 3 }).toBuffer(),
    ]) {
      expect(mad(await preprocessImageToBytes(jpeg), await viaSharp(jpeg))).toBeLessThan(1.5);
    }
  });

  it('damaged JPEGs give a 4xx domain error or an image, never anything else', async () => {
    const jpeg = await toInvertedJpeg512(image(12));
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let refused = 0;
    for (let t = 0; t < 60; t++) {
      const bad = Buffer.from(jpeg);
      for (let k = 0; k < 1 + (t % 3); k++)
        bad[Math.floor(random() * bad.length)] = Math.floor(random() * 256);
      const cut = t % 2 === 0 ? bad : bad.subarray(0, Math.floor(random() * bad.length));
      try {
        expect((await preprocessImage(cut)).length).toBe(IMAGE_PIXELS);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBeGreaterThanOrEqual(400);
        expect((err as AppError).status).toBeLessThan(500);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe('geometry and background', () => {
  it('trims a wide garment on a grey background, fits its width to 28 px and centres it vertically', async () => {
    // A dark 200x100 rectangle on a light grey (200) 600x400 canvas, like a product photo.
    const photo = await sharp({
      create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 200, b: 200 } },
    })
      .composite([
        {
          input: { create: { width: 200, height: 100, channels: 3, background: '#000000' } },
          left: 50,
          top: 250,
        },
      ])
      .png()
      .toBuffer();
    const out = await preprocessImageToBytes(photo);
    const rowSums = Array.from({ length: 28 }, (_, y) =>
      out.subarray(y * 28, y * 28 + 28).reduce((a, b) => a + b, 0),
    );
    const rows = rowSums.map((s, y) => (s > 28 * 128 ? y : -1)).filter((y) => y >= 0);
    expect(rows.length).toBeGreaterThanOrEqual(13);
    expect(rows.length).toBeLessThanOrEqual(15);
    expect(Math.abs((rows[0] + rows[rows.length - 1]) / 2 - 13.5)).toBeLessThanOrEqual(1);
    // A middle row is bright across (its two end pixels are partly covered); the grey background became black.
    expect(Math.min(...out.subarray(14 * 28 + 1, 15 * 28 - 1))).toBeGreaterThan(200);
    expect(out[0]).toBe(0);
  });

  it('a garment shrunk to fit is sharpened and brought to the full level; one that is not, is left as it is', async () => {
    // A mid-grey (120) garment on white: inverted, its level is 135 of 255.
    const dim = new Uint8Array(IMAGE_PIXELS).fill(255);
    for (let y = 4; y < 24; y++) dim.fill(120, y * 28 + 8, y * 28 + 20);
    const small = await sharp(Buffer.from(dim), raw28).png().toBuffer();
    const large = await sharp(Buffer.from(dim), raw28)
      .resize(280, 280, { kernel: 'nearest' })
      .png()
      .toBuffer();
    const unshrunk = await preprocessImageToBytes(small);
    const shrunk = await preprocessImageToBytes(large);
    expect(Math.max(...unshrunk)).toBe(135);
    expect(Math.max(...shrunk)).toBe(255);
    // The unsharp mask's overshoot sits on the garment's edge, above its flat inside.
    const row = shrunk.subarray(14 * 28, 15 * 28).filter((v) => v > 0);
    expect(Math.max(...row.subarray(0, 3))).toBeGreaterThan(row[row.length >> 1]);
  });

  it('a transparent PNG is flattened onto white, so the garment stands out', async () => {
    const rgba = await sharp({
      create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .composite([
        {
          input: {
            create: { width: 32, height: 16, channels: 4, background: { r: 30, g: 30, b: 30, alpha: 1 } },
          },
          left: 16,
          top: 24,
        },
      ])
      .png()
      .toBuffer();
    const out = await preprocessImageToBytes(rgba);
    expect(out[14 * 28 + 14]).toBeGreaterThan(200);
    expect(out[0]).toBe(0);
  });

  it('honours EXIF orientation and decodes 16-bit, palette and CMYK images like the plain PNG', async () => {
    const base = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } })
      .composite([
        {
          input: { create: { width: 60, height: 150, channels: 3, background: '#202020' } },
          top: 25,
          left: 50,
        },
      ])
      .png()
      .toBuffer();
    const ref = await preprocessImageToBytes(base);
    const width = (px: Uint8Array) =>
      new Set(
        Array.from(px.keys())
          .filter((i) => px[i] > 128)
          .map((i) => i % 28),
      ).size;
    expect(width(ref)).toBeGreaterThanOrEqual(10);
    expect(width(ref)).toBeLessThanOrEqual(12);
    // Stored as is but tagged "rotate 90° clockwise": the tall garment must come out wide.
    const rotated = await preprocessImageToBytes(
      await sharp(base).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
    );
    expect(width(rotated)).toBe(28);
    for (const variant of [
      await sharp(base).toColourspace('rgb16').png().toBuffer(),
      await sharp(base).png({ palette: true }).toBuffer(),
      await sharp(base).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
    ]) {
      expect(mad(await preprocessImageToBytes(variant), ref)).toBeLessThan(20);
    }
  });

  it('a blank image gives an all-black result', async () => {
    const blank = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    expect((await preprocessImageToBytes(blank)).every((v) => v === 0)).toBe(true);
  });

  it('normalizeGarment on raw pixels: the garment that fills the frame is not mistaken for background', () => {
    // A bright, textured pullover touching all four edges except 5x5 black corners: 72 of the 108 border
    // pixels are garment, so the plain border median (bright) would invert it; the black corners are the
    // most common border value and win.
    const px = new Uint8Array(28 * 28);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++)
        px[y * 28 + x] = (x < 5 || x > 22) && (y < 5 || y > 22) ? 0 : 150 + ((x * 7 + y * 3) % 100);
    const border = Array.from(px.keys())
      .filter((i) => i < 28 || i >= 27 * 28 || i % 28 === 0 || i % 28 === 27)
      .map((i) => px[i])
      .sort((a, b) => a - b);
    expect(border[border.length >> 1]).toBeGreaterThan(127);
    expect(normalizeGarment(px, 28, 28)).toEqual(px);
  });
});

describe('header checks and bad input', () => {
  it('detectFormat sniffs the four formats and nothing else', async () => {
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } });
    expect(detectFormat(await base.clone().png().toBuffer())).toBe('png');
    expect(detectFormat(await base.clone().jpeg().toBuffer())).toBe('jpeg');
    expect(detectFormat(await base.clone().webp().toBuffer())).toBe('webp');
    expect(detectFormat(await base.clone().gif().toBuffer())).toBe('gif');
    expect(detectFormat(await base.clone().tiff().toBuffer())).toBeUndefined();
    expect(detectFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(detectFormat(new Uint8Array(0))).toBeUndefined();
  });

  it('checkImageHeader returns format and size', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#fff' } })
      .jpeg()
      .toBuffer();
    expect(await checkImageHeader(jpeg, DEFAULT_IMAGE_LIMITS)).toEqual({
      format: 'jpeg',
      width: 40,
      height: 30,
    });
  });

  it('a non-image or an unsupported format → 415 UNSUPPORTED_IMAGE_FORMAT', async () => {
    for (const bytes of [
      Buffer.from('definitely not an image'),
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
        .tiff()
        .toBuffer(),
      new Uint8Array(0),
    ]) {
      const err = await rejection(preprocessImage(bytes));
      expect(err).toBeInstanceOf(UnsupportedMediaTypeError);
      expect([err.status, err.code]).toEqual([415, 'UNSUPPORTED_IMAGE_FORMAT']);
    }
  });

  it('a truncated PNG or JPEG, or a PNG with only its signature → 422 INVALID_IMAGE', async () => {
    const png = await sharp(Buffer.from(image(0)), raw28)
      .resize(200, 200)
      .png()
      .toBuffer();
    const jpeg = await sharp(Buffer.from(image(0)), raw28)
      .resize(200, 200)
      .jpeg()
      .toBuffer();
    for (const [bytes, format] of [
      [png.subarray(0, png.length >> 1), 'png'],
      [jpeg.subarray(0, jpeg.length >> 1), 'jpeg'],
      [png.subarray(0, 12), 'png'],
    ] as const) {
      const err = await rejection(preprocessImage(bytes));
      expect(err).toBeInstanceOf(UnprocessableImageError);
      expect([err.status, err.code]).toEqual([422, 'INVALID_IMAGE']);
      expect(err.message).toMatch(new RegExp(`^${format} image is corrupt or truncated`));
    }
  });

  it('a decompression-bomb PNG declaring 20000x20000 is rejected from its header (413), before decoding', async () => {
    const bomb = bombPng(20000, 20000);
    expect(bomb.length).toBeLessThan(100_000);
    const err = await rejection(preprocessImage(bomb));
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect([err.status, err.code]).toEqual([413, 'IMAGE_TOO_LARGE']);
    expect(err.message).toBe('image header declares 20000x20000 = 400000000 pixels, the limit is 40000000');
    // A lower limit applies to ordinary images too.
    const png = await encodePng28(image(0));
    const small = await rejection(checkImageHeader(png, { maxBytes: 1e6, maxPixels: 100 }));
    expect(small.message).toMatch(/declares 28x28 = 784 pixels, the limit is 100/);
  });

  it('too many bytes → 413 IMAGE_TOO_LARGE without looking further', async () => {
    const err = await rejection(checkImageHeader(new Uint8Array(2048), { maxBytes: 1024, maxPixels: 1e6 }));
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(err.code).toBe('IMAGE_TOO_LARGE');
    expect(err.message).toBe('image is 2048 bytes, the limit is 1024');
  });
});

describe('encodePng28', () => {
  it('encodes 784 bytes losslessly as a 28x28 grayscale PNG', async () => {
    const png = await encodePng28(image(5));
    expect(detectFormat(png)).toBe('png');
    expect((await sharp(png).metadata()).channels).toBe(1);
    const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([28, 28, 1]);
    expect(new Uint8Array(data)).toEqual(image(5));
  });

  it('rejects a wrong length', async () => {
    await expect(encodePng28(new Uint8Array(100))).rejects.toThrow(RangeError);
  });
});
