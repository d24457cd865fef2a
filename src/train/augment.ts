import { IMAGE_SIZE } from '../data/classes.ts';

export type Augmentation = 'none' | 'shift2';

/**
 * Shifts each 28x28 image of `batch` (count*784 floats, in place) by a random whole-pixel offset in
 * [-maxShift, maxShift] on both axes, filling the uncovered border with 0 (the background).
 */
export function randomShift(batch: Float32Array, count: number, rng: () => number, maxShift = 2): void {
  const n = IMAGE_SIZE;
  const tmp = new Float32Array(n * n);
  const span = 2 * maxShift + 1;
  for (let img = 0; img < count; img++) {
    const dx = Math.floor(rng() * span) - maxShift;
    const dy = Math.floor(rng() * span) - maxShift;
    if (dx === 0 && dy === 0) continue;
    const base = img * n * n;
    tmp.fill(0);
    for (let y = Math.max(0, dy); y < Math.min(n, n + dy); y++) {
      const srcRow = base + (y - dy) * n;
      const x0 = Math.max(0, dx);
      const x1 = Math.min(n, n + dx);
      tmp.set(batch.subarray(srcRow + x0 - dx, srcRow + x1 - dx), y * n + x0);
    }
    batch.set(tmp, base);
  }
}
