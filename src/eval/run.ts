import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';
import { CLASS_NAMES, IMAGE_PIXELS, NUM_CLASSES } from '../data/classes.ts';
import { loadFashionMnist } from '../data/fashionMnist.ts';
import type { FashionMnist, ImageSet } from '../data/types.ts';
import { createLogger, type Logger } from '../log.ts';
import { projectPath } from '../paths.ts';
import {
  type EmbeddingSource,
  embeddingStats,
  evaluateRetrieval,
  type ProgressFn,
  RAW_PIXELS,
  type RetrievalEvaluation,
  sliceImageSet,
} from './evaluate.ts';
import { evaluatePhotos, type PhotoEvaluation, type SetNames, TEST_SPLIT_NAMES } from './photoEval.ts';
import {
  type NeighbourRow,
  renderConfusionPng,
  renderNeighbourGridPng,
  renderProjectionPng,
} from './pictures.ts';
import { evenSample, projectUmap } from './projection.ts';
import { type EmbeddingResult, type ReportData, writeReport } from './report.ts';

export const DEFAULT_BASELINE_CACHE = projectPath('reports', 'baseline-raw-pixels.json');

export interface RunEvaluationOptions {
  source: EmbeddingSource;
  outDir: string;
  title: string;
  command: string;
  model?: { dir: string; metadata: unknown } | null;
  queryLimit?: number;
  galleryLimit?: number;
  /** Test embeddings in the 2-D projection (default 2,000). */
  projectionPoints?: number;
  seed?: number;
  /** Raw-pixel baseline: 'auto' reads/writes the cache for full-size runs and computes otherwise. */
  baseline?: 'auto' | 'compute' | 'none';
  baselineCachePath?: string;
  workers?: number;
  /** Product-photo queries of test items (src/eval/photoEval.ts); none when absent or count 0. */
  photos?: { count: number; seed: number };
  /** The dataset; loaded with loadFashionMnist() when absent. */
  data?: FashionMnist;
  /**
   * What data.test and data.train are (default test and train). Other sets, such as the validation split,
   * never read or write the raw-pixel baseline cache, which is for the full test and training images.
   */
  names?: SetNames;
  log?: Logger;
}

/** Whether a run evaluates the full test split against the full training images (the cached baseline's key). */
const isFullTestRun = (opts: RunEvaluationOptions): boolean =>
  opts.queryLimit === undefined && opts.galleryLimit === undefined && opts.names === undefined;

export interface RunEvaluationResult {
  report: ReportData;
  files: string[];
  /** The projected points (projectionPoints * 2) and their labels, e.g. for side-by-side figures. */
  projection: { points: Float32Array; labels: Uint8Array };
}

/**
 * A cli-progress bar on stderr behind the ProgressFn shape. cli-progress draws nothing when stderr is
 * not a terminal, so then every tenth of a stage is logged instead (long runs in CI or nohup).
 */
function progressBars(log: Logger): { onProgress: ProgressFn; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  let loggedTenths = 0;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  const onProgress: ProgressFn = (stage, done, total) => {
    if (!process.stderr.isTTY) {
      if (stage !== current) {
        current = stage;
        loggedTenths = 0;
      }
      const tenths = Math.floor((10 * done) / total);
      if (tenths > loggedTenths) {
        loggedTenths = tenths;
        log.info({ stage, done, total }, 'progress');
      }
      return;
    }
    if (stage !== current) {
      stop();
      current = stage;
      bar = new cliProgress.SingleBar(
        {
          format: `${stage.padEnd(28)} [{bar}] {value}/{total} | eta {eta_formatted}`,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    }
    bar?.update(done);
  };
  return { onProgress, stop };
}

function stripArrays(e: RetrievalEvaluation): Pick<EmbeddingResult, 'testVsTrain' | 'leaveOneOut' | 'dim'> {
  return { dim: e.dim, testVsTrain: e.testVsTrain, leaveOneOut: e.leaveOneOut };
}

async function embedBoth(
  source: EmbeddingSource,
  test: ImageSet,
  train: ImageSet,
  onProgress: ProgressFn,
): Promise<{
  testVectors: Awaited<ReturnType<EmbeddingSource['embedImages']>>;
  trainVectors: typeof testVectors;
}> {
  const testVectors = await source.embedImages(test, (d) =>
    onProgress(`embed test (${source.name})`, d, test.count),
  );
  const trainVectors = await source.embedImages(train, (d) =>
    onProgress(`embed train (${source.name})`, d, train.count),
  );
  return { testVectors, trainVectors };
}

interface BaselineCache {
  key: { queryCount: number; galleryCount: number; checksums: Record<string, string> };
  result: EmbeddingResult;
}

function sameKey(a: BaselineCache['key'], b: BaselineCache['key']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function rawBaseline(
  opts: RunEvaluationOptions,
  test: ImageSet,
  train: ImageSet,
  checksums: Record<string, string>,
  onProgress: ProgressFn,
  log: Logger,
): Promise<EmbeddingResult> {
  const full = isFullTestRun(opts);
  const cachePath = opts.baselineCachePath ?? DEFAULT_BASELINE_CACHE;
  const key = { queryCount: test.count, galleryCount: train.count, checksums };
  const useCache = (opts.baseline ?? 'auto') === 'auto' && full;
  if (useCache && existsSync(cachePath)) {
    const cached = JSON.parse(await readFile(cachePath, 'utf8')) as BaselineCache;
    if (sameKey(cached.key, key)) {
      log.info({ cachePath }, 'raw-pixel baseline read from cache');
      return { ...cached.result, source: `cache: ${cachePath}` };
    }
    log.warn({ cachePath }, 'raw-pixel baseline cache is for other data; recomputing');
  }
  log.info(
    { queries: test.count, gallery: train.count },
    'computing raw-pixel baseline (784-d exact search)',
  );
  const evaluation = await evaluateRetrieval(
    { vectors: test.images, labels: test.labels, dim: IMAGE_PIXELS },
    { vectors: train.images, labels: train.labels, dim: IMAGE_PIXELS },
    { workers: opts.workers, keepNearest: 1, onProgress: (s, d, t) => onProgress(`raw pixels: ${s}`, d, t) },
  );
  const result: EmbeddingResult = { name: RAW_PIXELS.name, ...stripArrays(evaluation), source: 'computed' };
  log.info(
    {
      mapAtR: result.testVsTrain.overall.mapAtR,
      precisionAt1: result.testVsTrain.overall.precisionAt1,
      seconds: result.testVsTrain.searchSeconds + result.leaveOneOut.searchSeconds,
    },
    'raw-pixel baseline done',
  );
  await maybeWriteBaselineCache(opts, test, train, checksums, result);
  return result;
}

/** Full-size raw-pixel results (the expensive 784-d search) go to the cache for later runs. */
async function maybeWriteBaselineCache(
  opts: RunEvaluationOptions,
  test: ImageSet,
  train: ImageSet,
  checksums: Record<string, string>,
  result: EmbeddingResult,
): Promise<void> {
  const full = isFullTestRun(opts);
  if (!full || (opts.baseline ?? 'auto') !== 'auto') return;
  const cachePath = opts.baselineCachePath ?? DEFAULT_BASELINE_CACHE;
  await mkdir(dirname(cachePath), { recursive: true });
  const cache: BaselineCache = {
    key: { queryCount: test.count, galleryCount: train.count, checksums },
    result,
  };
  await writeFile(cachePath, `${JSON.stringify(cache, null, 1)}\n`);
  (opts.log ?? createLogger('eval')).info({ cachePath }, 'raw-pixel baseline cached');
}

export interface ScoreOptions {
  queryLimit?: number;
  galleryLimit?: number;
  workers?: number;
  data?: FashionMnist;
}

/**
 * Metrics only (no baseline, pictures or files): the test images (first queryLimit) against the
 * training images (first galleryLimit), and test leave-one-out. For quality gates in tests.
 */
export async function scoreEmbedding(
  source: EmbeddingSource,
  opts: ScoreOptions = {},
): Promise<Pick<EmbeddingResult, 'testVsTrain' | 'leaveOneOut' | 'dim' | 'stats'>> {
  const data = opts.data ?? (await loadFashionMnist());
  const test = sliceImageSet(data.test, opts.queryLimit);
  const train = sliceImageSet(data.train, opts.galleryLimit);
  const testVectors = await source.embedImages(test);
  const trainVectors = await source.embedImages(train);
  const evaluation = await evaluateRetrieval(
    { vectors: testVectors, labels: test.labels, dim: source.dim },
    { vectors: trainVectors, labels: train.labels, dim: source.dim },
    { workers: opts.workers, keepNearest: 1 },
  );
  return { ...stripArrays(evaluation), stats: embeddingStats(testVectors, source.dim) };
}

/** One query per class (the first of each in the query set) with its nearest gallery images. */
function neighbourRows(
  test: ImageSet,
  train: ImageSet,
  e: RetrievalEvaluation,
  shown: number,
): NeighbourRow[] {
  const rows: NeighbourRow[] = [];
  const pixels = (set: ImageSet, i: number) => set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
  for (let c = 0; c < NUM_CLASSES; c++) {
    const q = test.labels.indexOf(c);
    if (q < 0) continue;
    const { k, indices, distances } = e.nearest;
    const neighbours = [];
    for (let j = 0; j < Math.min(shown, k); j++) {
      const g = indices[q * k + j];
      neighbours.push({ pixels: pixels(train, g), label: train.labels[g], distance: distances[q * k + j] });
    }
    rows.push({ query: { pixels: pixels(test, q), label: c }, neighbours });
  }
  return rows;
}

/**
 * The whole evaluation: embed test (queries) and train (gallery), exact search both ways, raw-pixel
 * baseline, projection, pictures, report.json + report.md in outDir.
 */
export async function runEvaluation(opts: RunEvaluationOptions): Promise<RunEvaluationResult> {
  const log = opts.log ?? createLogger('eval');
  const t0 = performance.now();
  const seconds = (since: number) => (performance.now() - since) / 1000;
  const timings: Record<string, number> = {};
  const bars = progressBars(log);
  try {
    let t = performance.now();
    const data = opts.data ?? (await loadFashionMnist());
    const names = opts.names ?? TEST_SPLIT_NAMES;
    const test = sliceImageSet(data.test, opts.queryLimit);
    const train = sliceImageSet(data.train, opts.galleryLimit);
    timings.loadData = seconds(t);
    log.info({ queries: test.count, gallery: train.count, source: opts.source.name }, 'evaluation started');

    t = performance.now();
    const { testVectors, trainVectors } = await embedBoth(opts.source, test, train, bars.onProgress);
    timings.embed = seconds(t);
    const dim = opts.source.dim;

    t = performance.now();
    const evaluation = await evaluateRetrieval(
      { vectors: testVectors, labels: test.labels, dim },
      { vectors: trainVectors, labels: train.labels, dim },
      { workers: opts.workers, onProgress: bars.onProgress },
    );
    timings.searchTestVsTrain = evaluation.testVsTrain.searchSeconds;
    timings.searchLeaveOneOut = evaluation.leaveOneOut.searchSeconds;
    log.info(
      { testVsTrain: evaluation.testVsTrain.overall, leaveOneOut: evaluation.leaveOneOut.overall },
      'embedding evaluated',
    );

    let photos: PhotoEvaluation | null = null;
    if (opts.photos && opts.photos.count > 0) {
      t = performance.now();
      photos = await evaluatePhotos(opts.source, test, train, testVectors, trainVectors, {
        ...opts.photos,
        names,
        workers: opts.workers,
        onProgress: bars.onProgress,
      });
      timings.photos = seconds(t);
      log.info(
        { photoP10: photos.categoryPrecisionAt10.photo.overall, exactItem: photos.exactItem },
        'photo queries evaluated',
      );
    }

    let baseline: EmbeddingResult | null = null;
    if (opts.source === RAW_PIXELS) {
      await maybeWriteBaselineCache(opts, test, train, data.checksums, {
        name: RAW_PIXELS.name,
        ...stripArrays(evaluation),
        source: 'computed',
      });
    } else if ((opts.baseline ?? 'auto') !== 'none') {
      t = performance.now();
      baseline = await rawBaseline(opts, test, train, data.checksums, bars.onProgress, log);
      timings.rawPixelBaseline = seconds(t);
    }

    t = performance.now();
    const seed = opts.seed ?? 42;
    const picked = evenSample(test.count, opts.projectionPoints ?? 2000);
    const sub = new (testVectors.constructor as new (n: number) => typeof testVectors)(picked.length * dim);
    const subLabels = new Uint8Array(picked.length);
    picked.forEach((q, i) => {
      sub.set(testVectors.subarray(q * dim, (q + 1) * dim), i * dim);
      subLabels[i] = test.labels[q];
    });
    const points = projectUmap(sub, dim, {
      seed,
      onProgress: (d, n) => bars.onProgress('UMAP projection', d, n),
    });
    timings.projection = seconds(t);
    bars.stop();

    const name = opts.model ? opts.title : opts.source.name;
    const [projection, neighbours, confusion] = await Promise.all([
      renderProjectionPng(
        points,
        subLabels,
        CLASS_NAMES,
        `${name}: UMAP of ${picked.length} ${names.queries} embeddings`,
      ),
      renderNeighbourGridPng(neighbourRows(test, train, evaluation, 5), CLASS_NAMES, `${name}: 5 nearest`),
      renderConfusionPng(evaluation.testVsTrain.confusion, CLASS_NAMES, `${name}: nearest-neighbour class`),
    ]);
    timings.total = seconds(t0);

    const report: ReportData = {
      title: opts.title,
      createdAt: new Date().toISOString(),
      command: opts.command,
      model: opts.model ?? null,
      data: {
        queries: names.queries,
        gallery: names.gallery,
        queryCount: test.count,
        galleryCount: train.count,
        checksums: data.checksums,
      },
      embedding: {
        name: opts.source.name,
        ...stripArrays(evaluation),
        stats: embeddingStats(testVectors, dim),
      },
      baseline,
      projection: { method: 'UMAP (umap-js, nNeighbors 15, minDist 0.1)', points: picked.length, seed },
      photos,
      timings,
    };
    const files = await writeReport(opts.outDir, report, { projection, neighbours, confusion });
    log.info({ outDir: opts.outDir, files, timings }, 'report written');
    return { report, files, projection: { points, labels: subLabels } };
  } finally {
    bars.stop();
  }
}
