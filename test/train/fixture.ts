import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import type { FashionMnist } from '../../src/data/types.ts';
import { initBackend } from '../../src/model/backend.ts';

export interface TrainFixture {
  data: FashionMnist;
  dir: string;
}

/**
 * Real Fashion-MNIST and a scratch directory for one test file, on wasm (the pure-JS cpu backend
 * trains at a few images/s). Fields are filled in by beforeAll.
 */
export function useTrainFixture(prefix: string): TrainFixture {
  const fixture = { dir: '' } as TrainFixture;
  beforeAll(async () => {
    await initBackend('wasm');
    fixture.data = await loadFashionMnist();
    fixture.dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
