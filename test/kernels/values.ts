/**
 * Deterministic pseudo-random values in [-1, 1) (an LCG), so the cpu and wasm backends see identical
 * inputs. With `levels` > 0 they are rounded to few distinct values, so comparisons and max-pooling
 * windows see ties.
 */
export function values(n: number, seed: number, levels = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = s / 2 ** 31 - 1;
    out[i] = levels > 0 ? Math.round(v * levels) : v;
  }
  return out;
}
