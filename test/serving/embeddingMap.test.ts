import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { NotReadyError } from '../../src/errors.ts';
import { ExactIndex } from '../../src/index/exactIndex.ts';
import { VectorTable } from '../../src/index/vectorTable.ts';
import { log } from '../../src/log.ts';
import { EmbeddingMaps, normalize, placeOnMap } from '../../src/serving/embeddingMap.ts';
import type { ServingSet } from '../../src/serving/servedSet.ts';

/** Three well-separated clusters of 4-d points. */
function servedSet(count: number): ServingSet {
  const rng = createRng(5);
  const index = new ExactIndex(4);
  const vectors = new VectorTable(4);
  for (let label = 1; label <= count; label++) {
    const c = label % 3;
    const v = [c * 10 + rng(), rng(), c * -10 + rng(), rng()];
    index.add(label, v, `c${c}`);
    vectors.set(label, v);
  }
  return { index, vectors, modelVersion: 'm@1', buildId: 3 } as unknown as ServingSet;
}

describe('EmbeddingMaps', () => {
  it('answers MAP_NOT_READY until the worker is done, then a normalised map of every point', async () => {
    const maps = new EmbeddingMaps(log);
    const set = servedSet(120);
    expect(() => maps.get(set)).toThrow(NotReadyError);
    expect(maps.place(set, Float32Array.of(0, 0, 0, 0))).toBeNull();
    await maps.whenDone(set);
    const map = maps.get(set);
    expect(map.labels).toHaveLength(120);
    expect(map.buildId).toBe(3);
    const xs = Array.from(map.coords).filter((_, i) => i % 2 === 0);
    expect(Math.min(...xs)).toBe(0);
    expect(Math.max(...xs)).toBe(1);
    // A sampled point's own vector lands exactly on its own spot.
    const own = maps.place(set, map.vectors.subarray(4 * 10, 4 * 11))!;
    expect(own).toEqual({ x: map.coords[20], y: map.coords[21] });
  }, 60_000);
});

describe('map geometry', () => {
  it('normalises each axis to [0, 1] and interpolates by inverse distance', () => {
    expect(Array.from(normalize(Float32Array.of(2, 5, 4, 1, 6, 3)))).toEqual([0, 1, 0.5, 0, 1, 0.5]);
    const map = {
      modelVersion: 'm',
      buildId: null,
      labels: Int32Array.of(1, 2),
      coords: Float32Array.of(0, 0, 1, 1),
      vectors: Float32Array.of(0, 0, 4, 0),
      dim: 2,
    };
    // Distances 1 and 3: weights 1 and 1/3, so x = y = (1/3) / (4/3) = 0.25.
    const p = placeOnMap(map, Float32Array.of(1, 0))!;
    expect(p.x).toBeCloseTo(0.25, 6);
    expect(p.y).toBeCloseTo(0.25, 6);
  });
});
