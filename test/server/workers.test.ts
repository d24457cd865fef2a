/**
 * WORKERS=2: two serving processes behind one port (node:cluster), each with
 * its own index, kept in step by the change feed. A write acknowledged by one
 * becomes visible on both; a killed process is replaced and catches up; a
 * write by another process sharing the catalog (no signal at all) is picked up
 * by polling; SIGTERM drains both. How soon is printed, not asserted (the
 * suite shares two cores with trainings); `npm run bench:replicas` measures it.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { catalogPath } from '../../src/catalog/openStore.ts';
import { openCatalog } from '../../src/catalog/sqliteStore.ts';
import { type Prepared, prepareData, removeData } from './harness.ts';
import { freePort, serve, waitReady } from './processes.ts';

const TOKEN = 'workers-token';
/**
 * A replacement process starts in about a second alone, but the full suite runs this file beside
 * trainings on the same two cores; the restart must not be judged by an idle machine's clock.
 */
const RESTART_WAIT_MS = 150_000;
/** How long a write may take to reach every process before the test gives up on it. */
const CONVERGE_WAIT_MS = 30_000;
const auth = { authorization: `Bearer ${TOKEN}` };
let prepared: Prepared;
let server: ReturnType<typeof serve> | undefined;

beforeAll(async () => {
  prepared = await prepareData(300);
});

afterAll(() => {
  // A failed test must not leave the cluster running: the primary and its processes.
  if (server?.proc.exitCode === null) process.kill(-server.proc.pid!, 'SIGKILL');
  if (prepared) removeData(prepared);
});

/** Fresh connections (no keep-alive) so the primary spreads them over the processes. */
async function spread(base: string, path: string, n = 24): Promise<{ status: number; pid: string }[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const res = await fetch(`${base}${path}`, {
          headers: { connection: 'close' },
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        return { status: res.status, pid: res.headers.get('x-served-by') ?? '' };
      } catch {
        return { status: 0, pid: '' };
      }
    }),
  );
}

async function until(check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('WORKERS=2', () => {
  it('keeps every process in step with writes made through any of them, or by another process', {
    timeout: 2 * RESTART_WAIT_MS,
  }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const cluster = serve(
      prepared,
      { PORT: String(port), WORKERS: '2', ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'info' },
      true,
    );
    server = cluster;
    // The processes' own account of what happened, for a failure that does not reproduce alone.
    onTestFailed(() => {
      console.error(cluster.lines.map((line) => JSON.stringify(line)).join('\n'), cluster.stderr.join(''));
    });
    await waitReady(base, cluster);
    // Both processes answer (the second starts once the first is ready).
    await until(async () => {
      const answers = await spread(base, '/readyz');
      return answers.every((a) => a.status === 200) && new Set(answers.map((a) => a.pid)).size === 2;
    }, 60_000);

    const png = Buffer.from(await (await fetch(`${base}/items/fmnist-test-00005/image`)).arrayBuffer());
    const form = new FormData();
    form.append('id', 'added-on-one');
    form.append('title', 'added on one process');
    form.append('category', 'Bag');
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'x.png');
    const added = await fetch(`${base}/items`, { method: 'POST', headers: auth, body: form });
    expect(added.status).toBe(201);
    const visibleAfter = await until(async () => {
      const answers = await spread(base, '/items/added-on-one/recommendations?k=1');
      return answers.every((a) => a.status === 200) && new Set(answers.map((a) => a.pid)).size === 2;
    }, CONVERGE_WAIT_MS);

    expect((await fetch(`${base}/items/added-on-one`, { method: 'DELETE', headers: auth })).status).toBe(204);
    const goneAfter = await until(
      async () => (await spread(base, '/items/added-on-one')).every((a) => a.status === 404),
      CONVERGE_WAIT_MS,
    );

    // A write by a process outside the cluster (no wake-up signal): found by polling.
    const store = openCatalog(catalogPath(prepared.dataDir));
    store.updateItem('fmnist-test-00009', { attributes: { brand: 'Outside' } });
    store.close();
    const polledAfter = await until(async () => {
      const bodies = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const res = await fetch(`${base}/items/fmnist-test-00009`, {
            headers: { connection: 'close' },
            signal: AbortSignal.timeout(5000),
          });
          return ((await res.json()) as { attributes: { brand?: string } }).attributes.brand;
        }),
      );
      return bodies.every((b) => b === 'Outside');
    }, CONVERGE_WAIT_MS);
    console.info(
      `visible on both processes after: add ${visibleAfter} ms, delete ${goneAfter} ms, outside write ${polledAfter} ms`,
    );

    // A killed serving process is replaced; the new one catches up with what it missed.
    const pids = [...new Set((await spread(base, '/readyz')).map((r) => r.pid))];
    process.kill(Number(pids[0]), 'SIGKILL');
    const form2 = new FormData();
    form2.append('id', 'added-while-one-was-down');
    form2.append('title', 'x');
    form2.append('category', 'Bag');
    form2.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'x.png');
    // Retried: the connection may have been handed to the process just killed.
    await until(async () => {
      try {
        const during = await fetch(`${base}/items`, {
          method: 'POST',
          headers: auth,
          body: form2,
          signal: AbortSignal.timeout(5000),
        });
        return during.status === 201 || during.status === 409;
      } catch {
        return false;
      }
    }, 20_000);
    await until(async () => {
      const answers = await spread(base, '/items/added-while-one-was-down/recommendations?k=1');
      const served = new Set(answers.filter((a) => a.status === 200).map((a) => a.pid));
      return served.size === 2 && !served.has(pids[0]);
    }, RESTART_WAIT_MS);

    cluster.proc.kill('SIGTERM');
    expect(await cluster.exit).toBe(0);
  });
});
