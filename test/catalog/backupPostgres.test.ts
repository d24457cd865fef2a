/**
 * Backup and restore of a PostgreSQL catalog: `pg_dump -Fc` into the backup
 * archive, `pg_restore` into an empty database, the same items afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, restoreBackup } from '../../src/catalog/backup.ts';
import { importFashionMnist } from '../../src/catalog/importFashionMnist.ts';
import { openStore } from '../../src/catalog/openStore.ts';
import { createLogger } from '../../src/log.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';

const log = createLogger('test', 'silent');
let pg: TestPostgres;
let scratch: string;

beforeAll(async () => {
  pg = await startPostgres();
  scratch = mkdtempSync(join(tmpdir(), 'backup-pg-'));
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('backup of a PostgreSQL catalog', () => {
  it('dumps with pg_dump and restores with pg_restore into an empty database', async () => {
    const url = await pg.createDatabase();
    const dataDir = join(scratch, 'data');
    const store = await openStore({ DATABASE_URL: url, DATA_DIR: dataDir });
    const file = join(scratch, 'backup.tar');
    let manifest: Awaited<ReturnType<typeof createBackup>>;
    try {
      await importFashionMnist({ store, split: 'test', limit: 50 });
      manifest = await createBackup({ store, databaseUrl: url, dataDir, out: file, log });
    } finally {
      await store.close();
    }
    expect(manifest).toMatchObject({ catalog: 'postgres', items: 50, build: null });
    expect(Object.keys(manifest.files)).toEqual(['catalog.pgdump']);

    await expect(restoreBackup(file, join(scratch, 'r0'), log)).rejects.toThrow(/DATABASE_URL/);
    const target = await pg.createDatabase();
    await restoreBackup(file, join(scratch, 'restored'), log, target);
    const restored = await openStore({ DATABASE_URL: target, DATA_DIR: join(scratch, 'restored') });
    const original = await openStore({ DATABASE_URL: url, DATA_DIR: dataDir });
    try {
      expect(await restored.countItems()).toBe(50);
      expect(await restored.getItem('fmnist-test-00042')).toEqual(
        await original.getItem('fmnist-test-00042'),
      );
      expect(await restored.latestChangeSeq()).toBe(await original.latestChangeSeq());
      // The restored catalog takes writes: its sequences came along.
      const { inserted } = await restored.upsertItems([
        { id: 'after-restore', title: 'x', category: 'Bag', image: new Uint8Array([1]) },
      ]);
      expect(inserted).toBe(1);
    } finally {
      await restored.close();
      await original.close();
    }
  });
});
