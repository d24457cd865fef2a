import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import { createLogger } from '../log.ts';
import { type LoadedIndex, readIndexFile, readManifest } from './buildIndex.ts';
import type { HnswParams } from './hnswIndex.ts';
import type { VectorIndex } from './vectorIndex.ts';
import { VectorTable } from './vectorTable.ts';

const log = createLogger('index');

export interface ReconcileResult {
  /** Embeddings stored in SQLite but missing from the index file (items added after the build). */
  added: number;
  /** Labels in the index file whose items are gone from SQLite (soft-deleted on load). */
  removed: number;
  /** Items without an embedding for this model version: not searchable until `catalog:embed`. */
  unembedded: number;
}

export interface LoadResult extends LoadedIndex {
  reconcile: ReconcileResult;
  /** Newer builds that were refused (corrupt or missing file), newest first. */
  refused: { buildId: number; error: string }[];
}

/**
 * Start-up loader. Marks builds left unfinished by a killed process as
 * failed, then walks the complete builds of `modelVersion` newest first and
 * serves the first whose file matches its recorded checksum; a corrupt or
 * missing file is logged, its build marked failed, and the previous good
 * build is tried. The loaded index is reconciled with SQLite so it serves
 * exactly the catalog's items. Returns null when no good build exists.
 */
export async function loadNewestGoodIndex(
  dataDir: string,
  store: AsyncCatalogStore,
  modelVersion?: string,
  /** Query-time overrides (efSearch) of the parameters recorded in the manifest. */
  overrides: Pick<Partial<HnswParams>, 'efSearch'> = {},
): Promise<LoadResult | null> {
  const interrupted = await store.failUnfinishedBuilds();
  if (interrupted > 0)
    log.warn({ interrupted }, 'builds left unfinished by a previous process marked failed');
  const refused: LoadResult['refused'] = [];
  const categories = await store.labelCategories();
  for (const build of await store.completeBuilds(modelVersion)) {
    try {
      const manifest = readManifest(dataDir, build.id);
      if (manifest.sha256 !== build.checksum || manifest.modelVersion !== build.modelVersion) {
        throw new Error(`manifest of build ${build.id} does not match the catalog's record`);
      }
      const index = readIndexFile(dataDir, manifest, categories);
      if (overrides.efSearch !== undefined) index.setEfSearch(overrides.efSearch);
      // HnswIndex.load already dropped the labels whose items are gone: count them as removed.
      const droppedOnLoad = manifest.itemCount - index.size;
      const vectors = new VectorTable(manifest.dim, await store.countEmbeddings(build.modelVersion));
      const reconcile = await reconcileIndex(index, store, build.modelVersion, categories, vectors);
      reconcile.removed += droppedOnLoad;
      log.info(
        { buildId: build.id, modelVersion: build.modelVersion, items: index.size, ...reconcile },
        'index loaded',
      );
      return { index, manifest, build, vectors, reconcile, refused };
    } catch (err) {
      const error = (err as Error).message;
      log.error({ buildId: build.id, err }, 'index build refused; trying the previous one');
      await store.updateBuild(build.id, { status: 'failed', error });
      refused.push({ buildId: build.id, error });
    }
  }
  return null;
}

/**
 * Brings a loaded index in line with SQLite after a kill between a catalog
 * write and an index save: adds stored embeddings the index lacks and removes
 * labels whose items are gone. `vectors` ends up holding exactly the
 * embeddings the index serves.
 */
export async function reconcileIndex(
  index: VectorIndex,
  store: AsyncCatalogStore,
  modelVersion: string,
  categories: Map<number, string>,
  vectors: VectorTable,
): Promise<ReconcileResult> {
  let removed = 0;
  for (const label of index.labels()) {
    if (categories.has(label)) continue;
    if (index.remove(label)) removed++;
    vectors.delete(label);
  }
  let added = 0;
  let embedded = 0;
  for await (const page of store.embeddingPages(modelVersion)) {
    for (const e of page) {
      embedded++;
      vectors.set(e.label, e.vector);
      if (!index.has(e.label)) {
        index.add(e.label, e.vector, e.category);
        added++;
      }
    }
  }
  return { added, removed, unembedded: categories.size - embedded };
}
