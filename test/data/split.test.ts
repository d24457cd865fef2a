import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnist, loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { createRng, shuffleInPlace } from '../../src/data/random.ts';
import { imageSetToFloat, subsetImageSet, trainValidationSplit } from '../../src/data/split.ts';
import type { ImageSet } from '../../src/data/types.ts';

/** Image i is filled with byte i % 256 and labelled (i % 10), so each image can be traced back. */
function synthetic(count: number): ImageSet {
  const images = new Uint8Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images.fill(i % 256, i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
    labels[i] = i % 10;
  }
  return { images, labels, count };
}

describe('createRng (mulberry32)', () => {
  it('is deterministic per seed, in [0,1), and seeds differ', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it('matches the reference mulberry32 output for seed 1', () => {
    // First value of the canonical JS mulberry32 (seed 1): 0.6270739405881613.
    expect(createRng(1)()).toBeCloseTo(0.6270739405881613, 15);
  });

  it('shuffleInPlace is a permutation', () => {
    const arr = shuffleInPlace(
      Array.from({ length: 100 }, (_, i) => i),
      createRng(7),
    );
    expect([...arr].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(arr).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('trainValidationSplit', () => {
  const set = synthetic(1000);

  it('is deterministic, disjoint, complete, and keeps image/label pairs together', () => {
    const a = trainValidationSplit(set, 100, 42);
    const b = trainValidationSplit(set, 100, 42);
    expect(a.validation.images).toEqual(b.validation.images);
    expect(a.train.labels).toEqual(b.train.labels);
    expect(a.validation.count).toBe(100);
    expect(a.train.count).toBe(900);
    const other = trainValidationSplit(set, 100, 7);
    expect(other.validation.images).not.toEqual(a.validation.images);
  });

  it('on the real 60,000 training images: 5,000 held out by default, no image in both parts', async () => {
    const train = await loadFashionMnistSplit('train');
    const { train: t, validation: v } = trainValidationSplit(train);
    expect([t.count, v.count]).toEqual([55000, 5000]);
    // Disjointness and completeness by content: every original image appears exactly once.
    const key = (s: ImageSet, i: number) =>
      Buffer.from(s.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS)).toString('base64') +
      s.labels[i];
    const counts = new Map<string, number>();
    for (let i = 0; i < train.count; i++) counts.set(key(train, i), (counts.get(key(train, i)) ?? 0) + 1);
    for (const s of [t, v]) {
      for (let i = 0; i < s.count; i++) {
        const k = key(s, i);
        const c = counts.get(k);
        expect(c).toBeGreaterThan(0);
        counts.set(k, c! - 1);
      }
    }
    expect([...counts.values()].every((c) => c === 0)).toBe(true);
    // Roughly class-balanced by chance (each class ~500 of 5,000).
    const perClass = new Array(10).fill(0);
    for (const l of v.labels) perClass[l]++;
    expect(Math.min(...perClass)).toBeGreaterThan(400);
    expect(Math.max(...perClass)).toBeLessThan(600);
  });

  it('tracks indices: validation and train are complementary index sets in original order', () => {
    const { train, validation } = trainValidationSplit(set, 250, 1);
    // With 1000 synthetic images, byte value + 256*(label-derived) disambiguates; use label+byte to recover i.
    const recover = (s: ImageSet) =>
      Array.from({ length: s.count }, (_, i) => {
        const byte = s.images[i * IMAGE_PIXELS];
        for (let k = byte; k < 1000; k += 256) if (k % 10 === s.labels[i]) return k;
        return -1;
      });
    const vi = recover(validation);
    const ti = recover(train);
    expect(vi).toEqual([...vi].sort((x, y) => x - y));
    expect(new Set([...vi, ...ti]).size).toBe(1000);
  });

  it('rejects an impossible validation size', () => {
    expect(() => trainValidationSplit(set, 1001)).toThrow(RangeError);
    expect(() => trainValidationSplit(set, -1)).toThrow(RangeError);
  });
});

describe('subsetImageSet and imageSetToFloat', () => {
  it('copies the chosen images and scales bytes to [0,1]', () => {
    const s = subsetImageSet(synthetic(10), [3, 255 % 10, 9]);
    expect(Array.from(s.labels)).toEqual([3, 5, 9]);
    const f = imageSetToFloat({ ...synthetic(300), count: 300 }, 255, 2);
    expect(f.length).toBe(2 * IMAGE_PIXELS);
    expect(f[0]).toBe(1);
    expect(f[IMAGE_PIXELS]).toBe(0); // image 256 → byte 0
    expect(() => imageSetToFloat(s, 2, 5)).toThrow(RangeError);
  });
});

describe('loadFashionMnist', () => {
  it('loads both splits with decompressed-content checksums and caches them in-process', async () => {
    const a = await loadFashionMnist();
    expect(a.train.count).toBe(60000);
    expect(a.test.count).toBe(10000);
    expect(a.train.images.length).toBe(60000 * IMAGE_PIXELS);
    expect(a.checksums).toEqual({
      'train-images-idx3-ubyte.gz': 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
      'train-labels-idx1-ubyte.gz': '9018921c3c673c538a1fc5bad174d6f9',
      't10k-images-idx3-ubyte.gz': '8181f5470baa50b63fa0f6fddb340f0a',
      't10k-labels-idx1-ubyte.gz': '15d484375f8d13e6eb1aabb0c3f46965',
    });
    const b = await loadFashionMnist();
    expect(b.train).toBe(a.train);
    expect(await loadFashionMnistSplit('test')).toBe(a.test);
  });
});
