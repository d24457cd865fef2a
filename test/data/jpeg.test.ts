/** The in-process JPEG decoder (src/data/jpeg/decode.ts) against libjpeg-turbo, as sharp decodes. */
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { orient } from '../../src/data/grayImage.ts';
import { decodeJpegLuma, type JpegLuma, type JpegScale, jpegScaleFor } from '../../src/data/jpeg/decode.ts';
import type { ImageSet } from '../../src/data/types.ts';
import { encodeJpeg, type JpegTables, rgbToYcc, tablesFrom } from './jpegEncoder.ts';

let test: ImageSet;
let tables: JpegTables;
beforeAll(async () => {
  test = await loadFashionMnistSplit('test');
  const reference = sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } });
  tables = tablesFrom(await reference.jpeg({ quality: 85, optimiseCoding: false }).toBuffer());
});
const image = (i: number) => test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
const raw28 = { raw: { width: 28, height: 28, channels: 1 as const } };

/** sharp's full decode as 8-bit gray: the single channel, or ITU-R 601 luma of RGB (as preprocess.ts). */
async function sharpGray(jpeg: Uint8Array, autoOrient = false) {
  const pipeline = autoOrient ? sharp(jpeg).autoOrient() : sharp(jpeg);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const c = info.channels;
  const gray = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    gray[i] =
      c < 3
        ? data[i * c]
        : (data[i * c] * 19595 + data[i * c + 1] * 38470 + data[i * c + 2] * 7471 + 32768) >>> 16;
  }
  return { gray, width: info.width, height: info.height };
}

function decoded(jpeg: Uint8Array, scale?: JpegScale): JpegLuma {
  const r = decodeJpegLuma(jpeg, scale);
  if ('unsupported' in r) throw new Error(`unexpectedly unsupported: ${r.unsupported}`);
  return r;
}

function diff(a: Uint8Array, b: Uint8Array): { mad: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mad: sum / a.length, max };
}

/** A Fashion-MNIST garment upscaled to w x h, dark on light, tinted so that the JPEG has colour. */
function garment(i: number, w: number, h: number, colour: boolean): Sharp {
  const px = Buffer.from(image(i).map((v) => 255 - v));
  const up = sharp(px, raw28).resize(w, h, { fit: 'fill' });
  return colour ? up.toColourspace('srgb').tint({ r: 190, g: 140, b: 90 }) : up.toColourspace('b-w');
}

/** A photo-like image: blurred colour noise (seeded, so every run sees the same pixels). */
function photo(w: number, h: number, sigma: number): Sharp {
  let seed = w * 7919 + h;
  const noise = Buffer.alloc(w * h * 3);
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const u = (seed >>> 8) / 2 ** 24;
    noise[i] = Math.max(0, Math.min(255, Math.round(128 + sigma * 1.7 * (u - 0.5) * 2)));
  }
  return sharp(noise, { raw: { width: w, height: h, channels: 3 } })
    .blur(1.2)
    .modulate({ saturation: 0.5 });
}

describe('JPEG decoder against libjpeg (sharp)', () => {
  it('full scale: gray JPEGs decode to exactly sharp’s pixels, colour JPEGs’ luma to within RGB rounding', async () => {
    const cases: [Sharp, string][] = [
      [garment(0, 512, 512, false).jpeg({ quality: 90 }), 'gray 512 q90'],
      [garment(1, 333, 250, false).jpeg({ quality: 50 }), 'gray 333x250 q50'],
      [garment(2, 28, 28, false).jpeg({ quality: 100 }), 'gray 28 q100'],
      [garment(3, 512, 512, true).jpeg({ quality: 90 }), 'colour 512 4:2:0 q90'],
      [garment(4, 301, 199, true).jpeg({ quality: 75, chromaSubsampling: '4:4:4' }), 'colour 301x199 4:4:4'],
      [garment(5, 1001, 777, true).jpeg({ quality: 95 }), 'colour 1001x777 4:2:0 q95'],
      [photo(257, 130, 50).jpeg({ quality: 85 }), 'photo 257x130 4:2:0'],
      [photo(120, 333, 70).jpeg({ quality: 60, chromaSubsampling: '4:4:4' }), 'photo 120x333 4:4:4'],
    ];
    for (const [pipeline, name] of cases) {
      const jpeg = await pipeline.toBuffer();
      const ours = decoded(jpeg, 1).image;
      const ref = await sharpGray(jpeg);
      expect([ours.width, ours.height], name).toEqual([ref.width, ref.height]);
      const d = diff(ours.gray, ref.gray);
      if (name.startsWith('gray')) expect(d.max, name).toBe(0);
      else {
        // Y against the luma of libjpeg's YCbCr→RGB (upsampled chroma, RGB rounded and clamped).
        expect(d.mad, name).toBeLessThan(0.05);
        expect(d.max, name).toBeLessThanOrEqual(3);
      }
    }
  });

  it('1/2, 1/4 and 1/8 scale stay close to the block means of the full decode', async () => {
    for (const [pipeline, name] of [
      [garment(6, 512, 512, true).jpeg({ quality: 90 }), 'garment 512'],
      [garment(7, 640, 480, false).jpeg({ quality: 70 }), 'garment 640x480'],
      [photo(500, 333, 60).jpeg({ quality: 85 }), 'photo 500x333'],
    ] as const) {
      const jpeg = await pipeline.toBuffer();
      const full = await sharpGray(jpeg);
      for (const scale of [2, 4, 8] as const) {
        const ours = decoded(jpeg, scale).image;
        expect([ours.width, ours.height]).toEqual([
          Math.ceil(full.width / scale),
          Math.ceil(full.height / scale),
        ]);
        const mean = new Uint8Array(ours.width * ours.height);
        for (let y = 0; y < ours.height; y++) {
          for (let x = 0; x < ours.width; x++) {
            let sum = 0;
            let n = 0;
            for (let yy = y * scale; yy < Math.min(full.height, (y + 1) * scale); yy++) {
              for (let xx = x * scale; xx < Math.min(full.width, (x + 1) * scale); xx++) {
                sum += full.gray[yy * full.width + xx];
                n++;
              }
            }
            mean[y * ours.width + x] = Math.round(sum / n);
          }
        }
        const d = diff(ours.gray, mean);
        // Measured: garments mean 0.04-0.12, max 1; the noise photo mean 0.07-0.16, max 2-8 (the reduced
        // IDCTs are not box filters on texture, and a block whose pixels clip at 0 or 255 has a DC term
        // that is the mean before clipping).
        expect(d.mad, `${name} 1/${scale}`).toBeLessThan(0.3);
        expect(d.max, `${name} 1/${scale}`).toBeLessThanOrEqual(name.startsWith('photo') ? 12 : 2);
      }
    }
  });

  it('picks the smallest DCT scale that keeps the longest side at least WORK_SIZE', () => {
    expect(jpegScaleFor(512, 512)).toBe(4);
    expect(jpegScaleFor(1024, 700)).toBe(8);
    expect(jpegScaleFor(1016, 700)).toBe(4);
    expect(jpegScaleFor(300, 200)).toBe(2);
    expect(jpegScaleFor(255, 255)).toBe(2);
    expect(jpegScaleFor(254, 254)).toBe(1);
    expect(jpegScaleFor(40, 30)).toBe(1);
  });

  it('restart intervals, 4:2:2/4:4:0/4:1:1 sampling and one scan per component (JPEGs of its own encoder)', async () => {
    const w = 75;
    const h = 53;
    const rgb = await photo(w, h, 40).raw().toBuffer();
    const [y, cb, cr] = rgbToYcc(rgb, w * h);
    const cases: [string, Uint8Array[], [number, number][], number, boolean][] = [
      ['gray, restart every MCU', [y], [[1, 1]], 1, true],
      ['gray declaring 2x2 sampling, restart every 3', [y], [[2, 2]], 3, true],
      [
        '4:2:0, restart every 2',
        [y, cb, cr],
        [
          [2, 2],
          [1, 1],
          [1, 1],
        ],
        2,
        true,
      ],
      [
        '4:2:2, restart every 5',
        [y, cb, cr],
        [
          [2, 1],
          [1, 1],
          [1, 1],
        ],
        5,
        true,
      ],
      [
        '4:4:0',
        [y, cb, cr],
        [
          [1, 2],
          [1, 1],
          [1, 1],
        ],
        0,
        true,
      ],
      [
        '4:1:1, restart every 4',
        [y, cb, cr],
        [
          [4, 1],
          [1, 1],
          [1, 1],
        ],
        4,
        true,
      ],
      [
        '4:4:4, one scan per component, restart every 7',
        [y, cb, cr],
        [
          [1, 1],
          [1, 1],
          [1, 1],
        ],
        7,
        false,
      ],
      [
        '4:2:0, one scan per component, restart every 16',
        [y, cb, cr],
        [
          [2, 2],
          [1, 1],
          [1, 1],
        ],
        16,
        false,
      ],
    ];
    for (const [name, planes, sampling, restartInterval, interleaved] of cases) {
      const jpeg = encodeJpeg({
        width: w,
        height: h,
        planes,
        sampling,
        tables,
        restartInterval,
        interleaved,
      });
      const ref = await sharpGray(jpeg);
      const ours = decoded(jpeg, 1).image;
      const d = diff(ours.gray, ref.gray);
      if (planes.length === 1) expect(d.max, name).toBe(0);
      else expect(d.mad, name).toBeLessThan(0.05);
      // And at 1/8, where only DC terms count: still the block means.
      expect(decoded(jpeg, 8).image.width, name).toBe(Math.ceil(w / 8));
    }
  });

  it('reads the EXIF orientation; orient() then shows the image as sharp’s autoOrient does', async () => {
    const base = garment(8, 90, 60, false).jpeg({ quality: 90 });
    for (let orientation = 1; orientation <= 8; orientation++) {
      const jpeg = await base.clone().withMetadata({ orientation }).toBuffer();
      const r = decoded(jpeg, 1);
      expect(r.orientation).toBe(orientation);
      const upright = orient(r.image, r.orientation);
      const ref = await sharpGray(jpeg, true);
      expect([upright.width, upright.height], `orientation ${orientation}`).toEqual([ref.width, ref.height]);
      expect(diff(upright.gray, ref.gray).max, `orientation ${orientation}`).toBe(0);
    }
  });

  it('leaves to sharp what it does not take, saying why', async () => {
    const base = garment(9, 64, 64, true);
    const baseline = await base.clone().jpeg().toBuffer();
    const patched = (at: number, value: number) => {
      const copy = Buffer.from(baseline);
      copy[at] = value;
      return copy;
    };
    const sof = baseline.indexOf(Buffer.from([0xff, 0xc0]));
    const cases: [Uint8Array, RegExp][] = [
      [await base.clone().jpeg({ progressive: true }).toBuffer(), /progressive/],
      [await base.clone().toColourspace('cmyk').jpeg().toBuffer(), /4 components/],
      [await base.clone().withIccProfile('p3').jpeg().toBuffer(), /colour profile/],
      [patched(sof + 1, 0xc9), /arithmetic/],
      [patched(sof + 1, 0xc3), /lossless/],
      [patched(sof + 4, 12), /12-bit/],
      [Buffer.from('not a jpeg'), /not a JPEG/],
    ];
    for (const [bytes, reason] of cases) {
      const r = decodeJpegLuma(bytes);
      expect('unsupported' in r && r.unsupported).toMatch(reason);
    }
    // An sRGB profile converts to sRGB as a no-op: taken.
    expect('image' in decodeJpegLuma(await base.clone().withIccProfile('srgb').jpeg().toBuffer())).toBe(true);
  });

  it('never throws on truncated or corrupt bytes: it reports them as unsupported', async () => {
    const jpeg = await garment(10, 200, 160, true).jpeg({ quality: 80 }).toBuffer();
    for (let end = 0; end < jpeg.length - 2; end += 97) {
      const r = decodeJpegLuma(jpeg.subarray(0, end));
      expect('unsupported' in r, `truncated to ${end} bytes`).toBe(true);
    }
    // Without EOI: libjpeg warns "premature end", sharp (failOn 'truncated') refuses; so do we.
    expect('unsupported' in decodeJpegLuma(jpeg.subarray(0, jpeg.length - 2))).toBe(true);
    // Random damage: anything may come out, or nothing, but no exception.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let unsupported = 0;
    for (let t = 0; t < 300; t++) {
      const bad = Buffer.from(jpeg);
      for (let k = 0; k < 1 + (t % 4); k++)
        bad[Math.floor(random() * bad.length)] = Math.floor(random() * 256);
      const r = decodeJpegLuma(bad);
      if ('unsupported' in r) unsupported++;
      else expect(r.image.gray.length).toBe(r.image.width * r.image.height);
    }
    expect(unsupported).toBeGreaterThan(0);
  });

  it('a restart marker out of sequence or missing is refused', async () => {
    const w = 64;
    const rgb = await photo(w, w, 40).raw().toBuffer();
    const [y] = rgbToYcc(rgb, w * w);
    const jpeg = encodeJpeg({
      width: w,
      height: w,
      planes: [y],
      sampling: [[1, 1]],
      tables,
      restartInterval: 4,
    });
    const rst = jpeg.indexOf(Buffer.from([0xff, 0xd1]));
    expect(rst).toBeGreaterThan(0);
    const wrong = Buffer.from(jpeg);
    wrong[rst + 1] = 0xd5;
    expect(decodeJpegLuma(wrong)).toEqual({ unsupported: 'missing restart marker' });
    const missing = Buffer.concat([jpeg.subarray(0, rst), jpeg.subarray(rst + 2)]);
    expect('unsupported' in decodeJpegLuma(missing)).toBe(true);
  });
});
