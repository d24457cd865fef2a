/**
 * Serving replicas as on several machines, shown on one: real `npm start`
 * processes on their own ports and DATA_DIRs, sharing one throw-away
 * PostgreSQL database (test/support/postgres.ts). Used by the replica and
 * fault tests and by bench/replicas.ts.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { encodeGrayPng28 } from '../../src/data/png.ts';
import { type Prepared, prepareData, removeData } from '../server/harness.ts';
import { type Child, freePort, serve, waitReady } from '../server/processes.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

export const REPLICA_TOKEN = 'replica-token';
export const auth = { authorization: `Bearer ${REPLICA_TOKEN}` };

export interface Replica {
  name: string;
  base: string;
  port: number;
  dataDir: string;
  env: Record<string, string>;
  child: Child;
}

export interface ReplicaSet {
  pg: TestPostgres;
  databaseUrl: string;
  prepared: Prepared;
  replicas: Replica[];
  /** Starts (or restarts, same port and DATA_DIR) a replica and waits until it is ready. */
  start(replica: Replica): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `count` replicas over a catalog of the first `items` test images, started
 * at the same time (one does the first start's embedding and build under the
 * catalog's lock, the others wait and then build their own index files).
 */
export async function startReplicas(
  count: number,
  items: number,
  env: Record<string, string> = {},
): Promise<ReplicaSet> {
  const pg = await startPostgres();
  const databaseUrl = await pg.createDatabase();
  const prepared = await prepareData(items, databaseUrl);
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const name = String.fromCharCode(65 + i);
    replicas.push({
      name,
      port,
      base: `http://127.0.0.1:${port}`,
      dataDir: mkdtempSync(join(prepared.dir, `replica-${name}-`)),
      env: {
        PORT: String(port),
        DATABASE_URL: databaseUrl,
        ADMIN_TOKEN: REPLICA_TOKEN,
        LOG_LEVEL: 'warn',
        // Every request comes from this one address: the per-client limit would throttle the polling.
        RATE_LIMIT_PER_MINUTE: '0',
        ...env,
      },
      child: undefined as unknown as Child,
    });
  }
  const start = async (replica: Replica) => {
    replica.child = serve({ ...prepared, dataDir: replica.dataDir }, replica.env, true);
    await waitReady(replica.base, replica.child);
  };
  const set: ReplicaSet = {
    pg,
    databaseUrl,
    prepared,
    replicas,
    start,
    async stop() {
      for (const r of replicas) {
        if (r.child?.proc.exitCode === null && r.child.proc.signalCode === null) {
          try {
            process.kill(-r.child.proc.pid!, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      await pg.stop();
      removeData(prepared);
    },
  };
  try {
    await Promise.all(replicas.map(start));
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}

/** PNGs of test images the catalog does not hold (from position `first` on), one per new item. */
export async function freshImages(first: number, count: number): Promise<Buffer[]> {
  const set = await loadFashionMnistSplit('test');
  return Array.from({ length: count }, (_, i) =>
    encodeGrayPng28(set.images.subarray((first + i) * IMAGE_PIXELS, (first + i + 1) * IMAGE_PIXELS)),
  );
}

function imageForm(png: Uint8Array, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'x.png');
  return form;
}

/** POST /items on `base`; resolves with the status (201 when acknowledged). */
export async function addItem(base: string, id: string, png: Uint8Array): Promise<number> {
  const res = await fetch(`${base}/items`, {
    method: 'POST',
    headers: auth,
    body: imageForm(png, { id, title: `replica item ${id}`, category: 'Bag' }),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The ids /similar on `base` answers for `png`, nearest first. */
export async function similarIds(base: string, png: Uint8Array, k = 5): Promise<string[]> {
  const res = await fetch(`${base}/similar?k=${k}`, {
    method: 'POST',
    body: imageForm(png),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`/similar answered ${res.status}`);
  return ((await res.json()) as { results: { id: string }[] }).results.map((r) => r.id);
}

/** Polls `check` every `everyMs` until it holds; resolves with the milliseconds it took, rejects after `ms`. */
export async function until(check: () => Promise<boolean>, ms: number, everyMs = 10): Promise<number> {
  const started = performance.now();
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      // Not answering yet: try again.
    }
    if (ok) return performance.now() - started;
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Milliseconds from an acknowledged add through `writer` until /similar on `reader` finds the item. */
export async function addVisibleLag(
  writer: string,
  reader: string,
  id: string,
  png: Uint8Array,
  timeoutMs = 10_000,
): Promise<number> {
  const status = await addItem(writer, id, png);
  if (status !== 201) throw new Error(`POST /items answered ${status}`);
  return until(async () => (await similarIds(reader, png)).includes(id), timeoutMs, 5);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
