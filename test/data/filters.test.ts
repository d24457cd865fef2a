import { describe, expect, it } from 'vitest';
import { gaussianBlur, scaleToPeak, unsharpMask } from '../../src/data/filters.ts';
import { createRng } from '../../src/data/random.ts';

/** The 2-D gaussian as one direct sum over the clamped neighbourhood (what the separable passes compute). */
function naiveUnsharp(img: Float32Array, w: number, h: number, sigma: number, amount: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const g = (d: number) => Math.exp(-(d * d) / (2 * sigma * sigma));
  let norm = 0;
  for (let d = -r; d <= r; d++) norm += g(d);
  const out = new Float32Array(img.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let blurred = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          blurred += (g(dy) * g(dx) * img[yy * w + xx]) / (norm * norm);
        }
      }
      out[y * w + x] = img[y * w + x] + amount * (img[y * w + x] - blurred);
    }
  }
  return out;
}

describe('unsharpMask', () => {
  it('leaves a constant image as it is', () => {
    const img = new Float32Array(7 * 5).fill(90);
    unsharpMask(img, 7, 5, 0.6, 1);
    for (const v of img) expect(v).toBeCloseTo(90, 4);
  });

  it('a single bright pixel: by hand, 1 + amount · (1 − g(0)²) at the centre, −amount · g(1)·g(0) beside it', () => {
    const sigma = 0.6;
    const img = new Float32Array(9 * 9);
    img[4 * 9 + 4] = 1;
    unsharpMask(img, 9, 9, sigma, 1);
    // Normalised 1-D taps at distance 0 and 1 (radius 2): e^0 / Σ and e^(−1/0.72) / Σ.
    const sum = 1 + 2 * Math.exp(-1 / 0.72) + 2 * Math.exp(-4 / 0.72);
    const g0 = 1 / sum;
    const g1 = Math.exp(-1 / 0.72) / sum;
    expect(img[4 * 9 + 4]).toBeCloseTo(1 + (1 - g0 * g0), 6);
    expect(img[4 * 9 + 5]).toBeCloseTo(-g1 * g0, 6);
  });

  it('matches a direct 2-D convolution with clamped edges', () => {
    const rng = createRng(3);
    const img = Float32Array.from({ length: 11 * 8 }, () => 255 * rng());
    const expected = naiveUnsharp(img, 11, 8, 0.6, 1.5);
    unsharpMask(img, 11, 8, 0.6, 1.5);
    for (let i = 0; i < img.length; i++) expect(img[i]).toBeCloseTo(expected[i], 3);
  });

  it('is the same blur the renderer draws', () => {
    const rng = createRng(4);
    const img = Float32Array.from({ length: 6 * 6 }, () => rng());
    const blurred = Float32Array.from(img);
    gaussianBlur(blurred, 6, 6, 0.8);
    const sharpened = Float32Array.from(img);
    unsharpMask(sharpened, 6, 6, 0.8, 2);
    for (let i = 0; i < img.length; i++)
      expect(sharpened[i]).toBeCloseTo(img[i] + 2 * (img[i] - blurred[i]), 6);
  });
});

describe('scaleToPeak', () => {
  it('scales the largest value to the peak, and leaves an image with nothing above 0', () => {
    const img = Float32Array.of(0, 50, 100, -3);
    scaleToPeak(img, 255);
    expect(Array.from(img)).toEqual([0, 127.5, 255, -7.65].map((v) => Math.fround(v)));
    const dark = Float32Array.of(0, -1, 0);
    scaleToPeak(dark, 255);
    expect(Array.from(dark)).toEqual([0, -1, 0]);
  });
});
