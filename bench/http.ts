/**
 * `npm run bench:http`: load test of the real server (`src/cli/serve.ts` as a
 * child process on a free loopback port, so autocannon does not share its
 * event loop) with autocannon, at concurrency 1, 16 and 64:
 *   - GET /items/:id/recommendations (random catalog ids)
 *   - POST /similar with a 28x28 PNG (raw body)
 *   - POST /similar with a 512x512 JPEG "product photo" (a test image upscaled
 *     and inverted to a dark garment on white)
 * Baseline measured in the same run: GET /healthz (the framework's ceiling on
 * this machine). The default model set-up (worker thread + micro-batching) is
 * compared on /similar at concurrency 16 with the model on the main thread
 * and without batching (servers restarted with EMBED_IN_WORKER /
 * EMBED_BATCH_MAX), and for each, the latency of recommendations (no model
 * call) while /similar runs beside them shows how much embedding blocks.
 *
 * Env: BENCH_DURATION (seconds per run, default 20), BENCH_ITEMS (catalog size
 * imported from the bundled test split, default 10000), MODEL_DIR (default
 * models/default when it exists, else an untrained fixture model: same
 * network, same cost), BENCH_DATA_DIR (reuse a prepared data directory),
 * BENCH_COMPARE_BATCHING=0 to skip that comparison.
 * Prints one JSON document on stdout; progress on stderr.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServer, stopServer } from './serverProcess.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 10_000);
const CONCURRENCY = [1, 16, 64];
const GOALS = {
  recommendationsPerSecond: 5000,
  recommendationsP99Ms: 20,
  pngPerSecond: 1000,
  jpegPerSecond: 300,
};

function note(message: string): void {
  process.stderr.write(`[bench:http] ${message}\n`);
}

type Target = Partial<autocannon.Options> & { path?: string };

interface RunResult {
  target: string;
  concurrency: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

async function run(
  target: string,
  base: string,
  concurrency: number,
  target_: Target,
  duration = DURATION,
): Promise<RunResult> {
  note(`${target} c=${concurrency} for ${duration}s`);
  const { path = '/', ...options } = target_;
  const r = await autocannon({ url: `${base}${path}`, connections: concurrency, duration, ...options });
  const result: RunResult = {
    target,
    concurrency,
    requestsPerSecond: Math.round(r.requests.average),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
  note(JSON.stringify(result));
  return result;
}

async function main(): Promise<void> {
  // stdout carries only the report: the project's modules log at load time, so quiet them first.
  process.env.LOG_LEVEL = 'warn';
  const { openCatalog } = await import('../src/catalog/sqliteStore.ts');
  const { SqliteAsyncStore } = await import('../src/catalog/asyncStore.ts');
  const { importFashionMnist } = await import('../src/catalog/importFashionMnist.ts');
  const { initBackend } = await import('../src/model/backend.ts');
  const { makeFixtureModel, productPhoto } = await import('../test/server/fixtures.ts');
  const backend = await initBackend(process.env.TFJS_BACKEND || undefined);
  const scratch = mkdtempSync(join(tmpdir(), 'bench-http-'));
  try {
    const dataDir = process.env.BENCH_DATA_DIR ?? join(scratch, 'data');
    let modelDir = process.env.MODEL_DIR ?? 'models/default';
    let fixtureModel = false;
    if (!existsSync(join(modelDir, 'model.json'))) {
      modelDir = await makeFixtureModel(join(scratch, 'model'));
      fixtureModel = true;
    }
    const store = openCatalog(join(dataDir, 'catalog.sqlite'));
    if (store.countItems() === 0) {
      note(`importing ${ITEMS} test images`);
      await importFashionMnist({ store: new SqliteAsyncStore(store), split: 'test', limit: ITEMS });
    }
    const ids = store.listItems({ limit: 1000 }).items.map((i) => i.id);
    const png = Buffer.from(store.getImage(ids[7])!);
    store.close();
    const jpeg = await productPhoto(png, 512);

    const env = { MODEL_DIR: modelDir, DATA_DIR: dataDir, CATALOG: 'none' };
    note('starting server (first start embeds the catalog and builds the index)');
    const server = await startServer(env);
    const runs: RunResult[] = [];
    const pickId = () => ids[Math.floor(Math.random() * ids.length)];
    const targets: Record<string, Target> = {
      'GET /healthz': { path: '/healthz' },
      'GET /items/:id/recommendations': {
        requests: [
          {
            method: 'GET',
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              path: `/items/${pickId()}/recommendations?k=10`,
            }),
          },
        ],
      },
      'POST /similar png28': {
        method: 'POST',
        path: '/similar?k=10',
        headers: { 'content-type': 'image/png' },
        body: png,
      },
      'POST /similar jpeg512': {
        method: 'POST',
        path: '/similar?k=10',
        headers: { 'content-type': 'image/jpeg' },
        body: jpeg,
      },
    };
    /**
     * Does embedding stall other requests? Recommendations (no model call) at c=2 while
     * /similar PNG runs at c=16 on the same server: their p99 shows how long the event loop waits.
     */
    const blocking: Record<string, unknown>[] = [];
    const mixed = async (base: string) => {
      const [similar, recs] = await Promise.all([
        run('POST /similar png28 (mixed)', base, 16, targets['POST /similar png28']),
        run('GET /items/:id/recommendations (mixed)', base, 2, targets['GET /items/:id/recommendations']),
      ]);
      return {
        similarPerSecond: similar.requestsPerSecond,
        recommendationsLatencyMs: recs.latencyMs,
        errors: similar.errors + similar.non2xx + recs.errors + recs.non2xx,
      };
    };
    try {
      // Warm-up: JIT, sharp's thread pool, tfjs kernels.
      for (const [name, options] of Object.entries(targets)) await run(name, server.base, 8, options, 2);
      runs.push(await run('GET /healthz', server.base, 16, targets['GET /healthz']));
      for (const name of Object.keys(targets).filter((n) => n !== 'GET /healthz')) {
        for (const c of CONCURRENCY) runs.push(await run(name, server.base, c, targets[name]));
      }
      blocking.push({ mode: 'worker thread, micro-batching', ...(await mixed(server.base)) });
    } finally {
      await stopServer(server);
    }

    // The same /similar runs at c=16 with the other ways of running the model, to measure which is best.
    const modes: Record<string, unknown>[] = [];
    if (process.env.BENCH_COMPARE_BATCHING !== '0') {
      const variants: Record<string, Record<string, string>> = {
        'main thread, micro-batching': { EMBED_IN_WORKER: 'false' },
        'worker thread, no batching': { EMBED_BATCH_MAX: '1' },
        'main thread, no batching': { EMBED_IN_WORKER: 'false', EMBED_BATCH_MAX: '1' },
      };
      for (const [mode, extra] of Object.entries(variants)) {
        const variant = await startServer({ ...env, ...extra });
        try {
          const result: Record<string, unknown> = { mode, env: extra };
          for (const name of ['POST /similar png28', 'POST /similar jpeg512']) {
            await run(name, variant.base, 8, targets[name], 2);
            const r = await run(`${name} (${mode})`, variant.base, 16, targets[name]);
            const ref = runs.find((x) => x.target === name && x.concurrency === 16)!;
            result[name] = {
              ...r,
              ratioDefaultToThis: Number((ref.requestsPerSecond / r.requestsPerSecond).toFixed(2)),
            };
          }
          modes.push(result);
          blocking.push({ mode, ...(await mixed(variant.base)) });
        } finally {
          await stopServer(variant);
        }
      }
    }

    const at16 = (target: string) => runs.find((r) => r.target === target && r.concurrency === 16)!;
    const healthz = at16('GET /healthz');
    const rec = at16('GET /items/:id/recommendations');
    const pngRun = at16('POST /similar png28');
    const jpegRun = at16('POST /similar jpeg512');
    const report = {
      bench: 'http',
      machine: { cpus: cpus().length, node: process.version, backend },
      server: {
        ...server.ready,
        fixtureModel,
        modelDir: fixtureModel ? '(untrained fixture, same network)' : modelDir,
      },
      durationSeconds: DURATION,
      runs,
      ratiosToHealthzAtC16: Object.fromEntries(
        [rec, pngRun, jpegRun].map((r) => [
          r.target,
          Number((r.requestsPerSecond / healthz.requestsPerSecond).toFixed(3)),
        ]),
      ),
      embeddingModes: { default: 'worker thread, micro-batching', others: modes },
      recommendationLatencyWhileEmbedding: blocking,
      goalsAtC16: {
        recommendations: {
          goal: `>= ${GOALS.recommendationsPerSecond}/s, p99 < ${GOALS.recommendationsP99Ms} ms`,
          met:
            rec.requestsPerSecond >= GOALS.recommendationsPerSecond &&
            rec.latencyMs.p99 < GOALS.recommendationsP99Ms,
        },
        similarPng: {
          goal: `>= ${GOALS.pngPerSecond}/s`,
          met: pngRun.requestsPerSecond >= GOALS.pngPerSecond,
        },
        similarJpeg: {
          goal: `>= ${GOALS.jpegPerSecond}/s`,
          met: jpegRun.requestsPerSecond >= GOALS.jpegPerSecond,
        },
        zeroErrors: runs.every((r) => r.errors === 0 && r.non2xx === 0 && r.timeouts === 0),
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    if (!process.env.BENCH_DATA_DIR) rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
