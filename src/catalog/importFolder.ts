import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseMetadata } from '../data/folderMetadata.ts';
import { encodePng28, preprocessImageToBytes } from '../data/preprocess.ts';
import { createLogger } from '../log.ts';
import type { AsyncCatalogStore } from './asyncStore.ts';
import type { ImportProgress, ImportResult } from './importFashionMnist.ts';
import type { NewItem } from './store.ts';

const log = createLogger('catalog-import');

export { csvAttribute, type FolderRow, parseCsv, parseMetadata } from '../data/folderMetadata.ts';

export interface FolderImportResult extends ImportResult {
  /** Rows skipped because their image could not be read or preprocessed. */
  failed: { id: string; error: string }[];
}

export interface ImportFolderOptions {
  store: AsyncCatalogStore;
  dir: string;
  /**
   * `items.jsonl` or `items.csv` (header row: id,title,category,file, then any
   * attribute columns); relative paths are taken from `dir`.
   */
  metadata: string;
  batchSize?: number;
  onProgress?: (p: ImportProgress) => void;
}

/**
 * Imports a shop's photos: each image goes through the one preprocessing and
 * is stored as the 28x28 PNG, with the original path kept. Rows whose image
 * is unreadable are skipped and reported, the rest imported; batches are
 * idempotent upserts, so a re-run (after a fix or a kill) converges.
 */
export async function importFolder(options: ImportFolderOptions): Promise<FolderImportResult> {
  const { store } = options;
  const dir = resolve(options.dir);
  const metadataPath = isAbsolute(options.metadata) ? options.metadata : resolve(dir, options.metadata);
  const rows = parseMetadata(await readFile(metadataPath, 'utf8'), metadataPath);
  const batchSize = options.batchSize ?? 200;
  const result: FolderImportResult = {
    inserted: 0,
    updated: 0,
    unchanged: 0,
    total: rows.length,
    failed: [],
  };
  options.onProgress?.({ done: 0, total: rows.length });
  for (let start = 0; start < rows.length; start += batchSize) {
    const slice = rows.slice(start, start + batchSize);
    const prepared = await Promise.all(
      slice.map(async (row): Promise<NewItem | null> => {
        const path = resolve(dir, row.file);
        if (relative(dir, path).startsWith('..')) {
          result.failed.push({ id: row.id, error: `file '${row.file}' is outside ${dir}` });
          return null;
        }
        try {
          const pixels = await preprocessImageToBytes(await readFile(path));
          return {
            id: row.id,
            title: row.title,
            category: row.category,
            source: 'folder',
            split: null,
            originalPath: path,
            attributes: row.attributes,
            image: await encodePng28(pixels),
          };
        } catch (err) {
          result.failed.push({ id: row.id, error: (err as Error).message });
          log.warn({ id: row.id, file: path, err: (err as Error).message }, 'image skipped');
          return null;
        }
      }),
    );
    const r = await store.upsertItems(prepared.filter((p): p is NewItem => p !== null));
    result.inserted += r.inserted;
    result.updated += r.updated;
    result.unchanged += r.unchanged;
    options.onProgress?.({ done: Math.min(rows.length, start + batchSize), total: rows.length });
  }
  return result;
}
