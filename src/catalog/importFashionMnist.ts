import { CLASS_NAMES, IMAGE_PIXELS } from '../data/classes.ts';
import { loadFashionMnistSplit, type Split } from '../data/fashionMnist.ts';
import { encodePng28 } from '../data/preprocess.ts';
import { ValidationError } from '../errors.ts';
import type { CatalogStore, NewItem, UpsertResult } from './store.ts';
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
  store: CatalogStore;
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
 * Imports Fashion-MNIST images as catalog items (category = class name, split
 * kept as metadata, synthetic shop attributes from `syntheticAttributes`), in
 * batches of one transaction each. Ids are derived from
 * the dataset position and PNG encoding is deterministic, so re-running after
 * a kill or a completed run converges on exactly the same rows.
 */
export async function importFashionMnist(options: ImportFashionMnistOptions): Promise<ImportResult> {
  const { store } = options;
  const batchSize = options.batchSize ?? 1000;
  const splits: Split[] = options.split === 'all' ? ['train', 'test'] : [options.split];
  const sets = await Promise.all(splits.map((s) => loadFashionMnistSplit(s)));
  const counts = sets.map((set) => Math.min(set.count, options.limit ?? set.count));
  const total = counts.reduce((a, b) => a + b, 0);
  const result: ImportResult = { inserted: 0, updated: 0, unchanged: 0, total };
  let done = 0;
  options.onProgress?.({ done, total });
  for (let s = 0; s < splits.length; s++) {
    const set = sets[s];
    const split = splits[s];
    for (let start = 0; start < counts[s]; start += batchSize) {
      const end = Math.min(counts[s], start + batchSize);
      const batch: Promise<NewItem>[] = [];
      for (let i = start; i < end; i++) {
        const category = CLASS_NAMES[set.labels[i]];
        batch.push(
          encodePng28(set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS)).then((image) => ({
            id: fashionMnistId(split, i),
            title: `${category} #${i}`,
            category,
            source: 'fashion-mnist',
            split,
            attributes: syntheticAttributes(split, i, category),
            image,
          })),
        );
      }
      const r = store.upsertItems(await Promise.all(batch));
      result.inserted += r.inserted;
      result.updated += r.updated;
      result.unchanged += r.unchanged;
      done += end - start;
      options.onBatch?.(done);
      options.onProgress?.({ done, total });
    }
  }
  return result;
}
