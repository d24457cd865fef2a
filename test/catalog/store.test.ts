import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCatalog, type SqliteCatalogStore } from '../../src/catalog/sqliteStore.ts';
import type { NewItem } from '../../src/catalog/store.ts';
import { ConflictError, ValidationError } from '../../src/errors.ts';

let dir: string;
let store: SqliteCatalogStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'catalog-store-'));
  store = openCatalog(join(dir, 'catalog.sqlite'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function item(i: number, category = i % 2 ? 'odd' : 'even'): NewItem {
  return { id: `item-${i}`, title: `Item ${i}`, category, image: new Uint8Array([i & 255, 1, 2]) };
}

describe('SqliteCatalogStore', () => {
  it('upserts idempotently and reports changes', () => {
    const batch = Array.from({ length: 10 }, (_, i) => item(i));
    expect(store.upsertItems(batch)).toEqual({ inserted: 10, updated: 0, unchanged: 0 });
    const before = store.getItem('item-3')!;
    expect(store.upsertItems(batch)).toEqual({ inserted: 0, updated: 0, unchanged: 10 });
    expect(store.getItem('item-3')).toEqual(before);
    expect(store.upsertItems([{ ...item(3), title: 'Renamed' }])).toEqual({
      inserted: 0,
      updated: 1,
      unchanged: 0,
    });
    expect(store.getItem('item-3')!.title).toBe('Renamed');
    expect(store.getItem('item-3')!.label).toBe(before.label);
    expect(store.countItems()).toBe(10);
  });

  it('drops embeddings when an item image changes', () => {
    store.upsertItems([item(1)]);
    const { label } = store.getItem('item-1')!;
    store.putEmbeddings('m1', [{ label, vector: new Float32Array([1, 2]) }]);
    store.upsertItems([{ ...item(1), image: new Uint8Array([9, 9]) }]);
    expect(store.getEmbedding('m1', label)).toBeNull();
    expect(Buffer.from(store.getImage('item-1')!)).toEqual(Buffer.from([9, 9]));
  });

  it('adds with an embedding in one transaction, rolls back when the hook throws, refuses duplicates', () => {
    const added = store.addItem(item(1), {
      embedding: { modelVersion: 'm', vector: new Float32Array([0.5, -1]) },
    });
    expect(store.getEmbedding('m', added.label)).toEqual(new Float32Array([0.5, -1]));
    expect(() => store.addItem(item(1))).toThrow(ConflictError);
    expect(() =>
      store.addItem(item(2), {
        embedding: { modelVersion: 'm', vector: new Float32Array([1, 1]) },
        onCommitting: () => {
          throw new Error('index full');
        },
      }),
    ).toThrow('index full');
    expect(store.getItem('item-2')).toBeNull();
    expect(store.countEmbeddings('m')).toBe(1);
  });

  it('deletes with its image and embeddings; labels are never reused', () => {
    const a = store.addItem(item(1), { embedding: { modelVersion: 'm', vector: new Float32Array([1]) } });
    const seen: number[] = [];
    expect(store.deleteItem('item-1', { onCommitting: (it) => seen.push(it.label) })!.label).toBe(a.label);
    expect(seen).toEqual([a.label]);
    expect(store.deleteItem('item-1')).toBeNull();
    expect(store.getImage('item-1')).toBeNull();
    expect(store.countEmbeddings('m')).toBe(0);
    expect(store.addItem(item(1)).label).toBeGreaterThan(a.label);
  });

  it('paginates with a cursor that stays stable while items are added and deleted', () => {
    store.upsertItems(Array.from({ length: 25 }, (_, i) => item(i)));
    const first = store.listItems({ limit: 10 });
    expect(first.items.map((x) => x.id)).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i}`));
    store.addItem(item(100));
    store.deleteItem('item-0');
    store.deleteItem('item-12');
    const second = store.listItems({ limit: 10, cursor: first.nextCursor });
    expect(second.items.map((x) => x.id)).toEqual(
      [10, 11, 13, 14, 15, 16, 17, 18, 19, 20].map((i) => `item-${i}`),
    );
    const third = store.listItems({ limit: 10, cursor: second.nextCursor });
    expect(third.items.map((x) => x.id)).toEqual(['item-21', 'item-22', 'item-23', 'item-24', 'item-100']);
    expect(third.nextCursor).toBeNull();
    const odd = store.listItems({ category: 'odd', limit: 3 });
    expect(odd.items.map((x) => x.id)).toEqual(['item-1', 'item-3', 'item-5']);
    expect(store.listItems({ category: 'odd', limit: 3, cursor: odd.nextCursor }).items[0].id).toBe('item-7');
    expect(() => store.listItems({ cursor: 'not-a-cursor' })).toThrow(ValidationError);
    expect(() => store.listItems({ limit: 0 })).toThrow(ValidationError);
  });

  it('lists categories, embeddings and missing embeddings', () => {
    store.upsertItems(Array.from({ length: 5 }, (_, i) => item(i)));
    expect(store.categories()).toEqual([
      { category: 'even', count: 3 },
      { category: 'odd', count: 2 },
    ]);
    const labels = [...store.iterateItems()].map((i) => i.label);
    store.putEmbeddings('m', [
      { label: labels[0], vector: new Float32Array([1, 2]) },
      { label: labels[2], vector: new Float32Array([3, 4]) },
    ]);
    expect(store.missingEmbeddings('m', 10).map((p) => p.label)).toEqual([labels[1], labels[3], labels[4]]);
    expect([...store.iterateEmbeddings('m')]).toEqual([
      { label: labels[0], vector: new Float32Array([1, 2]), category: 'even' },
      { label: labels[2], vector: new Float32Array([3, 4]), category: 'even' },
    ]);
  });

  it('records builds and fails the ones left unfinished', () => {
    const a = store.recordBuild('m', '{"M":16}');
    store.updateBuild(a.id, { status: 'active', file: 'index-1.bin', checksum: 'abc', itemCount: 3 });
    const b = store.recordBuild('m');
    store.updateBuild(b.id, { status: 'building' });
    expect(store.latestCompleteBuild('m')!.id).toBe(a.id);
    expect(store.latestCompleteBuild('other')).toBeNull();
    expect(store.failUnfinishedBuilds()).toBe(1);
    const failed = store.getBuild(b.id)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/interrupted/);
    expect(failed.finishedAt).not.toBeNull();
  });
});
