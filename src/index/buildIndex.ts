import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import type { BuildUpdate, IndexBuild } from '../catalog/store.ts';
import { DataFileError, NotReadyError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { publishFile, sha256File, writeFileAtomic } from './files.ts';
import { buildGraphInWorker, type GraphJob } from './graphWorkers.ts';
import { DEFAULT_HNSW_PARAMS, HnswIndex, type HnswParams } from './hnswIndex.ts';
import { withScratchDir, writeIndexFile } from './indexFile.ts';
import { VectorTable } from './vectorTable.ts';

const log = createLogger('index');

/** Written next to each index file; the file is served only when its sha256 matches. */
export interface IndexManifest {
  buildId: number;
  modelVersion: string;
  itemCount: number;
  dim: number;
  params: HnswParams;
  /** File name inside `DATA_DIR/index/`. */
  file: string;
  sha256: string;
  bytes: number;
  createdAt: string;
  format: 'hnswlib-node/HierarchicalNSW/l2';
}

export interface BuildProgress {
  phase: 'embedding' | 'building' | 'verifying';
  done: number;
  total: number;
}

export interface BuildIndexOptions {
  store: AsyncCatalogStore;
  dataDir: string;
  modelVersion: string;
  params?: Partial<HnswParams>;
  /** Continue a build already recorded (by `rebuildIndex`); otherwise a new one is recorded. */
  buildId?: number;
  /** The model directory the embeddings came from, recorded with a new build. */
  modelDir?: string;
  /**
   * Writes this DATA_DIR's file of a build that is already active in a shared
   * catalog (made by another replica), recording nothing: the build's status
   * is every replica's, and this file only this one's.
   */
  local?: IndexBuild;
  onProgress?: (p: BuildProgress) => void;
  /**
   * Longest stretch of synchronous work (ms) between yields to the event loop:
   * hnswlib's addPoint is synchronous, and a server keeps answering queries
   * while it rebuilds.
   */
  sliceMs?: number;
}

export interface LoadedIndex {
  index: HnswIndex;
  manifest: IndexManifest;
  build: IndexBuild;
  /** The stored embeddings the index holds, by label. */
  vectors: VectorTable;
}

export function indexDir(dataDir: string): string {
  return join(dataDir, 'index');
}

export function indexFileName(buildId: number): string {
  return `index-${buildId}.bin`;
}

function manifestPath(dataDir: string, buildId: number): string {
  return join(indexDir(dataDir), `index-${buildId}.json`);
}

const SELF_QUERIES = 20;

/**
 * Builds an HNSW index from the stored embeddings of `modelVersion`, writes it
 * (temp file, fsync, rename) with its manifest, reloads it from disk and runs
 * self-queries, recording each state (building → verifying → active, or
 * failed with the error) in the catalog. Returns the reloaded index: what is
 * served is exactly what is on disk.
 */
export async function buildIndex(options: BuildIndexOptions): Promise<LoadedIndex> {
  const { store, dataDir, modelVersion } = options;
  const params: HnswParams = { ...DEFAULT_HNSW_PARAMS, ...options.params };
  const sliceMs = options.sliceMs ?? 20;
  const build = options.local
    ? options.local
    : options.buildId
      ? await store.updateBuild(options.buildId, { params: JSON.stringify(params) })
      : await store.recordBuild(modelVersion, JSON.stringify(params), options.modelDir);
  const record = async (update: BuildUpdate) =>
    options.local ? options.local : store.updateBuild(build.id, update);
  const dir = indexDir(dataDir);
  const file = indexFileName(build.id);
  const finalPath = join(dir, file);
  const tmpPath = `${finalPath}.tmp-${process.pid}`;
  try {
    await record({ status: 'building' });
    const total = await store.countEmbeddings(modelVersion);
    if (total === 0) throw new NotReadyError(`no embeddings stored for model version '${modelVersion}'`);
    mkdirSync(dir, { recursive: true });
    const started = performance.now();
    const points = await readPoints(store, modelVersion, total, sliceMs);
    if (points.count === 0)
      throw new NotReadyError(`no embeddings stored for model version '${modelVersion}'`);
    const { dim, count } = points;
    await withScratchDir(async (scratch) => {
      const job: GraphJob = { labels: points.labels, vectors: points.vectors, file: 'all.bin' };
      const file = await buildGraphInWorker(job, dim, params, scratch, (done) =>
        options.onProgress?.({ phase: 'building', done, total: count }),
      );
      writeIndexFile(tmpPath, dim, [{ category: null, file }]);
    });
    options.onProgress?.({ phase: 'building', done: count, total: count });
    const buildSeconds = (performance.now() - started) / 1000;

    const sha256 = sha256File(tmpPath);
    const bytes = statSync(tmpPath).size;
    publishFile(tmpPath, finalPath);
    const manifest: IndexManifest = {
      buildId: build.id,
      modelVersion,
      itemCount: count,
      dim,
      params,
      file,
      sha256,
      bytes,
      createdAt: new Date().toISOString(),
      format: 'hnswlib-node/HierarchicalNSW/l2',
    };
    writeFileAtomic(manifestPath(dataDir, build.id), `${JSON.stringify(manifest, null, 2)}\n`);
    await record({ status: 'verifying', file, checksum: sha256, itemCount: count });
    log.info({ buildId: build.id, modelVersion, items: count, buildSeconds, bytes }, 'index written');

    options.onProgress?.({ phase: 'verifying', done: 0, total: 1 });
    const categories = await store.labelCategories();
    const reloaded = readIndexFile(dataDir, manifest, categories);
    verifySelfQueries(reloaded, points, categories);
    options.onProgress?.({ phase: 'verifying', done: 1, total: 1 });
    const active = await record({ status: 'active' });
    log.info({ buildId: build.id, modelVersion }, 'index build active');
    return {
      index: reloaded,
      manifest,
      build: active,
      vectors: VectorTable.of(dim, points.labels, points.vectors),
    };
  } catch (err) {
    rmSync(tmpPath, { force: true });
    await record({ status: 'failed', error: (err as Error).message }).catch(() => {});
    log.error({ buildId: build.id, modelVersion, err }, 'index build failed');
    throw err;
  }
}

/** Reads a manifest's index file after checking its sha256 (hnswlib would read garbage without complaint). */
export function readIndexFile(
  dataDir: string,
  manifest: IndexManifest,
  categories: Map<number, string>,
): HnswIndex {
  const path = join(indexDir(dataDir), manifest.file);
  if (!existsSync(path)) throw new DataFileError(`index file ${path} is missing`, 'INDEX_FILE_MISSING');
  const actual = sha256File(path);
  if (actual !== manifest.sha256) {
    throw new DataFileError(
      `index file ${path} is corrupt: sha256 ${actual} does not match the manifest's ${manifest.sha256}`,
      'INDEX_FILE_CORRUPT',
    );
  }
  return HnswIndex.load(path, manifest.dim, categories, manifest.params);
}

export function readManifest(dataDir: string, buildId: number): IndexManifest {
  const path = manifestPath(dataDir, buildId);
  if (!existsSync(path)) throw new DataFileError(`index manifest ${path} is missing`, 'INDEX_FILE_MISSING');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as IndexManifest;
  } catch (err) {
    throw new DataFileError(
      `index manifest ${path} is unreadable: ${(err as Error).message}`,
      'INDEX_FILE_CORRUPT',
    );
  }
}

interface Points {
  count: number;
  dim: number;
  labels: Float64Array;
  vectors: Float32Array;
}

/**
 * All embeddings of a model version as flat arrays, read page by page with yields in between;
 * `expected` (the count taken before) sizes the buffer, which grows if items arrive meanwhile.
 */
async function readPoints(
  store: AsyncCatalogStore,
  modelVersion: string,
  expected: number,
  sliceMs: number,
): Promise<Points> {
  const labels: number[] = [];
  let vectors = new Float32Array(0);
  let dim = 0;
  let sliceStart = performance.now();
  for await (const page of store.embeddingPages(modelVersion))
    for (const e of page) {
      if (dim === 0) {
        dim = e.vector.length;
        vectors = new Float32Array(Math.max(1, expected) * dim);
      }
      if (e.vector.length !== dim) {
        throw new DataFileError(`embedding of item ${e.label} has ${e.vector.length} values, others ${dim}`);
      }
      if ((labels.length + 1) * dim > vectors.length) {
        // Items embedded since the count was taken.
        const grown = new Float32Array(vectors.length * 2);
        grown.set(vectors);
        vectors = grown;
      }
      vectors.set(e.vector, labels.length * dim);
      labels.push(e.label);
      if (labels.length % 256 === 0 && performance.now() - sliceStart >= sliceMs) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  const count = labels.length;
  return {
    count,
    dim,
    labels: Float64Array.from(labels),
    vectors: vectors.slice(0, count * dim),
  };
}

/**
 * Each sampled item (still in the catalog) must find itself first, at
 * distance ~0, in the index reloaded from disk, and the reloaded index must
 * hold every built item the catalog still has: catches a file that loads but
 * holds other vectors or labels.
 */
function verifySelfQueries(reloaded: HnswIndex, points: Points, categories: Map<number, string>): void {
  const stillThere = points.labels.filter((l) => categories.has(l)).length;
  if (reloaded.size !== stillThere) {
    throw new DataFileError(
      `reloaded index has ${reloaded.size} items, expected ${stillThere}`,
      'INDEX_VERIFY_FAILED',
    );
  }
  const { dim } = points;
  const step = Math.max(1, Math.floor(points.count / SELF_QUERIES));
  for (let i = 0; i < points.count; i += step) {
    const label = points.labels[i];
    if (!reloaded.has(label)) continue;
    const [hit] = reloaded.search(points.vectors.subarray(i * dim, (i + 1) * dim), 1);
    // Exact duplicates (same image twice) may legitimately answer with the twin: distance 0 is enough.
    if (!hit || hit.distance > 1e-4) {
      throw new DataFileError(
        `self-query for label ${label} returned ${hit ? `${hit.label} at ${hit.distance}` : 'nothing'}`,
        'INDEX_VERIFY_FAILED',
      );
    }
  }
}
