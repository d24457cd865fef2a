import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { randomFlip, randomShift, stepAugmentation } from '../../src/train/augment.ts';
import { epochSeed, pkSampler, randomSampler } from '../../src/train/sampler.ts';

const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 10);

describe('pkSampler', () => {
  it('yields P distinct classes with K images each, all of that class', () => {
    const sampler = pkSampler(labels, 8, 16, 1);
    expect(sampler.batchesPerEpoch).toBe(Math.floor(1000 / 128));
    for (const batch of sampler.epoch(0)) {
      expect(batch.length).toBe(128);
      const classes = new Set<number>();
      for (let p = 0; p < 8; p++) {
        const c = labels[batch[p * 16]];
        classes.add(c);
        for (let k = 0; k < 16; k++) expect(labels[batch[p * 16 + k]]).toBe(c);
        // without replacement within a class block
        expect(new Set(batch.subarray(p * 16, (p + 1) * 16)).size).toBe(16);
      }
      expect(classes.size).toBe(8);
    }
  });

  it('is a pure function of (seed, epoch)', () => {
    const a = [...pkSampler(labels, 4, 4, 3).epoch(2)].map((b) => [...b]);
    const b = [...pkSampler(labels, 4, 4, 3).epoch(2)].map((b) => [...b]);
    const c = [...pkSampler(labels, 4, 4, 3).epoch(3)].map((b) => [...b]);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('rejects P larger than the number of classes', () => {
    expect(() => pkSampler(Uint8Array.from([0, 1, 0, 1]), 3, 2, 1)).toThrow(/P=3/);
  });
});

describe('randomSampler', () => {
  it('visits every index at most once per epoch and drops the incomplete batch', () => {
    const sampler = randomSampler(1000, 128, 5);
    const seen = new Set<number>();
    let batches = 0;
    for (const batch of sampler.epoch(0)) {
      batches++;
      for (const i of batch) seen.add(i);
    }
    expect(batches).toBe(7);
    expect(seen.size).toBe(7 * 128);
  });

  it('shuffles differently per epoch, identically per seed', () => {
    const first = (seed: number, epoch: number) => [...randomSampler(100, 10, seed).epoch(epoch)][0];
    expect(first(1, 0)).toEqual(first(1, 0));
    expect(first(1, 0)).not.toEqual(first(1, 1));
    expect(epochSeed(1, 0)).not.toBe(epochSeed(1, 1));
    expect(epochSeed(1, 0, 1)).not.toBe(epochSeed(1, 0, 2));
  });
});

describe('randomShift', () => {
  it('moves the image by the drawn offset and fills with zeros', () => {
    const img = new Float32Array(784);
    img[10 * 28 + 10] = 1; // one lit pixel at (x=10, y=10)
    // rng() = 0.99 → offset +2 on both axes; 0 → -2
    randomShift(img, 1, () => 0.99);
    expect(img[12 * 28 + 12]).toBe(1);
    expect(img.reduce((s, v) => s + v, 0)).toBe(1);
    randomShift(img, 1, () => 0);
    expect(img[10 * 28 + 10]).toBe(1);
  });

  it('drops pixels shifted off the edge and keeps offsets within ±2', () => {
    const img = new Float32Array(784).fill(1);
    const rng = createRng(4);
    randomShift(img, 1, rng);
    const lit = img.reduce((s, v) => s + v, 0);
    expect(lit).toBeGreaterThanOrEqual(26 * 26);
    expect(lit).toBeLessThanOrEqual(784);
  });
});

describe('randomFlip', () => {
  it('mirrors each row of the images whose draw is below 1/2 and leaves the others', () => {
    const batch = Float32Array.from({ length: 2 * 784 }, (_, i) => i);
    const draws = [0.2, 0.7];
    randomFlip(batch, 2, () => draws.shift() as number);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        expect(batch[y * 28 + x]).toBe(y * 28 + (27 - x));
        expect(batch[784 + y * 28 + x]).toBe(784 + y * 28 + x);
      }
  });

  it('--augment shift2-flip shifts as shift2 does and mirrors about half of the images', () => {
    const opts = { photoAugment: 0, photometric: 0, erase: 0, seed: 9 };
    const images = Float32Array.from({ length: 64 * 784 }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
    const shifted = Float32Array.from(images);
    stepAugmentation({ ...opts, augment: 'shift2' }, 0, 3)?.(shifted, 64);
    const both = Float32Array.from(images);
    stepAugmentation({ ...opts, augment: 'shift2-flip' }, 0, 3)?.(both, 64);
    let mirrored = 0;
    for (let img = 0; img < 64; img++) {
      const a = shifted.subarray(img * 784, (img + 1) * 784);
      const b = both.subarray(img * 784, (img + 1) * 784);
      if (a.every((v, i) => v === b[i])) continue;
      const flipped = Float32Array.from(b);
      randomFlip(flipped, 1, () => 0);
      expect(flipped).toEqual(a);
      mirrored++;
    }
    expect(mirrored).toBeGreaterThan(16);
    expect(mirrored).toBeLessThan(48);
  });
});
