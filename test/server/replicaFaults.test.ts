/**
 * Faults of replicas sharing one PostgreSQL catalog (issue 13 item 5):
 * a replica SIGKILLed in the middle of writes loses none it acknowledged
 * (they are in PostgreSQL and on the other replica) and catches up when
 * restarted; PostgreSQL stopped for 10 s under search load: searches keep
 * answering from memory, writes get 503 CATALOG_UNAVAILABLE with the error
 * envelope, and after the restart both replicas hold exactly the catalog
 * (nothing lost, nothing twice).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addItem,
  addVisibleLag,
  auth,
  freshImages,
  type Replica,
  type ReplicaSet,
  similarIds,
  startReplicas,
  until,
} from '../support/replicas.ts';

let set: ReplicaSet;
let db: pg.Pool;

beforeAll(async () => {
  set = await startReplicas(2, 200);
  db = new pg.Pool({ connectionString: set.databaseUrl, max: 2 });
  // Connections die while the server is stopped below: expected.
  db.on('error', () => {});
}, 240_000);

afterAll(async () => {
  await db?.end();
  await set?.stop();
});

async function storedIds(prefix: string): Promise<Set<string>> {
  const r = await db.query<{ id: string }>('SELECT id FROM items WHERE id LIKE $1', [`${prefix}%`]);
  return new Set(r.rows.map((row) => row.id));
}

/** Every item id a replica lists (its resident catalog), through the public API. */
async function listedIds(replica: Replica): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const url = `${replica.base}/items?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = (await (await fetch(url)).json()) as { items: { id: string }[]; next_cursor: string | null };
    ids.push(...page.items.map((i) => i.id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

async function indexSize(replica: Replica): Promise<number> {
  return ((await (await fetch(`${replica.base}/status`)).json()) as { index: { size: number } }).index.size;
}

/** Both replicas serve exactly the items PostgreSQL holds, each once, all of them in the index. */
async function expectInStep(): Promise<void> {
  const stored = (await db.query<{ id: string }>('SELECT id FROM items ORDER BY label')).rows.map(
    (r) => r.id,
  );
  for (const replica of set.replicas) {
    await until(
      async () =>
        JSON.stringify(await listedIds(replica)) === JSON.stringify(stored) &&
        (await indexSize(replica)) === stored.length,
      10_000,
      100,
    );
  }
}

describe('replica faults', () => {
  it('SIGKILL of a replica mid-writes: every acknowledged write is stored and on the other; the killed one catches up', async () => {
    const [a, b] = set.replicas;
    const images = await freshImages(1000, 120);
    const acknowledged: string[] = [];
    let killed = false;
    const writer = (async () => {
      for (let i = 0; i < images.length; i++) {
        try {
          if ((await addItem(a.base, `kill-${i}`, images[i])) === 201) acknowledged.push(`kill-${i}`);
        } catch {
          if (killed) return; // The replica is gone: later writes cannot be acknowledged.
        }
      }
    })();
    await until(async () => acknowledged.length >= 20, 30_000);
    process.kill(-a.child.proc.pid!, 'SIGKILL');
    killed = true;
    await writer;
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);

    const stored = await storedIds('kill-');
    for (const id of acknowledged) expect(stored.has(id)).toBe(true);
    // Everything stored (acknowledged or cut off between commit and answer) is on B, in search.
    for (const id of stored) {
      const png = images[Number(id.slice('kill-'.length))];
      await until(async () => (await similarIds(b.base, png)).includes(id), 5000);
    }

    // Written while A is down, then A restarts on its DATA_DIR and catches up.
    const [whileDown] = await freshImages(1500, 1);
    expect(await addItem(b.base, 'while-a-down', whileDown)).toBe(201);
    await set.start(a);
    for (const id of [...stored, 'while-a-down']) {
      const png = id === 'while-a-down' ? whileDown : images[Number(id.slice('kill-'.length))];
      expect(await similarIds(a.base, png)).toContain(id);
    }
    await expectInStep();
  });

  it('PostgreSQL stopped for 10 s under search load: searches answer 200, writes 503 CATALOG_UNAVAILABLE, then everything catches up', async () => {
    const [a, b] = set.replicas;
    const [query, during, after1, after2] = await freshImages(1600, 4);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        for (const r of set.replicas) {
          const res = await fetch(`${r.base}/items/fmnist-test-00007/recommendations?k=5`);
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const form = new FormData();
          form.append('image', new Blob([new Uint8Array(query)], { type: 'image/png' }), 'q.png');
          const similar = await fetch(`${r.base}/similar?k=5`, { method: 'POST', body: form });
          const body = await similar.text();
          if (similar.status !== 200) failures.push(body);
          statuses.set(similar.status, (statuses.get(similar.status) ?? 0) + 1);
        }
      }
    })();

    await set.pg.pause();
    const stoppedAt = Date.now();
    try {
      const write = await fetch(`${a.base}/items/fmnist-test-00001`, { method: 'DELETE', headers: auth });
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).not.toBeNull();
      expect(await write.json()).toMatchObject({ error: { code: 'CATALOG_UNAVAILABLE' } });
      expect(await addItem(b.base, 'during-outage', during)).toBe(503);
      await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
    } finally {
      await set.pg.resume();
    }
    loading = false;
    await load;
    expect(failures).toEqual([]);
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(20);

    // Reconnected: writes flow both ways again, and nothing written before is lost or doubled.
    await until(async () => (await addItem(a.base, 'after-outage-a', after1)) === 201, 20_000, 500);
    await until(async () => (await similarIds(b.base, after1)).includes('after-outage-a'), 5000);
    expect(await addVisibleLag(b.base, a.base, 'after-outage-b', after2)).toBeLessThan(5000);
    expect(await storedIds('during-outage')).toEqual(new Set());
    await expectInStep();
    const seqs = await db.query<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT seq)::int AS distinct FROM changes',
    );
    expect(seqs.rows[0].n).toBe(seqs.rows[0].distinct);
  });
});
