import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { CLASS_NAMES, IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { loadFashionMnistSplit, type Split } from '../data/fashionMnist.ts';
import { decodeSmallGrayPng, encodeGrayPng28 } from '../data/png.ts';
import { ValidationError } from '../errors.ts';
import type { AsyncCatalogStore } from './asyncStore.ts';
import type { NewItem, UpsertResult } from './store.ts';
import { syntheticAttributes } from './syntheticAttributes.ts';

export type SplitChoice = Split | 'all';

export interface ImportProgress {
  done: number;
  total: number;
}

export interface ImportResult extends UpsertResult {
  total: number;
}

export interface ImportFashionMnistOptions {
  store: AsyncCatalogStore;
  split: SplitChoice;
  /** Rows per transaction. */
  batchSize?: number;
  /** Import only the first N images of each split (tests, demos). */
  limit?: number;
  onProgress?: (p: ImportProgress) => void;
  /** Called after each committed batch (tests use it to kill the process mid-import). */
  onBatch?: (committed: number) => void;
}

/** `fmnist-test-00042`: zero-padded so ids sort in dataset order. */
export function fashionMnistId(split: Split, index: number): string {
  return `fmnist-${split}-${String(index).padStart(5, '0')}`;
}

export function parseSplit(value: string): SplitChoice {
  if (value === 'train' || value === 'test' || value === 'all') return value;
  throw new ValidationError(`--split must be train, test or all, got '${value}'`);
}

/**
 * The stored PNG when it holds exactly these pixels (whatever encoder wrote it), else null. Reusing it
 * keeps re-imports `unchanged` on catalogs whose PNGs another encoder wrote (the store compares bytes).
 */
async function storedIfSame(
  store: AsyncCatalogStore,
  id: string,
  pixels: Uint8Array,
): Promise<Uint8Array | null> {
  const stored = await store.getImage(id);
  if (!stored) return null;
  const decoded = decodeSmallGrayPng(stored, IMAGE_SIZE);
  if (!decoded || decoded.width !== IMAGE_SIZE || decoded.height !== IMAGE_SIZE) return null;
  for (let i = 0; i < IMAGE_PIXELS; i++) if (decoded.gray[i] !== pixels[i]) return null;
  return stored;
}

/**
 * Imports Fashion-MNIST images as catalog items (category = class name, split
 * kept as metadata, synthetic shop attributes from `syntheticAttributes`), in
 * batches of one transaction each. Ids are derived from the dataset position
 * and the PNG encoding (`encodeGrayPng28`, synchronous) is deterministic, so
 * re-running after a kill or a completed run converges on exactly the same
 * rows; an item already stored with the same pixels keeps its stored PNG.
 */
export async function importFashionMnist(options: ImportFashionMnistOptions): Promise<ImportResult> {
  const { store } = options;
  const batchSize = options.batchSize ?? 1000;
  const splits: Split[] = options.split === 'all' ? ['train', 'test'] : [options.split];
  const sets = await Promise.all(splits.map((s) => loadFashionMnistSplit(s)));
  const counts = sets.map((set) => Math.min(set.count, options.limit ?? set.count));
  const total = counts.reduce((a, b) => a + b, 0);
  const result: ImportResult = { inserted: 0, updated: 0, unchanged: 0, total };
  // An empty catalog (the first import) has nothing to compare with: no per-item lookups.
  const compare = (await store.countItems()) > 0;
  let done = 0;
  options.onProgress?.({ done, total });
  for (let s = 0; s < splits.length; s++) {
    const set = sets[s];
    const split = splits[s];
    for (let start = 0; start < counts[s]; start += batchSize) {
      const end = Math.min(counts[s], start + batchSize);
      const batch: NewItem[] = [];
      for (let i = start; i < end; i++) {
        const category = CLASS_NAMES[set.labels[i]];
        const id = fashionMnistId(split, i);
        const pixels = set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
        batch.push({
          id,
          title: `${category} #${i}`,
          category,
          source: 'fashion-mnist',
          split,
          attributes: syntheticAttributes(split, i, category),
          image: (compare && (await storedIfSame(store, id, pixels))) || encodeGrayPng28(pixels),
        });
      }
      const r = await store.upsertItems(batch);
      result.inserted += r.inserted;
      result.updated += r.updated;
      result.unchanged += r.unchanged;
      done += end - start;
      options.onBatch?.(done);
      options.onProgress?.({ done, total });
      // Encoding (and a SQLite upsert) is synchronous: let the event loop run between batches (a server's
      // health checks during its first start).
      await yieldToEventLoop();
    }
  }
  return result;
}
