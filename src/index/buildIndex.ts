import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { CatalogStore, IndexBuild } from '../catalog/store.ts';
import { DataFileError, NotReadyError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { publishFile, sha256File, writeFileAtomic } from './files.ts';
import { DEFAULT_HNSW_PARAMS, HnswIndex, type HnswParams } from './hnswIndex.ts';

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
  store: CatalogStore;
  dataDir: string;
  modelVersion: string;
  params?: Partial<HnswParams>;
  /** Continue a build already recorded (by `rebuildIndex`); otherwise a new one is recorded. */
  buildId?: number;
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
  const build = options.buildId
    ? store.updateBuild(options.buildId, { params: JSON.stringify(params) })
    : store.recordBuild(modelVersion, JSON.stringify(params));
  const dir = indexDir(dataDir);
  const file = indexFileName(build.id);
  const finalPath = join(dir, file);
  const tmpPath = `${finalPath}.tmp-${process.pid}`;
  try {
    store.updateBuild(build.id, { status: 'building' });
    const total = store.countEmbeddings(modelVersion);
    if (total === 0) throw new NotReadyError(`no embeddings stored for model version '${modelVersion}'`);
    mkdirSync(dir, { recursive: true });
    const started = performance.now();
    let index: HnswIndex | null = null;
    let done = 0;
    let sliceStart = performance.now();
    for (const e of store.iterateEmbeddings(modelVersion)) {
      index ??= HnswIndex.create(e.vector.length, params, total);
      index.add(e.label, e.vector, e.category);
      done++;
      if (done % 16 === 0 && performance.now() - sliceStart >= sliceMs) {
        options.onProgress?.({ phase: 'building', done, total });
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    if (!index) throw new NotReadyError(`no embeddings stored for model version '${modelVersion}'`);
    options.onProgress?.({ phase: 'building', done, total });
    const buildSeconds = (performance.now() - started) / 1000;

    index.save(tmpPath);
    const sha256 = sha256File(tmpPath);
    const bytes = statSync(tmpPath).size;
    publishFile(tmpPath, finalPath);
    const manifest: IndexManifest = {
      buildId: build.id,
      modelVersion,
      itemCount: index.size,
      dim: index.dim,
      params,
      file,
      sha256,
      bytes,
      createdAt: new Date().toISOString(),
      format: 'hnswlib-node/HierarchicalNSW/l2',
    };
    writeFileAtomic(manifestPath(dataDir, build.id), `${JSON.stringify(manifest, null, 2)}\n`);
    store.updateBuild(build.id, { status: 'verifying', file, checksum: sha256, itemCount: index.size });
    log.info({ buildId: build.id, modelVersion, items: index.size, buildSeconds, bytes }, 'index written');

    options.onProgress?.({ phase: 'verifying', done: 0, total: 1 });
    const reloaded = readIndexFile(dataDir, manifest, store.labelCategories());
    verifySelfQueries(reloaded, index);
    options.onProgress?.({ phase: 'verifying', done: 1, total: 1 });
    const active = store.updateBuild(build.id, { status: 'active' });
    log.info({ buildId: build.id, modelVersion }, 'index build active');
    return { index: reloaded, manifest, build: active };
  } catch (err) {
    rmSync(tmpPath, { force: true });
    store.updateBuild(build.id, { status: 'failed', error: (err as Error).message });
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

/**
 * Each sampled item must find itself first (distance ~0) in the reloaded
 * index: catches a file that loads but holds other vectors or labels.
 */
function verifySelfQueries(reloaded: HnswIndex, built: HnswIndex): void {
  if (reloaded.size !== built.size) {
    throw new DataFileError(
      `reloaded index has ${reloaded.size} items, built ${built.size}`,
      'INDEX_VERIFY_FAILED',
    );
  }
  const labels = built.labels();
  const step = Math.max(1, Math.floor(labels.length / SELF_QUERIES));
  for (let i = 0; i < labels.length; i += step) {
    const v = built.getVector(labels[i])!;
    const [hit] = reloaded.search(v, 1);
    // Exact duplicates (same image twice) may legitimately answer with the twin: distance 0 is enough.
    if (!hit || hit.distance > 1e-4) {
      throw new DataFileError(
        `self-query for label ${labels[i]} returned ${hit ? `${hit.label} at ${hit.distance}` : 'nothing'}`,
        'INDEX_VERIFY_FAILED',
      );
    }
  }
}
