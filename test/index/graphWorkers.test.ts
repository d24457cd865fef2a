import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { buildGraphsInWorkers, type GraphJob, partitionByCategory } from '../../src/index/graphWorkers.ts';

const PARAMS = { M: 8, efConstruction: 32, efSearch: 32, seed: 1 };
const dim = 8;
const n = 300;
const rng = createRng(11);
const points = {
  dim,
  labels: Float64Array.from({ length: n }, (_, i) => 1000 + i),
  categories: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'shoe' : 'shirt')),
  vectors: Float32Array.from({ length: n * dim }, () => rng()),
};
const jobs: GraphJob[] = [
  { category: null, labels: points.labels, vectors: points.vectors, file: 'all.bin' },
  ...partitionByCategory(points).map((p, i) => ({ ...p, file: `category-${i}.bin` })),
];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'graph-workers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('buildGraphsInWorkers', () => {
  it('writes one readable graph per job and reports every insertion', async () => {
    let last = 0;
    const files = await buildGraphsInWorkers(jobs, dim, PARAMS, dir, (done, total) => {
      expect(total).toBe(2 * n);
      last = done;
    });
    expect(last).toBe(2 * n);
    expect(files.map((f) => f.category)).toEqual([null, 'shoe', 'shirt']);
    for (const [i, f] of files.entries()) {
      expect(existsSync(f.file)).toBe(true);
      const graph = new hnswlib.HierarchicalNSW('l2', dim);
      graph.readIndexSync(f.file);
      expect(graph.getCurrentCount()).toBe(jobs[i].labels.length);
      const probe = Array.from(jobs[i].vectors.subarray(0, dim));
      expect(graph.searchKnn(probe, 1).neighbors).toEqual([jobs[i].labels[0]]);
    }
  });

  it('rejects with the error thrown in a worker instead of hanging', async () => {
    // Vectors one row short: hnswlib throws on the last point's short array.
    const broken = { ...jobs[1], vectors: jobs[1].vectors.subarray(0, (jobs[1].labels.length - 1) * dim) };
    await expect(buildGraphsInWorkers([jobs[0], broken], dim, PARAMS, dir, () => {})).rejects.toThrow(
      /array length/i,
    );
  });
});
