/**
 * Crash safety of the real server process: SIGKILL in the middle of live
 * uploads and deletes, and in the middle of a rebuild. After the restart the
 * catalog and the served index agree (same item set, every item findable by
 * its own image, no duplicates), every acknowledged write is there, and a job
 * cut short is failed with the old index serving.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import { makeFixtureModel } from './fixtures.ts';
import { type Prepared, prepareData, removeData } from './harness.ts';
import { freePort, serve, waitReady } from './processes.ts';

const TOKEN = 'crash-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let prepared: Prepared;

/** A distinct 28x28 garment-like image: a random bright blob on black. */
async function randomImage(seed: number): Promise<Buffer> {
  const rng = createRng(seed);
  const pixels = new Uint8Array(784);
  for (let y = 4; y < 24; y++) for (let x = 6; x < 22; x++) pixels[y * 28 + x] = 60 + Math.floor(rng() * 196);
  return sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toBuffer();
}

async function similarTo(base: string, image: Buffer): Promise<{ id: string; distance: number }[]> {
  const res = await fetch(`${base}/similar?k=3`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array(image),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { id: string; distance: number }[] }).results;
}

beforeAll(async () => {
  prepared = await prepareData(2000);
  await makeFixtureModel(`${prepared.modelsRoot}/other`, 'other', 11);
});

afterAll(() => {
  if (prepared) removeData(prepared);
});

describe('SIGKILL', () => {
  it('during live uploads and deletes: every acknowledged write survives, store and index agree', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' };
    const first = serve(prepared, env);
    await waitReady(base, first);

    const toDelete = Array.from({ length: 40 }, (_, i) => `fmnist-test-${String(100 + i).padStart(5, '0')}`);
    const deletedImages = new Map<string, Buffer>();
    for (const id of toDelete) {
      deletedImages.set(id, Buffer.from(await (await fetch(`${base}/items/${id}/image`)).arrayBuffer()));
    }
    const added = new Map<string, Buffer>();
    const deleted = new Set<string>();
    let killed = false;
    const operation = async (i: number) => {
      try {
        if (i % 2 === 0) {
          const id = `crash-${i}`;
          const image = await randomImage(i + 1);
          const form = new FormData();
          form.append('id', id);
          form.append('title', `crash item ${i}`);
          form.append('category', 'Bag');
          form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'x.png');
          const res = await fetch(`${base}/items`, { method: 'POST', headers: auth, body: form });
          if (res.status === 201) added.set(id, image);
        } else {
          const id = toDelete[(i - 1) / 2];
          const res = await fetch(`${base}/items/${id}`, { method: 'DELETE', headers: auth });
          if (res.status === 204) deleted.add(id);
        }
      } catch {
        // The connection died with the server: not acknowledged.
      }
      if (!killed && added.size + deleted.size >= 30) {
        killed = true;
        first.proc.kill('SIGKILL');
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < 80 && !killed) await operation(next++);
      }),
    );
    expect(await first.exit).toBeNull();
    expect(added.size + deleted.size).toBeGreaterThanOrEqual(30);

    const second = serve(prepared, env);
    await waitReady(base, second);
    const status = (await (await fetch(`${base}/status`)).json()) as {
      catalog: { items: number };
      index: { size: number };
    };
    expect(status.index.size).toBe(status.catalog.items);
    for (const [id, image] of added) {
      expect((await fetch(`${base}/items/${id}`)).status).toBe(200);
      const hits = await similarTo(base, image);
      expect(hits[0]).toMatchObject({ id });
      expect(hits[0].distance).toBeLessThan(1e-4);
    }
    for (const id of deleted) {
      expect((await fetch(`${base}/items/${id}`)).status).toBe(404);
      expect((await similarTo(base, deletedImages.get(id)!)).map((h) => h.id)).not.toContain(id);
    }
    // No duplicates: every listed id once, and as many as the index holds.
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await fetch(`${base}/items?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as { items: { id: string }[]; next_cursor: string | null };
      ids.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(status.index.size);
    second.proc.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  });

  it('during a rebuild: the job is failed with a clear error after the restart, the old model serves', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { PORT: String(port), ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' };
    const first = serve(prepared, env);
    await waitReady(base, first);
    const before = (await (await fetch(`${base}/readyz`)).json()) as { model: string };
    const start = await fetch(`${base}/admin/index/rebuild`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'other' }),
    });
    expect(start.status).toBe(202);
    const job = (await start.json()) as { id: number };
    let seen = 'queued';
    while (seen !== 'active') {
      seen = (
        (await (await fetch(`${base}/admin/jobs/${job.id}`, { headers: auth })).json()) as { status: string }
      ).status;
      if (seen === 'embedding' || seen === 'building' || seen === 'verifying') break;
    }
    expect(seen, 'the rebuild finished before it could be killed').not.toBe('active');
    first.proc.kill('SIGKILL');
    expect(await first.exit).toBeNull();

    const second = serve(prepared, env);
    await waitReady(base, second);
    const after = (await (await fetch(`${base}/admin/jobs/${job.id}`, { headers: auth })).json()) as {
      status: string;
      error: string;
    };
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/interrupted/);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { model: string };
    expect(ready.model).toBe(before.model);
    // The catalog accepts a new rebuild: the interrupted one no longer blocks it.
    const again = await fetch(`${base}/admin/index/rebuild`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(again.status).toBe(202);
    second.proc.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  });
});
