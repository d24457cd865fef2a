/**
 * `npm run bench:soak -- --minutes N`: a soak test of the real server
 * (as `npm start` runs it, a child process on a free loopback port) under a
 * bounded mixed load from 127.0.0.1:
 *   - GET /items/:id/recommendations, plain and with a `filter`
 *   - POST /similar with a 28x28 PNG and a 512x512 JPEG product photo (raw
 *     bodies), and a multipart JPEG with a filter
 *   - POST /recommendations with a filter body, GET /items with a filter,
 *     GET /items/:id
 *   - admin writes with ADMIN_TOKEN: POST /items (multipart, attributes),
 *     PATCH /items/:id and DELETE /items/:id of the items the soak added
 *   - one POST /admin/index/rebuild in the middle, followed to its end.
 * `--rate R` requests per second at most (default 60) from `--concurrency C`
 * loops (default 8): at most R x 60 x N requests, and no request starts after
 * the deadline. The server RSS (VmRSS of /proc/PID/status) is sampled every
 * 5 s.
 *
 * Prints one JSON document on stdout (progress on stderr): requests, statuses,
 * errors by status, p50/p99 per minute and per operation, server RSS per
 * minute, the rebuild, and a verdict on the goals: no errors other than
 * deliberate 429/503 (OVERLOADED, rate limits), every minute's p99 within 2x
 * the median minute's, the last minute's RSS within 10 % of the second's.
 *
 * Env: BENCH_DATA_DIR (reuse a prepared data directory; default a temporary
 * one), CATALOG (what the first start imports, default `fashion-mnist-test`,
 * the bundled 10,000 test images), MODEL_DIR (default models/default, else
 * an untrained fixture model), SOAK_RATE_LIMIT (the server's
 * RATE_LIMIT_PER_MINUTE, default 0: the soak measures the service, not its
 * limiter), EMBED_QUEUE_MAX and other server variables pass through.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ServerProcess, startServer, stopServer } from './serverProcess.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
  },
});
const MINUTES = Number(args.minutes);
const RATE = Number(args.rate);
const CONCURRENCY = Number(args.concurrency);
if (
  !(MINUTES > 0 && MINUTES <= 24 * 60) ||
  !(RATE > 0 && RATE <= 5000) ||
  !(CONCURRENCY >= 1 && CONCURRENCY <= 256)
) {
  throw new Error('--minutes 0..1440, --rate 1..5000 and --concurrency 1..256');
}
const TOKEN = randomBytes(18).toString('base64url');
/** Statuses that are refusals by design under load, not failures. */
const DELIBERATE = new Set([429, 503]);

function note(message: string): void {
  process.stderr.write(`[bench:soak] ${message}\n`);
}

/** VmRSS of a process in MB, or null when /proc is not there. */
function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] * 100) / 100;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Sample {
  op: string;
  status: number;
  ms: number;
  minute: number;
  /** A status the operation may legitimately answer (e.g. 404 for an item deleted meanwhile). */
  expected: boolean;
}

async function main(): Promise<void> {
  process.env.LOG_LEVEL = 'warn';
  const { initBackend } = await import('../src/model/backend.ts');
  const { makeFixtureModel, productPhoto } = await import('../test/server/fixtures.ts');
  const scratch = mkdtempSync(join(tmpdir(), 'bench-soak-'));
  let server: ServerProcess | null = null;
  try {
    const dataDir = process.env.BENCH_DATA_DIR ?? join(scratch, 'data');
    let modelDir = process.env.MODEL_DIR ?? 'models/default';
    let fixtureModel = false;
    if (!existsSync(join(modelDir, 'model.json'))) {
      await initBackend(process.env.TFJS_BACKEND || undefined);
      modelDir = await makeFixtureModel(join(scratch, 'models', 'fixture'));
      fixtureModel = true;
    }
    const env = {
      MODEL_DIR: modelDir,
      DATA_DIR: dataDir,
      CATALOG: process.env.CATALOG ?? 'fashion-mnist-test',
      ADMIN_TOKEN: TOKEN,
      RATE_LIMIT_PER_MINUTE: process.env.SOAK_RATE_LIMIT ?? '0',
    };
    note(`starting the server on ${dataDir} (a first start imports, embeds and indexes the catalog)`);
    server = await startServer(env);
    const { base, child } = server;
    note(
      `ready in ${server.startSeconds.toFixed(1)} s: ${server.ready.index_size} items, ${server.ready.model}`,
    );

    // Catalog ids the soak never changes (the first page), and query images made from them.
    const page = (await (await fetch(`${base}/items?limit=1000`)).json()) as { items: { id: string }[] };
    const ids = page.items.map((i) => i.id);
    const png = Buffer.from(await (await fetch(`${base}/items/${ids[7]}/image`)).arrayBuffer());
    const jpeg = await productPhoto(png, 512);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const filterJson = JSON.stringify({ in_stock: true, price: { lt: 120 } });
    const filter = encodeURIComponent(filterJson);
    const added: string[] = [];
    let addedCount = 0;
    const pickId = () => ids[Math.floor(Math.random() * ids.length)];

    type Op = { name: string; weight: number; run: () => Promise<{ status: number; expected?: number[] }> };
    const call = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${base}${path}`, init);
      const body = await res.arrayBuffer();
      return { res, body };
    };
    const form = (bytes: Uint8Array, type: string, fields: Record<string, string> = {}) => {
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) fd.append(k, v);
      fd.append('image', new Blob([bytes], { type }), 'photo');
      return fd;
    };
    const ops: Op[] = [
      {
        name: 'GET recommendations',
        weight: 26,
        run: async () => ({ status: (await call(`/items/${pickId()}/recommendations?k=10`)).res.status }),
      },
      {
        name: 'GET recommendations filtered',
        weight: 10,
        run: async () => ({
          status: (await call(`/items/${pickId()}/recommendations?k=10&filter=${filter}`)).res.status,
        }),
      },
      {
        name: 'POST /similar png',
        weight: 14,
        run: async () => ({
          status: (
            await call('/similar?k=10', {
              method: 'POST',
              headers: { 'content-type': 'image/png' },
              body: png,
            })
          ).res.status,
        }),
      },
      {
        name: 'POST /similar jpeg',
        weight: 10,
        run: async () => ({
          status: (
            await call('/similar?k=10', {
              method: 'POST',
              headers: { 'content-type': 'image/jpeg' },
              body: jpeg,
            })
          ).res.status,
        }),
      },
      {
        name: 'POST /similar multipart jpeg filtered',
        weight: 5,
        run: async () => ({
          status: (
            await call(`/similar?k=5&filter=${filter}`, { method: 'POST', body: form(jpeg, 'image/jpeg') })
          ).res.status,
        }),
      },
      {
        name: 'POST /recommendations filtered',
        weight: 10,
        run: async () => ({
          status: (
            await call('/recommendations', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                positive: [pickId(), pickId()],
                negative: [pickId()],
                k: 10,
                filter: JSON.parse(filterJson),
              }),
            })
          ).res.status,
        }),
      },
      {
        name: 'GET /items filtered',
        weight: 5,
        run: async () => ({ status: (await call(`/items?limit=20&filter=${filter}`)).res.status }),
      },
      {
        name: 'GET /items/:id',
        weight: 8,
        run: async () => ({ status: (await call(`/items/${pickId()}`)).res.status }),
      },
      {
        name: 'POST /items (admin)',
        weight: 4,
        run: async () => {
          const id = `soak-${process.pid}-${++addedCount}`;
          const { res } = await call('/items', {
            method: 'POST',
            headers: auth,
            body: form(png, 'image/png', {
              id,
              title: `Soak item ${addedCount}`,
              category: 'Sneaker',
              attributes: JSON.stringify({ brand: 'Soak', price: 42, in_stock: true }),
            }),
          });
          if (res.status === 201) added.push(id);
          return { status: res.status };
        },
      },
      {
        name: 'PATCH /items/:id (admin)',
        weight: 4,
        run: async () => {
          const id = added[Math.floor(Math.random() * added.length)];
          if (!id) return { status: 0 };
          const { res } = await call(`/items/${id}`, {
            method: 'PATCH',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({
              title: `Soak item ${id} (edited)`,
              attributes: { brand: 'Soak', price: 40 },
            }),
          });
          // A concurrent delete may have taken it.
          return { status: res.status, expected: [404] };
        },
      },
      {
        name: 'DELETE /items/:id (admin)',
        weight: 4,
        run: async () => {
          if (added.length < 5) return { status: 0 };
          const id = added.splice(Math.floor(Math.random() * added.length), 1)[0];
          return { status: (await call(`/items/${id}`, { method: 'DELETE', headers: auth })).res.status };
        },
      },
    ];
    const totalWeight = ops.reduce((s, o) => s + o.weight, 0);
    const pickOp = () => {
      let r = Math.random() * totalWeight;
      for (const op of ops) {
        r -= op.weight;
        if (r < 0) return op;
      }
      return ops[0];
    };

    const samples: Sample[] = [];
    const rss: { minute: number; mb: number }[] = [];
    const durationMs = MINUTES * 60_000;
    const maxRequests = Math.ceil(RATE * 60 * MINUTES);
    const started = performance.now();
    const minuteOf = (t: number) => Math.min(MINUTES - 1, Math.floor((t - started) / 60_000));
    let issued = 0;
    let nextSlot = started;
    const interval = 1000 / RATE;
    const sampler = setInterval(() => {
      const mb = rssMb(child.pid!);
      if (mb !== null) rss.push({ minute: minuteOf(performance.now()), mb });
    }, 5_000);
    const progress = setInterval(() => {
      const done = samples.length;
      const bad = samples.filter((s) => !s.expected && !DELIBERATE.has(s.status)).length;
      note(
        `${((performance.now() - started) / 1000).toFixed(0)} s: ${done} requests, ${bad} errors, RSS ${rssMb(child.pid!)} MB`,
      );
    }, 30_000);

    // The rebuild, started half-way and followed to its end.
    const rebuild: Record<string, unknown> = { requestedAtSeconds: null };
    /** First and last minute the rebuild ran in. */
    let rebuildWindow: [number, number] | null = null;
    const rebuildDone = (async () => {
      await new Promise((r) => setTimeout(r, durationMs / 2));
      const t0 = performance.now();
      rebuild.requestedAtSeconds = Math.round((t0 - started) / 1000);
      const res = await fetch(`${base}/admin/index/rebuild`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{}',
      });
      rebuild.status = res.status;
      const job = (await res.json()) as { id?: number };
      if (res.status !== 202 || job.id === undefined) return;
      rebuild.jobId = job.id;
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const state = (await (await fetch(`${base}/admin/jobs/${job.id}`, { headers: auth })).json()) as {
          status: string;
          error: string | null;
          item_count: number | null;
        };
        if (state.status === 'active' || state.status === 'failed') {
          rebuild.result = state.status;
          rebuild.error = state.error;
          rebuild.items = state.item_count;
          rebuild.seconds = Math.round((performance.now() - t0) / 100) / 10;
          rebuildWindow = [minuteOf(t0), minuteOf(performance.now())];
          return;
        }
        if (performance.now() - t0 > 20 * 60_000) {
          rebuild.result = 'timed out';
          return;
        }
      }
    })();

    const loop = async () => {
      while (issued < maxRequests) {
        const slot = nextSlot;
        nextSlot = Math.max(nextSlot + interval, performance.now());
        if (slot - started >= durationMs) return;
        const wait = slot - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        issued++;
        const op = pickOp();
        const t0 = performance.now();
        let status: number;
        let expected: number[] = [];
        try {
          const out = await op.run();
          status = out.status;
          expected = out.expected ?? [];
        } catch (err) {
          status = -1; // the connection failed
          note(`${op.name}: ${(err as Error).message}`);
        }
        if (status === 0) continue; // nothing to do (no item to edit yet)
        samples.push({
          op: op.name,
          status,
          ms: performance.now() - t0,
          minute: minuteOf(t0),
          expected: (status >= 200 && status < 300) || expected.includes(status),
        });
      }
    };
    note(
      `${MINUTES} min at up to ${RATE} requests/s from ${CONCURRENCY} loops; rebuild at ${MINUTES / 2} min`,
    );
    await Promise.all(Array.from({ length: CONCURRENCY }, loop));
    await rebuildDone;
    clearInterval(sampler);
    clearInterval(progress);
    const finalRss = rssMb(child.pid!);
    // Clean-up: the items the soak added and did not delete.
    for (const id of added) await call(`/items/${id}`, { method: 'DELETE', headers: auth });

    const count = (list: Sample[]) => {
      const out: Record<string, number> = {};
      for (const s of list) out[s.status] = (out[s.status] ?? 0) + 1;
      return out;
    };
    const errors = samples.filter((s) => !s.expected && !DELIBERATE.has(s.status));
    const deliberate = samples.filter((s) => DELIBERATE.has(s.status));
    const minutes = Array.from({ length: MINUTES }, (_, m) => {
      const inMinute = samples.filter((s) => s.minute === m);
      const ms = inMinute.map((s) => s.ms).sort((a, b) => a - b);
      const mb = rss.filter((r) => r.minute === m).map((r) => r.mb);
      return {
        minute: m + 1,
        requests: inMinute.length,
        p50Ms: percentile(ms, 50),
        p99Ms: percentile(ms, 99),
        errors: inMinute.filter((s) => !s.expected && !DELIBERATE.has(s.status)).length,
        deliberate: inMinute.filter((s) => DELIBERATE.has(s.status)).length,
        serverRssMb: mb.length > 0 ? mb[mb.length - 1] : null,
        serverRssMaxMb: mb.length > 0 ? Math.max(...mb) : null,
        rebuilding: rebuildWindow !== null && m >= rebuildWindow[0] && m <= rebuildWindow[1],
      };
    });
    const byOp: Record<string, unknown> = {};
    for (const op of ops) {
      const list = samples.filter((s) => s.op === op.name);
      const ms = list.map((s) => s.ms).sort((a, b) => a - b);
      byOp[op.name] = {
        requests: list.length,
        p50Ms: percentile(ms, 50),
        p99Ms: percentile(ms, 99),
        statuses: count(list),
      };
    }
    const p99s = minutes.map((m) => m.p99Ms).filter((v): v is number => v !== null);
    const p99Median = p99s.length > 0 ? median(p99s) : null;
    const second = minutes[1]?.serverRssMb ?? null;
    const last = minutes[minutes.length - 1]?.serverRssMb ?? null;
    const memoryChange = second !== null && last !== null && MINUTES >= 3 ? (last - second) / second : null;
    const quiet = minutes.filter((m) => !m.rebuilding && m.p99Ms !== null).map((m) => m.p99Ms as number);
    const quietMedian = quiet.length > 0 ? median(quiet) : null;
    const verdict = {
      noErrors: errors.length === 0,
      p99Stable: p99Median === null ? null : p99s.every((p) => p <= 2 * p99Median),
      p99StableOutsideRebuild: quietMedian === null ? null : quiet.every((p) => p <= 2 * quietMedian),
      memoryFlat: memoryChange === null ? null : Math.abs(memoryChange) <= 0.1,
      rebuildActive: rebuild.result === 'active',
    };
    const report = {
      benchmark: 'soak',
      config: {
        minutes: MINUTES,
        maxRequestsPerSecond: RATE,
        concurrency: CONCURRENCY,
        catalog: env.CATALOG,
        modelDir,
        fixtureModel,
        serverRateLimitPerMinute: Number(env.RATE_LIMIT_PER_MINUTE),
        node: process.version,
      },
      server: {
        startSeconds: Math.round(server.startSeconds * 10) / 10,
        ...server.ready,
        finalRssMb: finalRss,
      },
      requests: samples.length,
      requestsPerSecond: Math.round((samples.length / ((performance.now() - started) / 1000)) * 10) / 10,
      statuses: count(samples),
      errorsByStatus: count(errors),
      errorExamples: errors.slice(0, 5).map((e) => `${e.op} → ${e.status}`),
      deliberateByStatus: count(deliberate),
      minutes,
      byOperation: byOp,
      rebuild,
      goals: {
        errors: '0 other than deliberate 429/503',
        p99: "every minute's p99 within 2x the median minute's",
        memory: "last minute's server RSS within 10 % of the second minute's (3 minutes or more)",
      },
      p99MedianMs: p99Median,
      memoryChangeSecondToLast: memoryChange === null ? null : Math.round(memoryChange * 1000) / 1000,
      verdict,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    if (server) await stopServer(server);
    if (!process.env.BENCH_DATA_DIR) rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
