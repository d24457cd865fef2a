/**
 * `npm run bench:index [-- --model models/NAME | --random] [--queries N] [--filters [--filter-queries N]]
 *   [--sweep [--sweep-params 16x100,24x100]]`
 *
 * On the 70,000 Fashion-MNIST catalog embeddings (the model's model.onnx run
 * by ONNX Runtime; `--random`: a seeded random projection of the pixels):
 * HNSW build time, file size and memory; recall@10 against exact float64
 * search and single-thread queries/s for efSearch in {10,20,50,100,200};
 * exact brute-force queries/s as the baseline in the same run; and the
 * category-filter strategies. `--filters` adds attribute filters (the
 * catalog's synthetic attributes) from 50 % down to 0.1 % of the items: the
 * serving planner, HNSW with the filter callback, and the exact scan of the
 * matches, against exact filtered search (see `benchAttributeFilters`).
 * Queries are catalog images shifted by one pixel (an off-centre photo of a
 * catalog item), so they are near, but not in, the index.
 * Prints one JSON document on stdout.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import hnswlib from 'hnswlib-node';
import { fashionMnistId } from '../src/catalog/importFashionMnist.ts';
import { syntheticAttributes } from '../src/catalog/syntheticAttributes.ts';
import { CLASS_NAMES, IMAGE_PIXELS, IMAGE_SIZE } from '../src/data/classes.ts';
import { createRng } from '../src/data/random.ts';
import { ExactIndex } from '../src/index/exactIndex.ts';
import { scanNearest } from '../src/index/exactScan.ts';
import { buildGraphInWorker, type GraphJob } from '../src/index/graphWorkers.ts';
import { DEFAULT_HNSW_PARAMS, HnswIndex, type HnswParams } from '../src/index/hnswIndex.ts';
import { writeIndexFile } from '../src/index/indexFile.ts';
import { RandomProjectionEmbedder } from '../src/index/projectionEmbedder.ts';
import type { SearchHit } from '../src/index/vectorIndex.ts';
import { VectorTable } from '../src/index/vectorTable.ts';
import type { Embedder } from '../src/model/embedder.contract.ts';
import { loadOnnxEmbedder } from '../src/model/onnxEmbedder.ts';
import { type Filter, parseFilter } from '../src/search/filter.ts';
import { EXACT_SCAN_MAX_MATCHES, FilterPlanner, searchCandidates } from '../src/serving/filteredSearch.ts';
import { ResidentCatalog } from '../src/serving/residentCatalog.ts';
import type { ServingSet } from '../src/serving/servedSet.ts';

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
    filters: { type: 'boolean', default: false },
    'filter-queries': { type: 'string', default: '1000' },
    'sweep-params': { type: 'string', default: '12x100,16x100,16x200,24x200' },
  },
});
const numQueries = Number(args.queries);

function progress(msg: string): void {
  process.stderr.write(`[bench:index] ${msg}\n`);
}

async function pickEmbedder(): Promise<{ embedder: Embedder; source: string; note?: string }> {
  const model = args.model!;
  if (!args.random && (existsSync(join(model, 'model.onnx')) || existsSync(join(model, 'model.json')))) {
    // ONNX Runtime on both cores: 70,000 images in seconds (tfjs-wasm took minutes). A model
    // without (or with a stale) model.onnx fails with the npm run export:onnx command to run.
    const threads = cpus().length;
    return {
      embedder: await loadOnnxEmbedder(model, { threads }),
      source: `${model} (onnxruntime, ${threads} threads)`,
    };
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
  // Released before anything is timed: its thread pool must not compete with the single-thread loops.
  const modelVersion = embedder.modelVersion;
  embedder.dispose();

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

  progress('building HNSW (one graph of the whole catalog, in a worker thread)');
  const params: HnswParams = { ...DEFAULT_HNSW_PARAMS };
  const labelsF64 = Float64Array.from({ length: n }, (_, i) => i);
  const categoryNames = Array.from({ length: n }, (_, i) => categoryOf(i));
  const dir = mkdtempSync(join(tmpdir(), 'bench-index-'));
  const file = join(dir, 'index.bin');
  const tb = performance.now();
  const job: GraphJob = { labels: labelsF64, vectors, file: 'all.bin' };
  const graphFile = await buildGraphInWorker(job, dim, params, dir, () => {});
  const buildSeconds = (performance.now() - tb) / 1000;
  writeIndexFile(file, dim, [{ category: null, file: graphFile }]);
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
  const attributeFilters = args.filters
    ? benchAttributeFilters({ hnsw, exact, queries, labels, vectors, dim, n, trainCount: fm.train.count })
    : undefined;

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
      modelVersion,
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
      buildNote: 'one graph of the whole catalog built in a worker thread, as buildIndex does',
      fileBytes,
      loadSeconds: round(loadSeconds, 2),
      rssDeltaMbOnLoad: round(rssDelta, 1),
      efSweep,
    },
    filtered,
    attributeFilters,
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
 * two classes) × strategies: an exact scan of the category's items (what the
 * serving planner does for a filter of that size), HnswIndex's category
 * filter (hnswlib-node's filter callback), and over-fetching from the graph.
 */
async function benchFilters(c: FilterContext) {
  const { hnsw, exact, queries, queryItems, labels, n, params } = c;
  const table = VectorTable.of(
    c.dim,
    Float64Array.from({ length: n }, (_, i) => i),
    c.vectors,
  );
  const members = Array.from({ length: 10 }, (_, x) =>
    Int32Array.from(labels.keys()).filter((l) => labels[l] === x),
  );
  const matchesOf = (cats: number[]) =>
    cats.length === 1 ? members[cats[0]] : Int32Array.from(cats.flatMap((x) => [...members[x]])).sort();
  const mixes = {
    sameClass: queryItems.map((item) => [labels[item]]),
    otherClass: queryItems.map((item, i) => [(labels[item] + 1 + (i % 9)) % 10]),
    twoClasses: queryItems.map((item, i) => [labels[item], (labels[item] + 1 + (i % 9)) % 10]),
  };

  const strategies: Record<string, (q: number[], cats: number[]) => number[]> = {
    exactScan: (q, cats) => scanNearest(table, matchesOf(cats), q, K).map((h) => h.label),
    categoryCallback: (q, cats) =>
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
    progress(`filter ${mixName}: ${JSON.stringify(result[mixName])}`);
  }
  return result;
}

/**
 * Attribute filters over the catalog's synthetic attributes, from about 50 %
 * down to 0.1 % of the items. Brand and colour are uniform over 8 values each
 * and in_stock holds for 85 %, whatever the picture: "independent" filters.
 * A price range depends on the category, so a price filter keeps a few
 * categories, and a query's nearest allowed items can lie far from it in the
 * embedding: "price" filters are the hard case for a graph walk.
 */
const ATTRIBUTE_FILTERS: { family: 'independent' | 'price'; filter: Record<string, unknown> }[] = [
  { family: 'independent', filter: { brand: { in: ['Acme', 'Borealis', 'Cobalt', 'Dune'] } } },
  { family: 'independent', filter: { colour: { in: ['black', 'white'] }, in_stock: true } },
  { family: 'independent', filter: { colour: 'black', in_stock: true } },
  {
    family: 'independent',
    filter: { brand: { in: ['Acme', 'Borealis', 'Cobalt', 'Dune'] }, colour: 'black' },
  },
  { family: 'independent', filter: { brand: { in: ['Acme', 'Borealis', 'Cobalt'] }, colour: 'black' } },
  { family: 'independent', filter: { brand: { in: ['Acme', 'Borealis'] }, colour: 'black' } },
  { family: 'independent', filter: { brand: 'Acme', colour: 'black', in_stock: true } },
  {
    family: 'independent',
    filter: { brand: 'Acme', colour: { in: ['black', 'white', 'grey', 'navy'] }, in_stock: false },
  },
  {
    family: 'independent',
    filter: { brand: 'Acme', colour: 'black', in_stock: false, sizes: { any: ['XS', '37'] } },
  },
  { family: 'price', filter: { price: { lt: 68 } } },
  { family: 'price', filter: { price: { gte: 120 } } },
  { family: 'price', filter: { price: { gte: 140 } } },
  { family: 'price', filter: { price: { gte: 150 } } },
  { family: 'price', filter: { price: { gte: 170 } } },
  { family: 'price', filter: { price: { gte: 200 } } },
  { family: 'price', filter: { price: { gte: 275 } } },
  { family: 'price', filter: { price: { gte: 296 } } },
];
/** Larger efSearch values tried for the filter callback alone (on the first EF_SWEEP_QUERIES queries). */
const FILTER_EF_VALUES = [64, 128, 256];
const EF_SWEEP_QUERIES = 100;
const TARGET_RECALL = 0.95;
/** The methods of one filter are timed in turn, this many rounds of ROUND_MS each; q/s is the median. */
const ROUNDS = 5;
const ROUND_MS = 250;

interface AttributeFilterContext {
  hnsw: HnswIndex;
  exact: ExactIndex;
  queries: number[][];
  labels: Uint8Array;
  vectors: Float32Array;
  dim: number;
  n: number;
  /** Labels below this are training images (index = label), the rest test images. */
  trainCount: number;
}

type QueryFn = (i: number) => SearchHit[];

interface Rate {
  /** Per wall-clock second. */
  wall: number;
  /** Per second of this process's CPU time: not lowered when other processes take the cores. */
  cpu: number;
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Queries/s of each method, timed round-robin (ROUNDS rounds of ROUND_MS per
 * method, each continuing through the queries where its last round stopped),
 * so that a change of the machine's load hits every method alike; medians.
 */
function timeInTurn(count: number, fns: QueryFn[]): Rate[] {
  const cursors = fns.map(() => 0);
  const rounds = fns.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let r = 0; r < ROUNDS; r++) {
    fns.forEach((fn, m) => {
      let calls = 0;
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      let elapsed = 0;
      do {
        fn(cursors[m]);
        cursors[m] = (cursors[m] + 1) % count;
        calls++;
        elapsed = performance.now() - start;
      } while (elapsed < ROUND_MS);
      const cpu = process.cpuUsage(cpu0);
      rounds[m].wall.push((calls / elapsed) * 1000);
      rounds[m].cpu.push((calls / (cpu.user + cpu.system)) * 1e6);
    });
  }
  return rounds.map((x) => ({ wall: median(x.wall), cpu: median(x.cpu) }));
}

/**
 * Where the filter callback overtakes the exact scan: for each filter of a
 * family, the callback's q/s (at the smallest measured ef reaching
 * TARGET_RECALL) over the scan's, and the match count at which that ratio
 * crosses 1 (log-log interpolation between the two filters around it).
 */
function crossover(
  cases: { matches: number; hnswCallback: Timed; exactScan: Timed; callbackEfSweep: Timed[] }[],
) {
  const points = cases
    .map((x) => {
      const ok = [x.hnswCallback, ...x.callbackEfSweep].find((r) => r.recallAt10 >= TARGET_RECALL);
      return {
        matches: x.matches,
        efSearch: ok?.efSearch,
        callbackOverScan: ok ? round(ok.queriesPerCpuSecond / x.exactScan.queriesPerCpuSecond, 3) : 0,
      };
    })
    .sort((a, b) => a.matches - b.matches);
  let matches: number | null = null;
  for (let i = points.length - 1; i > 0 && matches === null; i--) {
    const [a, b] = [points[i - 1], points[i]];
    if (a.callbackOverScan < 1 && b.callbackOverScan >= 1) {
      const t =
        a.callbackOverScan === 0
          ? 1
          : -Math.log(a.callbackOverScan) / Math.log(b.callbackOverScan / a.callbackOverScan);
      matches = Math.round(Math.exp(Math.log(a.matches) + t * Math.log(b.matches / a.matches)));
    }
  }
  return { points, crossoverMatches: matches };
}

interface Timed {
  efSearch?: number;
  recallAt10: number;
  queriesPerSecond: number;
  queriesPerCpuSecond: number;
  vsExact: number;
  fewerThanK: number;
}

/**
 * For each filter of ATTRIBUTE_FILTERS, over the catalog as the server holds
 * it (a ResidentCatalog of every item with the attributes the import gives it,
 * a VectorTable, the HnswIndex of the run): recall@10, single-thread q/s per
 * wall and per CPU second (and the latter's ratio to the exact baseline's;
 * the crossover uses it too) and the number of queries answered with
 * fewer than min(k, matches) hits, of
 * - planner: FilterPlanner.plan + searchCandidates, as /similar runs them;
 * - hnswCallback: index.search with the filter callback alone (efSearch as
 *   built; callbackEfSweep: larger ef on the first EF_SWEEP_QUERIES queries);
 * - exactScan: scanNearest over the matching labels alone;
 * against exact filtered search (ExactIndex with `allow`, float64), the
 * ground truth and the q/s baseline.
 */
function benchAttributeFilters(c: AttributeFilterContext) {
  const { hnsw, exact, labels, vectors, dim, n, trainCount } = c;
  const items = new ResidentCatalog();
  const created = new Date(0).toISOString();
  for (let label = 0; label < n; label++) {
    const split = label < trainCount ? 'train' : 'test';
    const index = split === 'train' ? label : label - trainCount;
    const category = CLASS_NAMES[labels[label]];
    items.put({
      label,
      id: fashionMnistId(split, index),
      title: `${category} #${index}`,
      category,
      source: 'fashion-mnist',
      split,
      originalPath: null,
      attributes: syntheticAttributes(split, index, category),
      createdAt: created,
      updatedAt: created,
    });
  }
  const table = VectorTable.of(
    dim,
    Int32Array.from({ length: n }, (_, i) => i),
    vectors,
  );
  // searchCandidates reads only `index` and `vectors` of the serving set.
  const set = { index: hnsw, vectors: table } as unknown as ServingSet;
  const planner = new FilterPlanner(items);
  const queries = c.queries.slice(0, Number(args['filter-queries'])).map((q) => Float32Array.from(q));
  const count = queries.length;
  const defaultEf = hnsw.efSearch;

  const cases = ATTRIBUTE_FILTERS.map(({ family, filter: json }) => {
    const filter: Filter = parseFilter(json);
    const plan = planner.plan(filter);
    const matches = plan.matches!;
    const allow = plan.allow!;
    const want = Math.min(K, matches.length);
    const fns: QueryFn[] = [
      (i) => exact.search(queries[i], K, { allow }),
      (i) => searchCandidates(set, queries[i], K, planner.plan(filter)),
      (i) => hnsw.search(queries[i], K, { allow }),
      (i) => scanNearest(table, matches, queries[i], K),
    ];
    const results = fns.map((fn) => queries.map((_, i) => fn(i)));
    const truth = results[0];
    const qps = timeInTurn(count, fns);
    const score = (got: SearchHit[][], q: Rate): Timed => ({
      recallAt10: round(recall(got, truth.slice(0, got.length))),
      queriesPerSecond: Math.round(q.wall),
      queriesPerCpuSecond: Math.round(q.cpu),
      vsExact: round(q.cpu / qps[0].cpu, 3),
      fewerThanK: got.filter((hits) => hits.length < want).length,
    });
    const few = Math.min(EF_SWEEP_QUERIES, count);
    const callbackEfSweep = FILTER_EF_VALUES.map((ef) => {
      hnsw.setEfSearch(ef);
      const got = queries.slice(0, few).map((q) => hnsw.search(q, K, { allow }));
      const [q] = timeInTurn(few, [(i) => hnsw.search(queries[i], K, { allow })]);
      return { efSearch: ef, queries: few, ...score(got, q) };
    });
    hnsw.setEfSearch(defaultEf);
    const out = {
      family,
      filter: json,
      matches: matches.length,
      matchFraction: round(matches.length / n, 5),
      plannerPath: matches.length <= EXACT_SCAN_MAX_MATCHES ? 'exactScan' : 'hnswCallback',
      exactBaseline: {
        queriesPerSecond: Math.round(qps[0].wall),
        queriesPerCpuSecond: Math.round(qps[0].cpu),
      },
      planner: score(results[1], qps[1]),
      hnswCallback: { efSearch: defaultEf, ...score(results[2], qps[2]) },
      exactScan: score(results[3], qps[3]),
      callbackEfSweep,
    };
    progress(
      `attribute filter ${JSON.stringify(json)}: ${matches.length} matches, exact ${out.exactBaseline.queriesPerSecond} q/s, ` +
        `planner ${JSON.stringify(out.planner)}, callback ${JSON.stringify(out.hnswCallback)}, ` +
        `scan ${JSON.stringify(out.exactScan)}`,
    );
    return out;
  });

  return {
    queries: count,
    k: K,
    exactScanMaxMatches: EXACT_SCAN_MAX_MATCHES,
    note:
      'ground truth and q/s baseline: ExactIndex with allow (float64); q/s single-thread, median of ' +
      `${ROUNDS} interleaved rounds, per wall and per CPU second; vsExact = q/s per CPU second over ` +
      "the exact baseline's for the same filter; " +
      'fewerThanK = queries answered with fewer than min(k, matches) hits',
    cases,
    crossover: {
      rule: `hnswCallback q/s per CPU second (smallest ef with recall@10 >= ${TARGET_RECALL}) over exactScan's`,
      independent: crossover(cases.filter((x) => x.family === 'independent')),
      price: crossover(cases.filter((x) => x.family === 'price')),
    },
    goals: {
      plannerRecallOk: cases.every((x) => x.planner.recallAt10 >= TARGET_RECALL),
      plannerNeverShort: cases.every((x) => x.planner.fewerThanK === 0),
    },
  };
}

/**
 * M x efConstruction on the whole-catalog graph (raw hnswlib), to choose the defaults: build seconds vs recall/speed.
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
