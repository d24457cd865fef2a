/**
 * Index files of a shared catalog's builds, kept in each replica's own
 * DATA_DIR. Replicas on several machines share only the database: the
 * embeddings are there, so a replica that lacks a build's file builds it
 * from them (no shared filesystem, no copying of files between machines),
 * and a file it cannot read is rebuilt here rather than failing the build
 * for every replica.
 */
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import type { IndexBuild } from '../catalog/store.ts';
import { createLogger } from '../log.ts';
import {
  type BuildProgress,
  buildIndex,
  type LoadedIndex,
  readIndexFile,
  readManifest,
} from './buildIndex.ts';
import type { HnswParams } from './hnswIndex.ts';
import { reconcileIndex } from './loadIndex.ts';
import { VectorTable } from './vectorTable.ts';

const log = createLogger('index');

/**
 * `build` (active in the catalog) served from this DATA_DIR's file of it when
 * that file verifies against its own manifest, else from a file built here
 * with the build's parameters; either way reconciled with the catalog.
 */
export async function loadSharedBuild(
  dataDir: string,
  store: AsyncCatalogStore,
  build: IndexBuild,
  onProgress?: (p: BuildProgress) => void,
): Promise<LoadedIndex> {
  const categories = await store.labelCategories();
  try {
    const manifest = readManifest(dataDir, build.id);
    if (manifest.modelVersion !== build.modelVersion) {
      throw new Error(`manifest of build ${build.id} is for model ${manifest.modelVersion}`);
    }
    const index = readIndexFile(dataDir, manifest, categories);
    const vectors = new VectorTable(manifest.dim, await store.countEmbeddings(build.modelVersion));
    const reconcile = await reconcileIndex(index, store, build.modelVersion, categories, vectors);
    log.info({ buildId: build.id, items: index.size, ...reconcile }, 'index loaded from the local file');
    return { index, manifest, build, vectors };
  } catch (err) {
    log.info(
      { buildId: build.id, reason: (err as Error).message },
      'no usable local file of the shared build: building it here from the stored embeddings',
    );
  }
  const params = build.params ? (JSON.parse(build.params) as Partial<HnswParams>) : undefined;
  return buildIndex({ store, dataDir, modelVersion: build.modelVersion, params, local: build, onProgress });
}
