/**
 * The catalog store contract: what every `AsyncCatalogStore` must do, run by
 * `store.contract.test.ts` against SQLite (through its adapter) and a real
 * PostgreSQL alike. A store-specific test belongs here unless it is about the
 * medium itself (file pragmas, SQL migrations, connection loss).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AsyncCatalogStore, EMBEDDING_PAGE_SIZE, ITEM_PAGE_SIZE } from '../../src/catalog/asyncStore.ts';
import type { Change, NewItem } from '../../src/catalog/store.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors.ts';

export interface StoreHarness {
  /** A store on a new, empty catalog. */
  open(): Promise<AsyncCatalogStore>;
  /** A second, independent store (own connections) on the catalog of the last `open()`. */
  openAnother(): Promise<AsyncCatalogStore>;
  /** Called after each test, after the stores are closed. */
  cleanup(): Promise<void>;
}

const WAKE_TIMEOUT_MS = 5000;

export function item(i: number, category = i % 2 ? 'odd' : 'even'): NewItem {
  return { id: `item-${i}`, title: `Item ${i}`, category, image: new Uint8Array([i & 255, 1, 2]) };
}

/** Every element of every page; each page must be non-empty. */
async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) {
    expect(page.length).toBeGreaterThan(0);
    out.push(...page);
  }
  return out;
}

/** Asserts a numbering with no holes: what a follower reading `changesAfter` relies on. */
function expectConsecutive(changes: Change[], from = changes[0]?.seq ?? 1): void {
  expect(changes.map((c) => c.seq)).toEqual(changes.map((_, i) => from + i));
}

export function describeStoreContract(name: string, harness: () => StoreHarness): void {
  describe(`catalog store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: AsyncCatalogStore;
    const others: AsyncCatalogStore[] = [];
    const another = async () => {
      const s = await h.openAnother();
      others.push(s);
      return s;
    };

    beforeEach(async () => {
      h = harness();
      store = await h.open();
    });
    afterEach(async () => {
      for (const s of others.splice(0)) await s.close();
      await store.close();
      await h.cleanup();
    });

    describe('items', () => {
      it('upserts idempotently and reports changes', async () => {
        const batch = Array.from({ length: 10 }, (_, i) => item(i));
        expect(await store.upsertItems(batch)).toEqual({ inserted: 10, updated: 0, unchanged: 0 });
        const before = (await store.getItem('item-3'))!;
        expect(await store.upsertItems(batch)).toEqual({ inserted: 0, updated: 0, unchanged: 10 });
        expect(await store.getItem('item-3')).toEqual(before);
        expect(await store.upsertItems([{ ...item(3), title: 'Renamed' }])).toEqual({
          inserted: 0,
          updated: 1,
          unchanged: 0,
        });
        const renamed = (await store.getItem('item-3'))!;
        expect(renamed.title).toBe('Renamed');
        expect(renamed.label).toBe(before.label);
        expect(renamed.createdAt).toBe(before.createdAt);
        expect(await store.countItems()).toBe(10);
        expect(await store.upsertItems([])).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
      });

      it('upserts a batch that names one id twice as two writes in order', async () => {
        expect(await store.upsertItems([item(1), { ...item(1), title: 'Second' }, item(1)])).toEqual({
          inserted: 1,
          updated: 2,
          unchanged: 0,
        });
        expect((await store.getItem('item-1'))!.title).toBe('Item 1');
        expect(await store.countItems()).toBe(1);
      });

      it('stores attributes as given and compares them regardless of key order', async () => {
        const attributes = { brand: 'Acme', price: 19.5, in_stock: true, sizes: ['S', 'M'], zero: 0 };
        await store.upsertItems([{ ...item(1), attributes }]);
        const stored = (await store.getItem('item-1'))!;
        expect(stored.attributes).toEqual(attributes);
        // Both stores return keys sorted, so that JSON output does not depend on the store.
        expect(Object.keys(stored.attributes)).toEqual(['brand', 'in_stock', 'price', 'sizes', 'zero']);
        const reordered = Object.fromEntries(Object.entries(attributes).reverse());
        expect(await store.upsertItems([{ ...item(1), attributes: reordered }])).toMatchObject({
          unchanged: 1,
        });
        expect(
          await store.upsertItems([{ ...item(1), attributes: { ...attributes, price: 20 } }]),
        ).toMatchObject({
          updated: 1,
        });
        expect((await store.getItem('item-1'))!.attributes.price).toBe(20);
        expect((await store.addItem(item(2))).attributes).toEqual({});
      });

      it('keeps the defaults and fields of an item', async () => {
        const added = await store.addItem({
          id: 'shop-1',
          title: 'Shoe',
          category: 'Sneaker',
          source: 'folder',
          split: null,
          originalPath: 'photos/shoe.jpg',
          image: new Uint8Array([7]),
        });
        expect(added).toMatchObject({
          id: 'shop-1',
          source: 'folder',
          originalPath: 'photos/shoe.jpg',
          split: null,
        });
        expect(added.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(added.updatedAt).toBe(added.createdAt);
        expect(await store.getItemByLabel(added.label)).toEqual(added);
        expect(await store.getItemByLabel(added.label + 1000)).toBeNull();
        expect(await store.getItem('missing')).toBeNull();
        expect(await store.getImage('missing')).toBeNull();
        expect(
          (await store.addItem({ id: 'api-1', title: '', category: 'x', image: new Uint8Array([1]) })).source,
        ).toBe('api');
      });

      it('refuses invalid items with ValidationError', async () => {
        await expect(store.addItem({ ...item(1), id: '' })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.addItem({ ...item(1), id: 'x'.repeat(201) })).rejects.toBeInstanceOf(
          ValidationError,
        );
        await expect(store.upsertItems([item(1), { ...item(2), category: '' }])).rejects.toBeInstanceOf(
          ValidationError,
        );
        expect(await store.countItems()).toBe(0);
      });

      it('drops embeddings when an item image changes', async () => {
        await store.upsertItems([item(1)]);
        const { label } = (await store.getItem('item-1'))!;
        await store.putEmbeddings('m1', [{ label, vector: new Float32Array([1, 2]) }]);
        await store.upsertItems([{ ...item(1), image: new Uint8Array([9, 9]) }]);
        expect(await store.getEmbedding('m1', label)).toBeNull();
        expect(Buffer.from((await store.getImage('item-1'))!)).toEqual(Buffer.from([9, 9]));
      });

      it('adds with an embedding in one transaction, rolls back when the hook throws, refuses duplicates', async () => {
        const seen: string[] = [];
        const added = await store.addItem(item(1), {
          embedding: { modelVersion: 'm', vector: new Float32Array([0.5, -1]) },
          onCommitting: (it) => seen.push(it.id),
        });
        expect(seen).toEqual(['item-1']);
        expect(await store.getEmbedding('m', added.label)).toEqual(new Float32Array([0.5, -1]));
        const duplicate = store.addItem(item(1));
        await expect(duplicate).rejects.toBeInstanceOf(ConflictError);
        await expect(duplicate).rejects.toMatchObject({ code: 'ITEM_EXISTS', status: 409 });
        await expect(
          store.addItem(item(2), {
            embedding: { modelVersion: 'm', vector: new Float32Array([1, 1]) },
            onCommitting: () => {
              throw new Error('index full');
            },
          }),
        ).rejects.toThrow('index full');
        expect(await store.getItem('item-2')).toBeNull();
        expect(await store.countEmbeddings('m')).toBe(1);
      });

      it('deletes with its image and embeddings; labels are never reused', async () => {
        const a = await store.addItem(item(1), {
          embedding: { modelVersion: 'm', vector: new Float32Array([1]) },
        });
        const seen: number[] = [];
        expect((await store.deleteItem('item-1', { onCommitting: (it) => seen.push(it.label) }))!.label).toBe(
          a.label,
        );
        expect(seen).toEqual([a.label]);
        expect(await store.deleteItem('item-1')).toBeNull();
        expect(await store.getImage('item-1')).toBeNull();
        expect(await store.countEmbeddings('m')).toBe(0);
        expect((await store.addItem(item(1))).label).toBeGreaterThan(a.label);
      });

      it('updates title, category and attributes, keeping the image and embeddings', async () => {
        const a = await store.addItem(
          { ...item(1), attributes: { brand: 'Acme', price: 10 } },
          { embedding: { modelVersion: 'm', vector: new Float32Array([3]) } },
        );
        const seen: string[] = [];
        const updated = (await store.updateItem(
          'item-1',
          { category: 'shoes', attributes: { colour: 'red' } },
          { onCommitting: (it) => seen.push(it.category) },
        ))!;
        expect(seen).toEqual(['shoes']);
        expect(updated).toMatchObject({
          label: a.label,
          title: 'Item 1',
          category: 'shoes',
          attributes: { colour: 'red' },
        });
        expect(updated.createdAt).toBe(a.createdAt);
        expect(updated.updatedAt >= a.updatedAt).toBe(true);
        expect(await store.getItem('item-1')).toEqual(updated);
        expect(await store.getEmbedding('m', a.label)).toEqual(new Float32Array([3]));
        expect(Buffer.from((await store.getImage('item-1'))!)).toEqual(Buffer.from(item(1).image));
        expect(await store.updateItem('missing', { title: 'x' })).toBeNull();
        await expect(store.updateItem('item-1', { category: '' })).rejects.toBeInstanceOf(ValidationError);
        await expect(
          store.updateItem(
            'item-1',
            { title: 'never' },
            {
              onCommitting: () => {
                throw new Error('refused');
              },
            },
          ),
        ).rejects.toThrow('refused');
        expect(await store.getItem('item-1')).toEqual(updated);
      });

      it('paginates with a cursor that stays stable while items are added and deleted', async () => {
        await store.upsertItems(Array.from({ length: 25 }, (_, i) => item(i)));
        const first = await store.listItems({ limit: 10 });
        expect(first.items.map((x) => x.id)).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i}`));
        await store.addItem(item(100));
        await store.deleteItem('item-0');
        await store.deleteItem('item-12');
        const second = await store.listItems({ limit: 10, cursor: first.nextCursor });
        expect(second.items.map((x) => x.id)).toEqual(
          [10, 11, 13, 14, 15, 16, 17, 18, 19, 20].map((i) => `item-${i}`),
        );
        const third = await store.listItems({ limit: 10, cursor: second.nextCursor });
        expect(third.items.map((x) => x.id)).toEqual([
          'item-21',
          'item-22',
          'item-23',
          'item-24',
          'item-100',
        ]);
        expect(third.nextCursor).toBeNull();
        const odd = await store.listItems({ category: 'odd', limit: 3 });
        expect(odd.items.map((x) => x.id)).toEqual(['item-1', 'item-3', 'item-5']);
        expect(
          (await store.listItems({ category: 'odd', limit: 3, cursor: odd.nextCursor })).items[0].id,
        ).toBe('item-7');
        expect((await store.listItems()).items).toHaveLength(24);
        await expect(store.listItems({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.listItems({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.listItems({ limit: 1001 })).rejects.toBeInstanceOf(ValidationError);
      });

      it('counts and lists categories in byte order, and maps labels to categories', async () => {
        await store.upsertItems([
          ...Array.from({ length: 5 }, (_, i) => item(i)),
          item(9, 'Zebra'),
          item(8, 'apple'),
        ]);
        expect(await store.categories()).toEqual([
          { category: 'Zebra', count: 1 },
          { category: 'apple', count: 1 },
          { category: 'even', count: 3 },
          { category: 'odd', count: 2 },
        ]);
        expect(await store.countItems()).toBe(7);
        expect(await store.countItems('even')).toBe(3);
        expect(await store.countItems('none')).toBe(0);
        const items = await collect(store.itemPages());
        const categories = await store.labelCategories();
        expect([...categories.entries()].sort(([a], [b]) => a - b)).toEqual(
          items.map((i) => [i.label, i.category]),
        );
      });
    });

    describe('embeddings', () => {
      it('lists embeddings, versions and missing embeddings', async () => {
        await store.upsertItems(Array.from({ length: 5 }, (_, i) => item(i)));
        const labels = (await collect(store.itemPages())).map((i) => i.label);
        await store.putEmbeddings('m', [
          { label: labels[0], vector: new Float32Array([1, 2]) },
          { label: labels[2], vector: new Float32Array([3, 4]) },
        ]);
        await store.putEmbeddings('m2', [{ label: labels[4], vector: new Float32Array([5, 6]) }]);
        expect((await store.missingEmbeddings('m', 10)).map((p) => p.label)).toEqual([
          labels[1],
          labels[3],
          labels[4],
        ]);
        expect((await store.missingEmbeddings('m', 1, labels[1])).map((p) => p.label)).toEqual([labels[3]]);
        expect(Buffer.from((await store.missingEmbeddings('m', 1))[0].image)).toEqual(
          Buffer.from(item(1).image),
        );
        expect(await collect(store.embeddingPages('m'))).toEqual([
          { label: labels[0], vector: new Float32Array([1, 2]), category: 'even' },
          { label: labels[2], vector: new Float32Array([3, 4]), category: 'even' },
        ]);
        expect(await store.countEmbeddings('m')).toBe(2);
        expect(await store.countEmbeddings('none')).toBe(0);
        expect(await store.getEmbedding('m', labels[1])).toBeNull();
        expect(
          (await store.embeddingVersions()).sort((a, b) => (a.modelVersion < b.modelVersion ? -1 : 1)),
        ).toEqual([
          { modelVersion: 'm', count: 2 },
          { modelVersion: 'm2', count: 1 },
        ]);
        // Replacing keeps one row per (model version, label); the last vector of a batch wins.
        await store.putEmbeddings('m', [
          { label: labels[0], vector: new Float32Array([7, 7]) },
          { label: labels[0], vector: new Float32Array([8, 8]) },
        ]);
        expect(await store.getEmbedding('m', labels[0])).toEqual(new Float32Array([8, 8]));
        expect(await store.countEmbeddings('m')).toBe(2);
        await store.putEmbeddings('m', []);
      });

      it('keeps float32 values bit for bit', async () => {
        const { label } = await store.addItem(item(1));
        const v = new Float32Array([Math.PI, -0, 1e-38, 3.4e38, Number.EPSILON, -123.456]);
        await store.putEmbeddings('m', [{ label, vector: v }]);
        expect(Buffer.from((await store.getEmbedding('m', label))!.buffer)).toEqual(Buffer.from(v.buffer));
      });

      it('refuses an embedding of an unknown item and writes nothing', async () => {
        const { label } = await store.addItem(item(1));
        const seq = await store.latestChangeSeq();
        await expect(
          store.putEmbeddings('m', [
            { label, vector: new Float32Array([1]) },
            { label: label + 999, vector: new Float32Array([1]) },
          ]),
        ).rejects.toThrow();
        expect(await store.countEmbeddings('m')).toBe(0);
        expect(await store.latestChangeSeq()).toBe(seq);
      });

      it('iterates items and embeddings across pages', async () => {
        const n = ITEM_PAGE_SIZE + 1;
        const items = Array.from({ length: n }, (_, i) => item(i));
        for (let i = 0; i < n; i += 2000) await store.upsertItems(items.slice(i, i + 2000));
        const all = await collect(store.itemPages());
        expect(all).toHaveLength(n);
        expect(all.every((x, i) => i === 0 || x.label > all[i - 1].label)).toBe(true);
        const m = EMBEDDING_PAGE_SIZE + 1;
        await store.putEmbeddings(
          'm',
          all.slice(0, m).map((x) => ({ label: x.label, vector: new Float32Array([x.label]) })),
        );
        const embeddings = await collect(store.embeddingPages('m'));
        expect(embeddings).toHaveLength(m);
        expect(embeddings.map((e) => e.vector[0])).toEqual(all.slice(0, m).map((x) => x.label));
      });
    });

    describe('index builds', () => {
      it('records builds and fails the ones left unfinished', async () => {
        const a = await store.recordBuild('m', '{"M":16}', 'models/x');
        expect(a).toMatchObject({
          modelVersion: 'm',
          status: 'queued',
          params: '{"M":16}',
          modelDir: 'models/x',
        });
        expect(a.finishedAt).toBeNull();
        await store.updateBuild(a.id, {
          status: 'active',
          file: 'index-1.bin',
          checksum: 'abc',
          itemCount: 3,
        });
        const b = await store.recordBuild('m');
        await store.updateBuild(b.id, { status: 'building' });
        expect((await store.latestCompleteBuild('m'))!.id).toBe(a.id);
        expect(await store.latestCompleteBuild('other')).toBeNull();
        expect(await store.failUnfinishedBuilds()).toBe(1);
        const failed = (await store.getBuild(b.id))!;
        expect(failed.status).toBe('failed');
        expect(failed.error).toMatch(/interrupted/);
        expect(failed.finishedAt).not.toBeNull();
        expect(await store.failUnfinishedBuilds('again')).toBe(0);
      });

      it('updates builds field by field and lists them newest first', async () => {
        const a = await store.recordBuild('m');
        const verifying = await store.updateBuild(a.id, {
          status: 'verifying',
          file: 'f.bin',
          checksum: 'c',
        });
        expect(verifying).toMatchObject({
          status: 'verifying',
          file: 'f.bin',
          checksum: 'c',
          finishedAt: null,
        });
        const params = await store.updateBuild(a.id, { params: '{"M":24}', itemCount: 7 });
        expect(params).toMatchObject({
          status: 'verifying',
          file: 'f.bin',
          params: '{"M":24}',
          itemCount: 7,
        });
        expect((await store.updateBuild(a.id, { finished: true })).finishedAt).not.toBeNull();
        expect(await store.updateBuild(a.id, {})).toEqual(await store.getBuild(a.id));
        await store.updateBuild(a.id, { status: 'active' });
        const b = await store.recordBuild('m2');
        await store.updateBuild(b.id, { status: 'active' });
        expect((await store.completeBuilds()).map((x) => x.id)).toEqual([b.id, a.id]);
        expect((await store.completeBuilds('m')).map((x) => x.id)).toEqual([a.id]);
        expect((await store.listBuilds()).map((x) => x.id)).toEqual([b.id, a.id]);
        expect((await store.listBuilds(1)).map((x) => x.id)).toEqual([b.id]);
        expect(await store.getBuild(b.id + 100)).toBeNull();
        await expect(store.updateBuild(b.id + 100, { status: 'failed' })).rejects.toBeInstanceOf(
          NotFoundError,
        );
        await expect(store.updateBuild(b.id + 100, { status: 'active' })).rejects.toMatchObject({
          code: 'BUILD_NOT_FOUND',
        });
      });
    });

    describe('jobs', () => {
      it('allows one unfinished job of a type and fails the ones left unfinished', async () => {
        const job = await store.createJob('index-rebuild', 'default');
        expect(job).toMatchObject({ type: 'index-rebuild', status: 'queued', model: 'default', progress: 0 });
        expect(job.finishedAt).toBeNull();
        await expect(store.createJob('index-rebuild', 'other')).rejects.toMatchObject({
          code: 'REBUILD_RUNNING',
          status: 409,
        });
        await expect(store.createJob('index-rebuild', 'other')).rejects.toThrow(
          `job ${job.id} is still queued`,
        );
        const embedding = await store.updateJob(job.id, {
          status: 'embedding',
          progress: 0.25,
          modelVersion: 'v1',
        });
        expect(embedding).toMatchObject({
          status: 'embedding',
          progress: 0.25,
          modelVersion: 'v1',
          finishedAt: null,
        });
        const done = await store.updateJob(job.id, {
          status: 'active',
          buildId: 3,
          itemCount: 9,
          progress: 1,
        });
        expect(done).toMatchObject({ status: 'active', buildId: 3, itemCount: 9, modelVersion: 'v1' });
        expect(done.finishedAt).not.toBeNull();
        const next = await store.createJob('index-rebuild', 'default');
        expect(next.id).toBeGreaterThan(job.id);
        expect(await store.latestJob()).toEqual(next);
        expect(await store.getJob(job.id)).toEqual(done);
        expect(await store.getJob(next.id + 100)).toBeNull();
        await expect(store.updateJob(next.id + 100, { progress: 1 })).rejects.toMatchObject({
          code: 'JOB_NOT_FOUND',
        });
        expect(await store.failUnfinishedJobs('process stopped')).toBe(1);
        expect(await store.getJob(next.id)).toMatchObject({ status: 'failed', error: 'process stopped' });
        expect(await store.failUnfinishedJobs('again')).toBe(0);
      });

      it('gives the one unfinished job to exactly one of two concurrent stores', async () => {
        const other = await another();
        const results = await Promise.allSettled([
          store.createJob('index-rebuild', 'a'),
          other.createJob('index-rebuild', 'b'),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(refused.reason).toBeInstanceOf(ConflictError);
        expect(refused.reason.code).toBe('REBUILD_RUNNING');
      });
    });

    describe('change feed', () => {
      it('appends exactly one change per write, in order', async () => {
        expect(await store.latestChangeSeq()).toBe(0);
        expect(await store.changesAfter(0, 10)).toEqual([]);
        await store.upsertItems([item(1), item(2)]);
        const [a, b] = [(await store.getItem('item-1'))!, (await store.getItem('item-2'))!];
        await store.upsertItems([item(1), { ...item(2), title: 'B' }]);
        const c = await store.addItem(item(3), {
          embedding: { modelVersion: 'm', vector: new Float32Array([1]) },
        });
        await store.updateItem('item-1', { title: 'A' });
        await store.putEmbeddings('m', [
          { label: a.label, vector: new Float32Array([1]) },
          { label: b.label, vector: new Float32Array([2]) },
        ]);
        await store.deleteItem('item-3');
        await store.deleteItem('item-3');
        await store.updateItem('missing', { title: 'x' });
        const build = await store.recordBuild('m');
        await store.updateBuild(build.id, { status: 'building' });
        await store.updateBuild(build.id, { status: 'active' });
        const job = await store.createJob('index-rebuild', 'm');
        await store.updateJob(job.id, { status: 'active' });
        const changes = await store.changesAfter(0, 100);
        expect(changes.map(({ kind, label, buildId }) => ({ kind, label, buildId }))).toEqual([
          { kind: 'item', label: a.label, buildId: null },
          { kind: 'item', label: b.label, buildId: null },
          { kind: 'item', label: b.label, buildId: null },
          { kind: 'item', label: c.label, buildId: null },
          { kind: 'item', label: a.label, buildId: null },
          { kind: 'item', label: a.label, buildId: null },
          { kind: 'item', label: b.label, buildId: null },
          { kind: 'delete', label: c.label, buildId: null },
          { kind: 'build', label: null, buildId: build.id },
        ]);
        expectConsecutive(changes, 1);
        expect(await store.latestChangeSeq()).toBe(9);
        expect(await store.changesAfter(3, 2)).toEqual(changes.slice(3, 5));
        expect(await store.changesAfter(9, 10)).toEqual([]);
      });

      it('appends nothing for a failed write, and leaves no hole in the numbers', async () => {
        await store.addItem(item(1));
        const refuse = {
          onCommitting: () => {
            throw new Error('refused');
          },
        };
        await expect(store.addItem(item(2), refuse)).rejects.toThrow('refused');
        await expect(store.addItem(item(1))).rejects.toBeInstanceOf(ConflictError);
        await expect(store.deleteItem('item-1', refuse)).rejects.toThrow('refused');
        await expect(store.updateItem('item-1', { title: 'x' }, refuse)).rejects.toThrow('refused');
        await expect(store.upsertItems([item(5), { ...item(6), id: '' }])).rejects.toBeInstanceOf(
          ValidationError,
        );
        expect(await store.latestChangeSeq()).toBe(1);
        expect(await store.getItem('item-5')).toBeNull();
        await store.addItem(item(2));
        expectConsecutive(await store.changesAfter(0, 10), 1);
        expect(await store.latestChangeSeq()).toBe(2);
      });

      it('numbers concurrent writes of two stores distinctly and in commit order, seen by a follower', async () => {
        const other = await another();
        const follower: Change[] = [];
        let following = true;
        const follow = (async () => {
          while (following) {
            const last = follower.at(-1)?.seq ?? 0;
            const page = await other.changesAfter(last, 1000);
            // A number below one already seen would be a change this follower has skipped for good.
            for (const c of page) expect(c.seq).toBeGreaterThan(follower.at(-1)?.seq ?? 0);
            follower.push(...page);
            await new Promise((r) => setTimeout(r, 1));
          }
        })();
        const writes = Array.from({ length: 40 }, (_, i) => {
          const s = i % 2 ? store : other;
          return i % 4 < 2
            ? s.addItem(item(i))
            : s.upsertItems([item(i), item(i + 1000)]).then(() => s.updateItem(`item-${i}`, { title: 'T' }));
        });
        await Promise.all(writes);
        following = false;
        await follow;
        follower.push(...(await other.changesAfter(follower.at(-1)?.seq ?? 0, 1000)));
        const all = await store.changesAfter(0, 1000);
        expect(all).toHaveLength(20 + 20 * 3);
        expectConsecutive(all, 1);
        expect(follower).toEqual(all);
        const labels = new Set((await collect(store.itemPages())).map((i) => i.label));
        expect(labels.size).toBe(60);
        expect(all.every((c) => labels.has(c.label!))).toBe(true);
      });

      it('gives a duplicate id added by two stores at once to one of them', async () => {
        const other = await another();
        const results = await Promise.allSettled([store.addItem(item(1)), other.addItem(item(1))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(refused.reason).toBeInstanceOf(ConflictError);
        expect(refused.reason.code).toBe('ITEM_EXISTS');
        expect(await store.changesAfter(0, 10)).toHaveLength(1);
      });

      it('wakes a listener when another store commits a change', async () => {
        const other = await another();
        let wake: (seq: number) => void = () => {};
        const wakes: number[] = [];
        const listener = await store.listenForChanges((seq) => {
          wakes.push(seq);
          wake(seq);
        });
        try {
          const woken = new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no wake-up')), WAKE_TIMEOUT_MS);
            wake = (seq) => {
              clearTimeout(timer);
              resolve(seq);
            };
          });
          await other.addItem(item(1));
          const seq = await woken;
          expect(seq).toBe(await other.latestChangeSeq());
        } finally {
          await listener.close();
        }
        const after = wakes.length;
        await other.addItem(item(2));
        await new Promise((r) => setTimeout(r, 300));
        expect(wakes).toHaveLength(after);
      });
    });
  });
}
