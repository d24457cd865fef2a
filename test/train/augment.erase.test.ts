import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../../src/data/classes.ts';
import { createRng } from '../../src/data/random.ts';
import { ERASE, randomErase, stepAugmentation } from '../../src/train/augment.ts';

const N = 200;
/** Images of a constant outside [0, 1], so that every erased pixel differs from it. */
const FILL = 2;
const constantBatch = () => new Float32Array(N * IMAGE_PIXELS).fill(FILL);

/** The erased pixels of image `img`: their bounding box and how many there are. */
function erased(batch: Float32Array, img: number) {
  const rows: number[] = [];
  const columns: number[] = [];
  for (let y = 0; y < IMAGE_SIZE; y++)
    for (let x = 0; x < IMAGE_SIZE; x++)
      if (batch[img * IMAGE_PIXELS + y * IMAGE_SIZE + x] !== FILL) {
        rows.push(y);
        columns.push(x);
      }
  const span = (xs: number[]) => (xs.length ? Math.max(...xs) - Math.min(...xs) + 1 : 0);
  return { count: rows.length, height: span(rows), width: span(columns) };
}

describe('randomErase', () => {
  it('overwrites one rectangle of every image with noise in [0, 1], of the drawn area and aspect', () => {
    const batch = constantBatch();
    randomErase(batch, N, createRng(5), 1);
    const [minArea, maxArea] = ERASE.area.map((s) => s * IMAGE_PIXELS);
    const [minAspect, maxAspect] = ERASE.aspect;
    for (let img = 0; img < N; img++) {
      const { count, height, width } = erased(batch, img);
      // Every pixel of the bounding box was overwritten: one full rectangle.
      expect(count).toBe(height * width);
      // Height and width are sqrt(A·r) and sqrt(A/r) rounded, each within half a pixel.
      const sides = (a: number, r: number, d: number) => (Math.sqrt(a * r) + d) * (Math.sqrt(a / r) + d);
      expect(count).toBeGreaterThanOrEqual(Math.floor(sides(minArea, minAspect, -0.5)));
      expect(count).toBeLessThanOrEqual(Math.ceil(sides(maxArea, minAspect, 0.5)));
      // The drawn aspect lies between the extremes that rounding each side allows.
      expect((height + 0.5) / (width - 0.5)).toBeGreaterThanOrEqual(minAspect);
      expect((height - 0.5) / (width + 0.5)).toBeLessThanOrEqual(maxAspect);
      expect(Math.max(height, width)).toBeLessThan(IMAGE_SIZE);
    }
    expect(batch.every((v) => v === FILL || (v >= 0 && v <= 1))).toBe(true);
  });

  it('touches about the fraction of the images, the same ones for the same stream', () => {
    const run = (seed: number) => {
      const batch = constantBatch();
      randomErase(batch, N, createRng(seed), 0.3);
      return batch;
    };
    const once = run(8);
    const touched = Array.from({ length: N }, (_, img) => erased(once, img).count > 0);
    const share = touched.filter(Boolean).length / N;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    expect(run(8)).toEqual(once);
    expect(run(9)).not.toEqual(run(8));
  });

  it('leaves the batch alone at fraction 0, and --erase alone makes a step augmentation', () => {
    const batch = constantBatch();
    randomErase(batch, N, createRng(1), 0);
    expect(batch.every((v) => v === FILL)).toBe(true);
    const opts = { augment: 'none', photoAugment: 0, photometric: 0, seed: 3 } as const;
    expect(stepAugmentation({ ...opts, erase: 0 }, 0, 0)).toBeUndefined();
    const viaStep = constantBatch();
    stepAugmentation({ ...opts, erase: 1 }, 0, 0)!(viaStep, N);
    expect(erased(viaStep, 0).count).toBeGreaterThan(0);
  });
});
