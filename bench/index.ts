/**
 * `npm run bench:index [-- --model models/NAME | --random] [--queries N] [--sweep [--sweep-params 16x100,24x100]]`
 *
 * On the 70,000 Fashion-MNIST catalog embeddings: HNSW build time, file size
 * and memory; recall@10 against exact float64 search and single-thread
 * queries/s for efSearch in {10,20,50,100,200}; exact brute-force queries/s
 * as the baseline in the same run; and the category-filter strategies.
 * Queries are catalog images shifted by one pixel (an off-centre photo of a
 * catalog item), so they are near, but not in, the index.
 * Prints one JSON document on stdout.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import hnswlib from 'hnswlib-node';
import { CLASS_NAMES, IMAGE_PIXELS, IMAGE_SIZE } from '../src/data/classes.ts';
import { createRng } from '../src/data/random.ts';
import { ExactIndex } from '../src/index/exactIndex.ts';
import { buildGraphsInWorkers, type GraphJob, partitionByCategory } from '../src/index/graphWorkers.ts';
import { DEFAULT_HNSW_PARAMS, HnswIndex, type HnswParams } from '../src/index/hnswIndex.ts';
import { writeIndexFile } from '../src/index/indexFile.ts';
import { RandomProjectionEmbedder } from '../src/index/projectionEmbedder.ts';
import type { SearchHit } from '../src/index/vectorIndex.ts';
import type { Embedder } from '../src/model/embedder.contract.ts';

const K = 10;
const EF_VALUES = [10, 20, 50, 100, 200];
/** Each timed loop runs at least this long so per-call timer noise does not dominate. */
const MIN_TIMED_MS = 1000;

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/default' },
    random: { type: 'boolean', default: false },
    queries: { type: 'string', default: '1000' },
    sweep: { type: 'boolean', default: false },
    'sweep-params': { type: 'string', default: '12x100,16x100,16x200,24x200' },
  },
});
const numQueries = Number(args.queries);

function progress(msg: string): void {
  process.stderr.write(`[bench:index] ${msg}\n`);
}

async function pickEmbedder(): Promise<{ embedder: Embedder; source: string; note?: string }> {
  if (!args.random && existsSync(join(args.model!, 'model.json'))) {
    const { initBackend } = await import('../src/model/backend.ts');
    const { loadEmbedder } = await import('../src/model/embedder.ts');
    const backend = await initBackend();
    return { embedder: await loadEmbedder(args.model!), source: `${args.model} (backend ${backend})` };
  }
  return {
    embedder: new RandomProjectionEmbedder(64, 7),
    source: 'random-projection',
    note: args.random
      ? 'forced --random: seeded Gaussian random projection of raw pixels to 64-d'
      : `no trained model at ${args.model}: fell back to a seeded Gaussian random projection of raw pixels to 64-d`,
  };
}

async function embedAll(embedder: Embedder, images: Float32Array, count: number): Promise<Float32Array> {
  const out = new Float32Array(count * embedder.dim);
  const batch = 1000;
  for (let s = 0; s < count; s += batch) {
    const n = Math.min(batch, count - s);
    out.set(
      await embedder.embed(images.subarray(s * IMAGE_PIXELS, (s + n) * IMAGE_PIXELS), n),
      s * embedder.dim,
    );
    if ((s / batch) % 10 === 0) progress(`embedded ${s + n}/${count}`);
  }
  return out;
}

/** Shift down-right by one pixel: the query is a slightly off-centre copy of a catalog image. */
function shifted(images: Float32Array, index: number): Float32Array {
  const out = new Float32Array(IMAGE_PIXELS);
  const base = index * IMAGE_PIXELS;
  for (let y = 1; y < IMAGE_SIZE; y++) {
    for (let x = 1; x < IMAGE_SIZE; x++)
      out[y * IMAGE_SIZE + x] = images[base + (y - 1) * IMAGE_SIZE + x - 1];
  }
  return out;
}

function row(vectors: Float32Array, i: number, dim: number): Float32Array {
  return vectors.subarray(i * dim, (i + 1) * dim);
}

/** Runs `fn` over all queries repeatedly for at least MIN_TIMED_MS; returns queries per second. */
function timeQueries(queries: number[][], fn: (q: number[], i: number) => unknown): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < queries.length; i++) fn(queries[i], i);
    calls += queries.length;
    elapsed = performance.now() - start;
  } while (elapsed < MIN_TIMED_MS);
  return (calls / elapsed) * 1000;
}

function recall(results: SearchHit[][] | number[][], truth: SearchHit[][]): number {
  let hits = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(truth[i].map((h) => h.label));
    const got = results[i].map((h) => (typeof h === 'number' ? h : h.label));
    for (const l of got.slice(0, want.size)) if (want.has(l)) hits++;
    total += want.size;
  }
  return total === 0 ? 1 : hits / total;
}

function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  // stdout carries only the JSON result: keep pino's info lines (dataset located, backend chosen) out of it.
  process.env.LOG_LEVEL ??= 'warn';
  const { loadFashionMnist } = await import('../src/data/fashionMnist.ts');
  const loadAtStart = loadavg().map((x) => round(x, 2));
  const fm = await loadFashionMnist();
  const n = fm.train.count + fm.test.count;
  const images = new Float32Array(n * IMAGE_PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < fm.train.images.length; i++) images[i] = fm.train.images[i] / 255;
  for (let i = 0; i < fm.test.images.length; i++)
    images[fm.train.images.length + i] = fm.test.images[i] / 255;
  labels.set(fm.train.labels);
  labels.set(fm.test.labels, fm.train.count);
  const categoryOf = (label: number) => CLASS_NAMES[labels[label]];

  const { embedder, source, note } = await pickEmbedder();
  const dim = embedder.dim;
  progress(`embedding ${n} images with ${source}`);
  const t0 = performance.now();
  const vectors = await embedAll(embedder, images, n);
  const embedSeconds = (performance.now() - t0) / 1000;

  const rng = createRng(2024);
  const queryItems = Array.from({ length: numQueries }, () => Math.floor(rng() * n));
  const queryImages = new Float32Array(numQueries * IMAGE_PIXELS);
  queryItems.forEach((item, i) => {
    queryImages.set(shifted(images, item), i * IMAGE_PIXELS);
  });
  const queryVectors = await embedAll(embedder, queryImages, numQueries);
  const queries = queryItems.map((_, i) => Array.from(row(queryVectors, i, dim)));

  progress('exact search (float64) for ground truth');
  const exact = new ExactIndex(dim, n);
  for (let i = 0; i < n; i++) exact.add(i, row(vectors, i, dim), categoryOf(i));
  const truth = queries.map((q) => exact.search(q, K));
  // Leave-one-out: the catalog item itself as the query ("more like this item"), itself excluded.
  const itemQueries = queryItems.map((item) => Array.from(row(vectors, item, dim)));
  const withoutSelf = (hits: SearchHit[], i: number) =>
    hits.filter((h) => h.label !== queryItems[i]).slice(0, K);
  const itemTruth = itemQueries.map((q, i) => withoutSelf(exact.search(q, K + 1), i));
  const exactQps = timeQueries(queries.slice(0, 100), (q) => exact.search(q, K));

  progress('building HNSW (whole catalog + one graph per category, in 2 worker threads)');
  const params: HnswParams = { ...DEFAULT_HNSW_PARAMS };
  const labelsF64 = Float64Array.from({ length: n }, (_, i) => i);
  const categoryNames = Array.from({ length: n }, (_, i) => categoryOf(i));
  const dir = mkdtempSync(join(tmpdir(), 'bench-index-'));
  const file = join(dir, 'index.bin');
  const tb = performance.now();
  const jobs: GraphJob[] = [
    { category: null, labels: labelsF64, vectors, file: 'all.bin' },
    ...partitionByCategory({ dim, labels: labelsF64, categories: categoryNames, vectors }).map((p, i) => ({
      ...p,
      file: `category-${i}.bin`,
    })),
  ];
  const graphFiles = await buildGraphsInWorkers(jobs, dim, params, dir, () => {});
  const buildSeconds = (performance.now() - tb) / 1000;
  writeIndexFile(file, dim, graphFiles);
  const fileBytes = statSync(file).size;
  const rssBefore = rssMb();
  const tl = performance.now();
  const hnsw = HnswIndex.load(file, dim, new Map(categoryNames.map((c, i) => [i, c])), params);
  const loadSeconds = (performance.now() - tl) / 1000;
  const rssDelta = rssMb() - rssBefore;
  rmSync(dir, { recursive: true, force: true });
  progress(
    `built in ${buildSeconds.toFixed(1)} s, loaded in ${loadSeconds.toFixed(1)} s, ${fileBytes} bytes`,
  );

  // The default efSearch is measured too when it is not one of the sweep values.
  const efValues = [...new Set([...EF_VALUES, params.efSearch])].sort((a, b) => a - b);
  const efSweep = efValues.map((ef) => {
    hnsw.setEfSearch(ef);
    const results = queries.map((q) => hnsw.search(q, K));
    const itemResults = itemQueries.map((q, i) => withoutSelf(hnsw.search(q, K + 1), i));
    const qps = timeQueries(queries, (q) => hnsw.search(q, K));
    progress(`ef ${ef}: recall ${recall(results, truth).toFixed(4)}, ${qps.toFixed(0)} q/s`);
    return {
      efSearch: ef,
      recallAt10: round(recall(results, truth)),
      recallAt10LeaveOneOut: round(recall(itemResults, itemTruth)),
      queriesPerSecond: Math.round(qps),
      speedupVsExact: round(qps / exactQps, 1),
    };
  });
  hnsw.setEfSearch(params.efSearch);

  const filtered = await benchFilters({ hnsw, exact, queries, queryItems, labels, vectors, dim, n, params });

  const sweep = args.sweep ? benchBuildParams(vectors, dim, n, queries, truth) : undefined;

  const atDefault = efSweep.find((e) => e.efSearch === params.efSearch);
  const out = {
    bench: 'index',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      // The machine is shared: a high load average at the start or end means the q/s figures are pessimistic.
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg().map((x) => round(x, 2)),
    },
    embeddings: {
      source,
      modelVersion: embedder.modelVersion,
      note,
      count: n,
      dim,
      embedSeconds: round(embedSeconds, 1),
    },
    queries: {
      count: numQueries,
      k: K,
      kind: 'catalog images shifted by one pixel (not in the index); q/s and recallAt10 use these',
      leaveOneOut: 'recallAt10LeaveOneOut: the catalog items themselves, k+1 searched and the item dropped',
    },
    exactBaseline: {
      queriesPerSecond: Math.round(exactQps),
      method: 'brute force, float64 subtract-then-square',
    },
    hnsw: {
      params,
      buildSeconds: round(buildSeconds, 2),
      buildItemsPerSecond: Math.round(n / buildSeconds),
      buildNote:
        'whole-catalog graph and the 10 category graphs built in 2 worker threads, as buildIndex does',
      fileBytes,
      loadSeconds: round(loadSeconds, 2),
      rssDeltaMbOnLoad: round(rssDelta, 1),
      efSweep,
    },
    filtered,
    buildParamSweep: sweep,
    goals: {
      recallAtDefaultEf: atDefault?.recallAt10,
      qpsAtDefaultEf: atDefault?.queriesPerSecond,
      recallOk: (atDefault?.recallAt10 ?? 0) >= 0.99,
      qpsOk: (atDefault?.queriesPerSecond ?? 0) >= 10_000,
      buildOk: buildSeconds < 30,
    },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  embedder.dispose();
}

interface FilterContext {
  hnsw: HnswIndex;
  exact: ExactIndex;
  queries: number[][];
  queryItems: number[];
  labels: Uint8Array;
  vectors: Float32Array;
  dim: number;
  n: number;
  params: HnswParams;
}

/**
 * Category filters, three query mixes (the query's own class; another class;
 * two classes) × strategies: hnswlib-node's filter callback, over-fetching
 * from the whole-catalog graph, and one small graph per category (what
 * HnswIndex does).
 */
async function benchFilters(c: FilterContext) {
  const { hnsw, exact, queries, queryItems, labels, n, params } = c;
  const mixes = {
    sameClass: queryItems.map((item) => [labels[item]]),
    otherClass: queryItems.map((item, i) => [(labels[item] + 1 + (i % 9)) % 10]),
    twoClasses: queryItems.map((item, i) => [labels[item], (labels[item] + 1 + (i % 9)) % 10]),
  };

  const strategies: Record<string, (q: number[], cats: number[]) => number[]> = {
    perCategoryGraphs: (q, cats) =>
      hnsw.search(q, K, { categories: cats.map((x) => CLASS_NAMES[x]) }).map((h) => h.label),
    // Over-fetch from the whole-catalog graph: k / selectivity x 2 neighbours, doubled until k match.
    overfetch: (q, cats) => {
      const allowed = new Set(cats);
      let fetch = Math.ceil(K * (10 / cats.length) * 2);
      for (;;) {
        hnsw.setEfSearch(Math.max(params.efSearch, fetch));
        const got = hnsw
          .search(q, fetch)
          .map((h) => h.label)
          .filter((l) => allowed.has(labels[l]));
        if (got.length >= K || fetch >= n) {
          hnsw.setEfSearch(params.efSearch);
          return got.slice(0, K);
        }
        fetch = Math.min(n, fetch * 2);
      }
    },
  };
  const result: Record<
    string,
    Record<string, { recallAt10: number; queriesPerSecond: number; queries: number }>
  > = {};
  for (const [mixName, mix] of Object.entries(mixes)) {
    const truth = queries.map((q, i) =>
      exact.search(q, K, { categories: mix[i].map((x) => CLASS_NAMES[x]) }),
    );
    result[mixName] = {};
    for (const [name, fn] of Object.entries(strategies)) {
      // Over-fetching can need thousands of neighbours per query: fewer queries keep the run short.
      const qs = name === 'overfetch' ? queries.slice(0, 100) : queries;
      const got = qs.map((q, i) => fn(q, mix[i]));
      const qps = timeQueries(qs, (q, i) => fn(q, mix[i]));
      result[mixName][name] = {
        recallAt10: round(recall(got, truth.slice(0, qs.length))),
        queriesPerSecond: Math.round(qps),
        queries: qs.length,
      };
    }
    // The callback calls into JS for every visited candidate: far slower, so fewer queries.
    const few = queries.slice(0, 100);
    const cb = (q: number[], i: number) => {
      const allowed = new Set(mix[i]);
      return hnsw.search(q, K, { allow: (label) => allowed.has(labels[label]) }).map((h) => h.label);
    };
    const got = few.map((q, i) => cb(q, i));
    const qps = timeQueries(few, cb);
    result[mixName].filterCallback = {
      recallAt10: round(recall(got, truth.slice(0, 100))),
      queriesPerSecond: Math.round(qps),
      queries: few.length,
    };
    progress(`filter ${mixName}: ${JSON.stringify(result[mixName])}`);
  }
  return result;
}

/**
 * M x efConstruction on the whole-catalog graph alone (raw hnswlib, no
 * per-category graphs), to choose the defaults: build seconds vs recall/speed.
 */
function benchBuildParams(
  vectors: Float32Array,
  dim: number,
  n: number,
  queries: number[][],
  truth: SearchHit[][],
) {
  const out = [];
  const points = Array.from({ length: n }, (_, i) => Array.from(row(vectors, i, dim)));
  const combos = args['sweep-params']!.split(',').map((c) => c.split('x').map(Number));
  for (const [M, efConstruction] of combos) {
    const t = performance.now();
    const graph = new hnswlib.HierarchicalNSW('l2', dim);
    graph.initIndex(n, M, efConstruction, DEFAULT_HNSW_PARAMS.seed);
    for (let i = 0; i < n; i++) graph.addPoint(points[i], i);
    const buildSeconds = (performance.now() - t) / 1000;
    const perEf = [...new Set([20, 50, DEFAULT_HNSW_PARAMS.efSearch, 100])].map((ef) => {
      graph.setEf(ef);
      const got = queries.map((q) => graph.searchKnn(q, K).neighbors);
      return {
        efSearch: ef,
        recallAt10: round(recall(got, truth)),
        queriesPerSecond: Math.round(timeQueries(queries, (q) => graph.searchKnn(q, K))),
      };
    });
    progress(`M ${M} efC ${efConstruction}: build ${buildSeconds.toFixed(1)} s ${JSON.stringify(perEf)}`);
    out.push({ M, efConstruction, buildSeconds: round(buildSeconds, 2), perEf });
  }
  return out;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
