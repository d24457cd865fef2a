import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import { embedCatalog } from '../catalog/embedCatalog.ts';
import { createLogger } from '../log.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import { type BuildProgress, buildIndex, type IndexManifest, indexDir } from './buildIndex.ts';
import type { HnswIndex, HnswParams } from './hnswIndex.ts';
import { type ReconcileResult, reconcileIndex } from './loadIndex.ts';
import type { VectorTable } from './vectorTable.ts';

const log = createLogger('rebuild');

export interface RebuildOptions {
  store: AsyncCatalogStore;
  dataDir: string;
  /** The embedder now served; the rebuild uses it unless `modelDir` names another model. */
  embedder: Embedder;
  /** A model directory to switch to: the catalog is re-embedded with it first. */
  modelDir?: string;
  /** Where `embedder` was loaded from, recorded with the build when `modelDir` is not given. */
  embedderDir?: string;
  params?: Partial<HnswParams>;
  /** How to load `modelDir` (the serving layer's engine choice); required with `modelDir`. */
  loadEmbedder?: (modelDir: string) => Promise<Embedder>;
  onStart?: (info: { modelVersion: string; buildId: number }) => void;
  onProgress?: (p: BuildProgress) => void;
  /**
   * The swap, called right after the final catch-up. On SQLite nothing can be
   * written in between (every store call runs synchronously); on PostgreSQL
   * the result's `changeSeq` tells the change feed where to replay from.
   */
  commit?: (result: RebuildResult) => void;
  /** Index files of older builds kept on disk for rollback (default 2, counting the new one). */
  keepBuilds?: number;
}

export interface RebuildResult {
  index: HnswIndex;
  vectors: VectorTable;
  manifest: IndexManifest;
  embedder: Embedder;
  buildId: number;
  /** Items added/deleted while the rebuild ran, applied to the new index at the end. */
  catchUp: ReconcileResult;
  /** The catalog's change number read before the final catch-up. */
  changeSeq: number;
}

/**
 * Re-embeds (when the model changes) and rebuilds the index off the request
 * path: every long loop yields to the event loop, and the served index is
 * untouched until the caller swaps in the result. A failure (or a kill)
 * leaves the old index serving and the build recorded as failed (on restart,
 * `loadNewestGoodIndex` marks builds left unfinished as failed).
 */
export async function rebuildIndex(options: RebuildOptions): Promise<RebuildResult> {
  const { store, dataDir } = options;
  const { modelDir, loadEmbedder } = options;
  if (modelDir && !loadEmbedder) throw new Error('rebuildIndex: modelDir given without loadEmbedder');
  const target = modelDir && loadEmbedder ? await loadEmbedder(modelDir) : options.embedder;
  const modelVersion = target.modelVersion;
  const build = await store.recordBuild(modelVersion, undefined, modelDir ?? options.embedderDir);
  options.onStart?.({ modelVersion, buildId: build.id });
  log.info({ buildId: build.id, modelVersion, modelDir: options.modelDir }, 'rebuild started');
  try {
    await store.updateBuild(build.id, { status: 'embedding' });
    await embedCatalog({
      store,
      embedder: target,
      onProgress: (p) => options.onProgress?.({ phase: 'embedding', ...p }),
    });
    const loaded = await buildIndex({
      store,
      dataDir,
      modelVersion,
      params: options.params,
      buildId: build.id,
      onProgress: options.onProgress,
    });
    // Items added while building got an embedding for the served model only: embed them with this one
    // too (until a pass finds none: items that cannot be decoded stay missing, and are skipped).
    while ((await embedCatalog({ store, embedder: target })).embedded > 0);
    const changeSeq = await store.latestChangeSeq();
    const catchUp = await reconcileIndex(
      loaded.index,
      store,
      modelVersion,
      await store.labelCategories(),
      loaded.vectors,
    );
    const result: RebuildResult = {
      index: loaded.index,
      vectors: loaded.vectors,
      manifest: loaded.manifest,
      embedder: target,
      buildId: build.id,
      catchUp,
      changeSeq,
    };
    options.commit?.(result);
    log.info({ buildId: build.id, modelVersion, items: loaded.index.size, ...catchUp }, 'rebuild complete');
    await pruneIndexFiles(dataDir, store, options.keepBuilds ?? 2);
    return result;
  } catch (err) {
    const current = await store.getBuild(build.id).catch(() => null);
    if (current && current.status !== 'failed') {
      await store.updateBuild(build.id, { status: 'failed', error: (err as Error).message }).catch(() => {});
    }
    if (target !== options.embedder) target.dispose();
    log.error({ buildId: build.id, err }, 'rebuild failed; the previous index keeps serving');
    throw err;
  }
}

/**
 * Deletes index files except those of the newest `keep` complete builds (the
 * served one and a rollback), plus temp files left by killed builds.
 */
export async function pruneIndexFiles(
  dataDir: string,
  store: AsyncCatalogStore,
  keep: number,
): Promise<string[]> {
  const keepIds = new Set((await store.completeBuilds()).slice(0, keep).map((b) => b.id));
  const removed: string[] = [];
  let files: string[];
  try {
    files = readdirSync(indexDir(dataDir));
  } catch {
    return removed;
  }
  for (const file of files) {
    const m = /^index-(\d+)\.(bin|json)(\.tmp-\d+)?$/.exec(file);
    if (!m) continue;
    const id = Number(m[1]);
    const unfinished = await store.getBuild(id);
    const inProgress = unfinished && unfinished.status !== 'active' && unfinished.status !== 'failed';
    if ((keepIds.has(id) && !m[3]) || inProgress) continue;
    rmSync(join(indexDir(dataDir), file), { force: true });
    removed.push(file);
  }
  if (removed.length > 0) log.info({ removed }, 'old index files removed');
  return removed;
}
