import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { gaussianBlur } from '../../src/data/filters.ts';
import {
  BACKGROUND_LEVEL,
  buildPhotoSet,
  drawPhotoParams,
  jpegQuantize,
  PHOTO_LONG_SIDE,
  photoQuery,
  renderPhoto,
  renderPhotoAtWorkSize,
} from '../../src/data/photoLike.ts';
import { createRng } from '../../src/data/random.ts';
import { subsetImageSet } from '../../src/data/split.ts';

const test = subsetImageSet(
  await loadFashionMnistSplit('test'),
  Array.from({ length: 40 }, (_, i) => i),
);
const image = (i: number) => test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};

describe('photo-like renderings', () => {
  it('draws settings within the documented ranges, the same for the same seed', () => {
    const a = drawPhotoParams(createRng(3));
    expect(drawPhotoParams(createRng(3))).toEqual(a);
    expect(drawPhotoParams(createRng(4))).not.toEqual(a);
    const rng = createRng(9);
    for (let i = 0; i < 200; i++) {
      const p = drawPhotoParams(rng);
      expect(Math.max(p.width, p.height)).toBeGreaterThanOrEqual(PHOTO_LONG_SIDE[0]);
      expect(Math.max(p.width, p.height)).toBeLessThanOrEqual(PHOTO_LONG_SIDE[1]);
      expect(p.left).toBeGreaterThanOrEqual(0);
      expect(p.left + p.garmentSide).toBeLessThanOrEqual(p.width);
      expect(p.top + p.garmentSide).toBeLessThanOrEqual(p.height);
    }
  });

  it('renders a large light JPEG with the dark garment off-centre, byte-identical for the same settings', async () => {
    const p = drawPhotoParams(createRng(11));
    const jpeg = await renderPhoto(image(0), p);
    expect(Buffer.compare(jpeg, await renderPhoto(image(0), p))).toBe(0);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', p.width, p.height]);
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    // The backdrop outside the garment's square is light; the garment inside is dark.
    let inside = 255;
    let outside = 255;
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const v = data[(y * p.width + x) * info.channels];
        const inSquare = x >= p.left && x < p.left + p.garmentSide && y >= p.top && y < p.top + p.garmentSide;
        if (inSquare) inside = Math.min(inside, v);
        else if (
          y < p.top - 40 ||
          y > p.top + p.garmentSide + 40 ||
          x < p.left - 40 ||
          x > p.left + p.garmentSide + 40
        )
          outside = Math.min(outside, v);
      }
    }
    expect(info.channels).toBe(3);
    expect(Math.abs(data[0] - p.background)).toBeLessThan(30);
    expect(data[0]).toBeGreaterThanOrEqual(BACKGROUND_LEVEL[0] - 30);
    expect(inside).toBeLessThan(p.ink + 60);
    expect(outside).toBeGreaterThan(p.background - 60);
  });

  it('comes back through the serving preprocessing close to, but not equal to, the clean image', async () => {
    const rng = createRng(12);
    const shown = [0, 1, 2, 3, 4, 5];
    for (const i of shown) {
      const q = await photoQuery(image(i), drawPhotoParams(rng));
      expect(q).toHaveLength(IMAGE_PIXELS);
      const own = meanAbsDiff(q, image(i));
      const others = shown.filter((j) => j !== i).map((j) => meanAbsDiff(q, image(j)));
      expect(own).toBeGreaterThan(1);
      expect(own).toBeLessThan(others.reduce((a, b) => a + b, 0) / others.length);
    }
  });

  it('builds a photo set that depends only on the seed, a larger one extending a smaller one', async () => {
    const a = await buildPhotoSet(test, { count: 6, seed: 5, concurrency: 3 });
    const b = await buildPhotoSet(test, { count: 6, seed: 5, concurrency: 1 });
    const big = await buildPhotoSet(test, { count: 8, seed: 5 });
    expect(b.photos.images).toEqual(a.photos.images);
    expect([...big.items.slice(0, 6)]).toEqual([...a.items]);
    expect(big.photos.images.subarray(0, 6 * IMAGE_PIXELS)).toEqual(a.photos.images);
    expect(new Set(a.items).size).toBe(6);
    expect([...a.photos.labels]).toEqual([...a.items].map((j) => test.labels[j]));
    const other = await buildPhotoSet(test, { count: 6, seed: 6 });
    expect(other.items).not.toEqual(a.items);
  });
});

describe('the in-memory variant for training', () => {
  it('is deterministic, changes the pixels and stays close to the sharp rendering', async () => {
    const rng = createRng(21);
    let fast = 0;
    let real = 0;
    for (let i = 0; i < 12; i++) {
      const p = drawPhotoParams(rng);
      const a = renderPhotoAtWorkSize(image(i), p);
      expect(renderPhotoAtWorkSize(image(i), p)).toEqual(a);
      fast += meanAbsDiff(a, image(i));
      real += meanAbsDiff(await photoQuery(image(i), p), image(i));
    }
    // Both distort the clean image by a similar amount (the variant errs on the strong side).
    expect(fast / 12).toBeGreaterThan(2);
    expect(fast / 12).toBeLessThan(2 * (real / 12));
    expect(fast / 12).toBeGreaterThan(0.5 * (real / 12));
  });

  it('blur keeps a constant image and the mean; JPEG quantisation keeps a flat block and hurts more at low quality', () => {
    const flat = new Float32Array(20 * 12).fill(77);
    gaussianBlur(flat, 20, 12, 1.5);
    for (const v of flat) expect(v).toBeCloseTo(77, 4);
    jpegQuantize(flat, 20, 12, 40);
    // Flat stays flat, off by at most the DC step's rounding (quality 40: step 20, i.e. 20/8 levels).
    for (const v of flat) expect(v).toBeCloseTo(flat[0], 6);
    expect(Math.abs(flat[0] - 77)).toBeLessThanOrEqual(20 / 16 + 1e-9);
    const rng = createRng(2);
    const noise = Float32Array.from({ length: 16 * 16 }, () => 128 + 60 * (rng() - 0.5));
    const err = (q: number) => {
      const img = Float32Array.from(noise);
      jpegQuantize(img, 16, 16, q);
      return meanAbsDiff(img, noise);
    };
    expect(err(95)).toBeLessThan(err(60));
    expect(err(60)).toBeLessThan(err(20));
    expect(err(95)).toBeGreaterThan(0);
  });
});
