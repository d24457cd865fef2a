/**
 * Getting from a (possibly empty) DATA_DIR to a servable model + index, and
 * rebuilding later. The first start imports the catalog, embeds it and builds
 * the index (with progress in the log and in /readyz); later starts find the
 * embeddings and a verified index file and load in seconds.
 *
 * On a shared PostgreSQL catalog one replica at a time does a first start's
 * import, embedding and first build (the `startup` lock); the others wait,
 * then find everything in place. Index files are never shared: each replica
 * builds its own from the stored embeddings (`loadSharedBuild`).
 */
import { availableParallelism } from 'node:os';
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import { embedCatalog } from '../catalog/embedCatalog.ts';
import { importFashionMnist, type SplitChoice } from '../catalog/importFashionMnist.ts';
import type { IndexBuild } from '../catalog/store.ts';
import type { Config } from '../config/env.ts';
import { DataFileError } from '../errors.ts';
import { buildIndex, type LoadedIndex } from '../index/buildIndex.ts';
import { loadNewestGoodIndex } from '../index/loadIndex.ts';
import { pruneIndexFiles, rebuildIndex } from '../index/rebuild.ts';
import { loadSharedBuild } from '../index/sharedBuild.ts';
import type { LogSink } from '../log.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import { engineOptions, loadEngine } from '../model/engine.ts';
import { startChildProcess } from '../workers/startWorker.ts';
import type { PreparationMessage } from './catalogPreparation.ts';
import type { RebuildFn } from './jobs.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { ServingInput } from './servedSet.ts';
import { loadWorkerEmbedder } from './workerEmbedder.ts';

/** HNSW parameters this configuration overrides (none unless HNSW_EF_SEARCH is set). */
function hnswParams(config: Config): { efSearch?: number } {
  return config.HNSW_EF_SEARCH > 0 ? { efSearch: config.HNSW_EF_SEARCH } : {};
}

export type EmbedderLoader = (modelDir: string) => Promise<Embedder>;

/** How this configuration loads the model that embeds queries: in a worker thread or on the main thread. */
export function queryEmbedderLoader(config: Config, log: LogSink): EmbedderLoader {
  const options = engineOptions(config, config.EMBED_THREADS);
  return config.EMBED_IN_WORKER
    ? (dir) => loadWorkerEmbedder(dir, options, config.LOG_LEVEL)
    : (dir) => loadEngine(dir, options, log);
}

/**
 * The model for embedding a whole catalog before the server is ready: in this
 * process, on every core (nothing else needs them yet), disposed afterwards.
 */
function bulkEmbedderLoader(config: Config, log: LogSink): EmbedderLoader {
  return (dir) => loadEngine(dir, engineOptions(config, availableParallelism()), log);
}

export interface StartupOptions {
  config: Config;
  store: AsyncCatalogStore;
  /** The resident catalog, reloaded after a first start's import. */
  items: ResidentCatalog;
  log: LogSink;
  /** Told what start-up is doing, e.g. for /readyz. */
  onPhase?: (phase: string) => void;
}

/** What a first start's catalog preparation needs (it runs in a child process too). */
export type CatalogPreparation = Pick<StartupOptions, 'config' | 'store' | 'log' | 'onPhase'>;

/** Logs progress at most every 10 % or 5 s, and reports it as the phase. */
function progressReporter(options: CatalogPreparation, what: string) {
  let lastPercent = -10;
  let lastTime = 0;
  return (done: number, total: number) => {
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    options.onPhase?.(`${what} ${done}/${total}`);
    const now = Date.now();
    if (percent - lastPercent >= 10 || now - lastTime >= 5000 || done === total) {
      options.log.info({ done, total, percent }, `${what}: ${percent}%`);
      lastPercent = percent;
      lastTime = now;
    }
  };
}

/**
 * Imports the configured catalog into an empty database. `fashion-mnist`
 * takes all 70,000 images when the full dataset can be found (or
 * downloaded), else the 10,000 test images bundled in the repository.
 */
export async function importInitialCatalog(options: CatalogPreparation): Promise<void> {
  const { config, store, log } = options;
  if (config.CATALOG === 'none' || (await store.countItems()) > 0) return;
  const splits: SplitChoice[] = config.CATALOG === 'fashion-mnist' ? ['all', 'test'] : ['test'];
  for (const split of splits) {
    try {
      log.info({ split }, 'empty catalog: importing Fashion-MNIST');
      const report = progressReporter(options, `importing Fashion-MNIST (${split})`);
      const result = await importFashionMnist({ store, split, onProgress: (p) => report(p.done, p.total) });
      log.info({ split, ...result }, 'catalog imported');
      return;
    } catch (err) {
      if (split === splits[splits.length - 1]) throw err;
      log.warn(
        { err: (err as Error).message },
        'full Fashion-MNIST not available; importing the bundled test split instead',
      );
    }
  }
}

/** Whether a start has items to import or to embed for `modelVersion`. */
async function catalogNeedsWork(options: CatalogPreparation, modelVersion: string): Promise<boolean> {
  const { config, store } = options;
  const items = await store.countItems();
  if (items === 0) return config.CATALOG !== 'none';
  return items !== (await store.countEmbeddings(modelVersion));
}

/** Embeds what lacks an embedding for `modelVersion`, with the bulk model when there is work. */
export async function embedMissing(
  options: CatalogPreparation,
  modelDir: string,
  modelVersion: string,
): Promise<void> {
  const { config, store, log } = options;
  if ((await store.countItems()) === (await store.countEmbeddings(modelVersion))) return;
  const bulk = await bulkEmbedderLoader(config, log)(modelDir);
  try {
    const report = progressReporter(options, 'embedding catalog');
    const started = performance.now();
    const result = await embedCatalog({ store, embedder: bulk, onProgress: (p) => report(p.done, p.total) });
    const seconds = (performance.now() - started) / 1000;
    log.info(
      { ...result, engine: bulk.engine, imagesPerSecond: Math.round(result.embedded / seconds) },
      'catalog embedded',
    );
  } finally {
    bulk.dispose();
  }
}

const PREPARATION_URL = new URL('./catalogPreparation.ts', import.meta.url);

/**
 * A first start's import and catalog embedding, in a child process when the
 * catalog is a file or a server it can open too: tens of thousands of images
 * decoded, encoded and embedded leave the allocator holding memory that the
 * serving process would otherwise keep for its whole life, while a child's
 * goes with it. Its phases reach `onPhase`.
 */
async function prepareCatalog(
  options: StartupOptions,
  modelDir: string,
  modelVersion: string,
): Promise<void> {
  if (!(await catalogNeedsWork(options, modelVersion))) return;
  const { store } = options;
  if (store.kind === 'sqlite' && store.location === ':memory:') {
    await importInitialCatalog(options);
    await embedMissing(options, modelDir, modelVersion);
    return;
  }
  const sqlitePath = store.kind === 'sqlite' ? store.location : '';
  const child = startChildProcess(PREPARATION_URL, [modelDir, modelVersion, sqlitePath]);
  let failure = '';
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: PreparationMessage) => {
      if (m.type === 'phase') options.onPhase?.(m.phase);
      else failure = m.message;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(failure || `catalog preparation exited (${signal ?? `code ${code}`})`));
    });
  });
}

/** Progress of an index build as start-up phases. */
function buildReporter(options: StartupOptions) {
  const reporters = {
    building: progressReporter(options, 'building index'),
    verifying: progressReporter(options, 'verifying index'),
    embedding: progressReporter(options, 'embedding catalog'),
  };
  return (p: { phase: keyof typeof reporters; done: number; total: number }) =>
    reporters[p.phase](p.done, p.total);
}

/**
 * Everything a start needs, in order: import (first start), embed what lacks
 * an embedding, then load the newest index build whose file verifies, or
 * build one.
 */
export async function prepareServing(options: StartupOptions): Promise<ServingInput> {
  const { config, store, log } = options;
  options.onPhase?.('loading model');
  const embedder = await queryEmbedderLoader(config, log)(config.MODEL_DIR);
  log.info({ model: embedder.modelVersion, engine: embedder.engine, dir: config.MODEL_DIR }, 'model loaded');
  const modelDir = config.MODEL_DIR;
  const modelVersion = embedder.modelVersion;
  const shared = store.kind === 'postgres';
  const build = () =>
    buildIndex({
      store,
      dataDir: config.DATA_DIR,
      modelVersion,
      modelDir,
      params: hnswParams(config),
      onProgress: buildReporter(options),
    });
  try {
    if (shared) options.onPhase?.('waiting for another replica to finish its first start');
    const first = await store.exclusive('startup', async () => {
      await prepareCatalog(options, modelDir, modelVersion);
      if (!shared) return null;
      // Builds left unfinished by a stopped replica, not one another replica is rebuilding now
      // (SQLite: loadNewestGoodIndex fails them).
      await store.tryExclusive('rebuild', async () => {
        const interrupted = await store.failUnfinishedBuilds();
        if (interrupted > 0)
          log.warn({ interrupted }, 'builds left unfinished by a stopped replica marked failed');
      });
      if (await store.latestCompleteBuild(modelVersion)) return null;
      await requireItems(store);
      log.info({ model: modelVersion }, 'no index for this model yet: building the first one');
      // Read before the build: the change feed applies what the build may have missed.
      const changeSeq = await store.latestChangeSeq();
      return { changeSeq, built: await build() };
    });
    if (first) {
      await options.items.reload(store);
      return served(embedder, modelDir, first.built, first.changeSeq);
    }
    // Everything below reads the catalog after this change: later ones are the change feed's.
    const changeSeq = await store.latestChangeSeq();
    await options.items.reload(store);
    options.onPhase?.('loading index');
    if (shared) {
      const active = await store.latestCompleteBuild(modelVersion);
      if (active) {
        const loaded = await loadSharedBuild(config.DATA_DIR, store, active, buildReporter(options));
        return served(embedder, modelDir, loaded, changeSeq);
      }
    } else {
      const loaded = await loadNewestGoodIndex(config.DATA_DIR, store, modelVersion);
      if (loaded) return served(embedder, modelDir, loaded, changeSeq);
    }
    await requireItems(store);
    log.info({ model: modelVersion }, 'no index for this model yet: building one');
    return served(embedder, modelDir, await build(), changeSeq);
  } catch (err) {
    embedder.dispose();
    throw err;
  }
}

async function requireItems(store: AsyncCatalogStore): Promise<void> {
  if ((await store.countItems()) === 0) {
    throw new Error('the catalog is empty (CATALOG=none?): import items first, e.g. npm run catalog:import');
  }
}

function served(
  embedder: Embedder,
  modelDir: string,
  loaded: Pick<LoadedIndex, 'index' | 'vectors' | 'build'>,
  changeSeq: number,
): ServingInput {
  return {
    embedder,
    modelDir,
    index: loaded.index,
    vectors: loaded.vectors,
    buildId: loaded.build.id,
    changeSeq,
  };
}

/**
 * A build another process made and activated (seen on the change feed): its
 * model, loaded here, and its index: this DATA_DIR's file of that build when
 * it verifies (one machine's WORKERS share DATA_DIR), else one built here from
 * the stored embeddings (a replica on another machine).
 */
export async function loadBuild(
  config: Config,
  store: AsyncCatalogStore,
  build: IndexBuild,
  log: LogSink,
): Promise<ServingInput> {
  const modelDir = build.modelDir ?? config.MODEL_DIR;
  const embedder = await queryEmbedderLoader(config, log)(modelDir);
  try {
    if (embedder.modelVersion !== build.modelVersion) {
      throw new DataFileError(
        `build ${build.id} is for model ${build.modelVersion}, ${modelDir} holds ${embedder.modelVersion}`,
        'MODEL_MISMATCH',
      );
    }
    const changeSeq = await store.latestChangeSeq();
    const loaded = await loadSharedBuild(config.DATA_DIR, store, build);
    // A replica's own copies of the shared builds (WORKERS sharing DATA_DIR leave this to the rebuilder).
    if (store.kind === 'postgres') await pruneIndexFiles(config.DATA_DIR, store, 2);
    return served(embedder, modelDir, loaded, changeSeq);
  } catch (err) {
    embedder.dispose();
    throw err;
  }
}

/** POST /admin/index/rebuild's work: the catalog's `rebuildIndex`, swapping through `commit`. */
export function catalogRebuild(store: AsyncCatalogStore, config: Config, log: LogSink): RebuildFn {
  return async ({ modelDir, current, onStart, onProgress, commit }) => {
    await rebuildIndex({
      store,
      dataDir: config.DATA_DIR,
      embedder: current.embedder,
      modelDir: modelDir ?? undefined,
      embedderDir: current.modelDir,
      loadEmbedder: queryEmbedderLoader(config, log),
      params: hnswParams(config),
      onStart,
      onProgress,
      commit: (result) =>
        commit({
          embedder: result.embedder,
          modelDir: modelDir ?? current.modelDir,
          index: result.index,
          vectors: result.vectors,
          buildId: result.buildId,
          changeSeq: result.changeSeq,
        }),
    });
  };
}
