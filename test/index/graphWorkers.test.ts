import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { buildGraphInWorker, type GraphJob } from '../../src/index/graphWorkers.ts';

const PARAMS = { M: 8, efConstruction: 32, efSearch: 32, seed: 1 };
const dim = 8;
const n = 300;
const rng = createRng(11);
const job: GraphJob = {
  labels: Float64Array.from({ length: n }, (_, i) => 1000 + i),
  vectors: Float32Array.from({ length: n * dim }, () => rng()),
  file: 'all.bin',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'graph-workers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('buildGraphInWorker', () => {
  it('writes a readable graph of every point and reports every insertion', async () => {
    let last = 0;
    const file = await buildGraphInWorker(job, dim, PARAMS, dir, (done, total) => {
      expect(total).toBe(n);
      last = done;
    });
    expect(last).toBe(n);
    expect(existsSync(file)).toBe(true);
    const graph = new hnswlib.HierarchicalNSW('l2', dim);
    graph.readIndexSync(file);
    expect(graph.getCurrentCount()).toBe(n);
    for (const i of [0, 17, n - 1]) {
      const probe = Array.from(job.vectors.subarray(i * dim, (i + 1) * dim));
      expect(graph.searchKnn(probe, 1).neighbors).toEqual([job.labels[i]]);
    }
  });

  it('rejects with the error thrown in the worker instead of hanging', async () => {
    // Vectors one row short: hnswlib throws on the last point's short array.
    const broken = { ...job, vectors: job.vectors.subarray(0, (n - 1) * dim) };
    await expect(buildGraphInWorker(broken, dim, PARAMS, dir, () => {})).rejects.toThrow(/array length/i);
  });
});
