import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { createRng } from '../../src/data/random.ts';
import { imageSetToFloat } from '../../src/data/split.ts';
import {
  PHOTOMETRIC,
  photoAugment,
  photometricAugment,
  randomShift,
  stepAugmentation,
} from '../../src/train/augment.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { epochSeed } from '../../src/train/sampler.ts';
import { train } from '../../src/train/trainer.ts';
import { useTrainFixture } from './fixture.ts';

const N = 32;
const clean = imageSetToFloat(await loadFashionMnistSplit('test'), 0, N);
const changed = (a: Float32Array, b: Float32Array) =>
  Array.from({ length: N }, (_, i) =>
    a.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS).some((v, j) => v !== b[i * IMAGE_PIXELS + j]),
  );
const meanAbsDiff = (a: Float32Array, i: number, b: Float32Array, j: number) => {
  let s = 0;
  for (let p = 0; p < IMAGE_PIXELS; p++) s += Math.abs(a[i * IMAGE_PIXELS + p] - b[j * IMAGE_PIXELS + p]);
  return s / IMAGE_PIXELS;
};

describe('photoAugment', () => {
  it('is deterministic for a seed and differs for another', () => {
    const a = Float32Array.from(clean);
    const b = Float32Array.from(clean);
    const c = Float32Array.from(clean);
    photoAugment(a, N, createRng(7), 0.5);
    photoAugment(b, N, createRng(7), 0.5);
    photoAugment(c, N, createRng(8), 0.5);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('replaces about the given share of the images, none at 0 and all at 1', () => {
    const none = Float32Array.from(clean);
    photoAugment(none, N, createRng(1), 0);
    expect(none).toEqual(clean);
    const all = Float32Array.from(clean);
    photoAugment(all, N, createRng(1), 1);
    expect(changed(all, clean).every(Boolean)).toBe(true);
    const half = Float32Array.from(clean);
    photoAugment(half, N, createRng(1), 0.5);
    const n = changed(half, clean).filter(Boolean).length;
    expect(n).toBeGreaterThan(N * 0.2);
    expect(n).toBeLessThan(N * 0.8);
  });

  it('changes pixels the way a photo does: still in [0,1], still most like its own image', () => {
    const all = Float32Array.from(clean);
    photoAugment(all, N, createRng(3), 1);
    for (const v of all) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    let closestToOwn = 0;
    let meanChange = 0;
    for (let i = 0; i < N; i++) {
      const own = meanAbsDiff(all, i, clean, i);
      meanChange += own / N;
      const others = Array.from({ length: N }, (_, j) =>
        j === i ? Infinity : meanAbsDiff(all, i, clean, j),
      );
      if (own < Math.min(...others)) closestToOwn++;
    }
    // Blur, noise, compression and the re-fit move pixels by several gray levels on average...
    expect(meanChange).toBeGreaterThan(3 / 255);
    // ...but the garment stays recognisably itself.
    expect(closestToOwn).toBeGreaterThan(N * 0.75);
  });
});

describe('photometricAugment', () => {
  it('lowers the peak within the drawn contrast, keeps values in [0, 1], and touches about the fraction', () => {
    const x = Float32Array.from(clean);
    photometricAugment(x, N, createRng(3), 0.5);
    const touched = changed(x, clean).filter(Boolean).length;
    expect(touched).toBeGreaterThan(N * 0.25);
    expect(touched).toBeLessThan(N * 0.75);
    for (let i = 0; i < N; i++) {
      const peak = (a: Float32Array) => Math.max(...a.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS));
      if (!changed(x, clean)[i]) continue;
      // Blur and contrast only lower the peak; noise adds at most a few sigmas of 6/255.
      expect(peak(x)).toBeLessThanOrEqual(peak(clean) * PHOTOMETRIC.contrast[1] + 0.1);
    }
    expect(x.every((v) => v >= 0 && v <= 1)).toBe(true);
    const again = Float32Array.from(clean);
    photometricAugment(again, N, createRng(3), 0.5);
    expect(again).toEqual(x);
  });
});

describe('stepAugmentation', () => {
  it('is nothing without augmentation, and the shift alone replays the stream it always had', () => {
    expect(
      stepAugmentation({ augment: 'none', photoAugment: 0, photometric: 0, erase: 0, seed: 1 }, 0, 0),
    ).toBeUndefined();
    const viaStep = Float32Array.from(clean);
    stepAugmentation({ augment: 'shift2', photoAugment: 0, photometric: 0, erase: 0, seed: 42 }, 2, 5)!(
      viaStep,
      N,
    );
    const direct = Float32Array.from(clean);
    randomShift(direct, N, createRng(epochSeed(42, 2, 1 + 5)));
    expect(viaStep).toEqual(direct);
  });

  it('is the same for the same (seed, epoch, step) and another for another step', () => {
    const opts = { augment: 'shift2', photoAugment: 0.5, photometric: 0.5, erase: 0, seed: 42 } as const;
    const run = (epoch: number, step: number) => {
      const x = Float32Array.from(clean);
      stepAugmentation(opts, epoch, step)!(x, N);
      return x;
    };
    expect(run(1, 3)).toEqual(run(1, 3));
    expect(run(1, 4)).not.toEqual(run(1, 3));
  });
});

describe('--photo-augment in training', () => {
  const fx = useTrainFixture('train-photo-');
  const tiny = (out: string, photoAugment: number): TrainConfig => ({
    ...DEFAULT_CONFIG,
    out: join(fx.dir, out),
    photoAugment,
    epochs: 1,
    batchSize: 16,
    pkClasses: 4,
    trainLimit: 128,
    valLimit: 32,
    command: 'test',
  });
  const weights = async (cfg: TrainConfig) => {
    const result = await train(cfg, { data: fx.data });
    const out = result.model.getWeights().map((w) => Array.from(w.dataSync()));
    result.model.dispose();
    return out;
  };

  it('same seed, same weights; other weights than without it', async () => {
    const a = await weights(tiny('a', 0.5));
    expect(await weights(tiny('b', 0.5))).toEqual(a);
    expect(await weights(tiny('c', 0))).not.toEqual(a);
  });
});
