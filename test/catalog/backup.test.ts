/**
 * Online backup while the real server serves and writes, restored into a
 * fresh data directory: the restored server answers the same queries with
 * the same results, and holds a consistent copy of the catalog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAsyncStore } from '../../src/catalog/asyncStore.ts';
import { createBackup, restoreBackup } from '../../src/catalog/backup.ts';
import { log } from '../../src/log.ts';
import { type Prepared, prepareData, removeData, startServer, type TestServer } from '../server/harness.ts';

const TOKEN = 'backup-token';
let prepared: Prepared;
let live: TestServer;
let scratch: string;

beforeAll(async () => {
  prepared = await prepareData(500);
  live = await startServer(prepared, { ADMIN_TOKEN: TOKEN });
  scratch = mkdtempSync(join(tmpdir(), 'backup-test-'));
});

afterAll(async () => {
  await live?.close();
  if (prepared) removeData(prepared);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function recommendations(server: TestServer, id: string): Promise<unknown> {
  const res = await server.request(`/items/${id}/recommendations?k=5&category=Dress,Coat,Sneaker`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: unknown }).results;
}

describe('backup and restore', () => {
  it('copies a consistent catalog and the active index while the server writes; a restored server answers alike', async () => {
    const png = Buffer.from((await live.app.store.getImage('fmnist-test-00001'))!);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        const form = new FormData();
        form.append('title', `during backup ${written}`);
        form.append('category', 'Bag');
        form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'x.png');
        const res = await live.request('/items', {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: form,
        });
        expect(res.status).toBe(201);
        written++;
      }
    })();
    const file = join(scratch, 'backup.tar');
    await new Promise((r) => setTimeout(r, 50));
    const manifest = await createBackup({
      store: live.app.store,
      dataDir: prepared.dataDir,
      out: file,
      modelDir: prepared.modelDir,
      log,
    });
    writing = false;
    await writer;
    expect(written).toBeGreaterThan(0);
    expect(manifest.build).not.toBeNull();
    expect(Object.keys(manifest.files)).toEqual(
      expect.arrayContaining(['catalog.sqlite', `index/index-${manifest.build!.id}.bin`]),
    );
    expect(manifest.items).toBeGreaterThanOrEqual(500);
    expect(manifest.model).toMatchObject({ metadata: { name: 'fixture' } });

    const restoredDir = join(scratch, 'restored');
    await restoreBackup(file, restoredDir, log);
    await expect(restoreBackup(file, restoredDir, log)).rejects.toThrow(/not empty/);
    const restored = await startServer({ ...prepared, dataDir: restoredDir }, {});
    try {
      const store = restored.app.store;
      if (!(store instanceof SqliteAsyncStore)) throw new Error('expected the SQLite catalog');
      expect(store.sync.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(await store.countItems()).toBe(manifest.items);
      // Every restored item is the live one (the copy is a point in time of the same catalog).
      for (const item of (await store.listItems({ limit: 1000 })).items) {
        expect(await live.app.store.getItem(item.id)).toEqual(item);
      }
      for (const id of ['fmnist-test-00003', 'fmnist-test-00042', 'fmnist-test-00400']) {
        expect(await recommendations(restored, id)).toEqual(await recommendations(live, id));
      }
    } finally {
      await restored.close();
    }
  });

  it('refuses a file that is not a backup, and a corrupt one', async () => {
    const file = join(scratch, 'good.tar');
    await createBackup({ store: live.app.store, dataDir: prepared.dataDir, out: file, log });
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bytes = readFileSync(file);
    // Inside the catalog's entry (the manifest comes first and is under 1.5 KB).
    bytes[4096] ^= 0xff;
    writeFileSync(join(scratch, 'bad.tar'), bytes);
    await expect(restoreBackup(join(scratch, 'bad.tar'), join(scratch, 'r1'), log)).rejects.toThrow(
      /corrupt|not a backup/,
    );
    writeFileSync(join(scratch, 'junk.tar'), Buffer.alloc(2048));
    await expect(restoreBackup(join(scratch, 'junk.tar'), join(scratch, 'r2'), log)).rejects.toThrow(
      /not a backup/,
    );
  });
});
