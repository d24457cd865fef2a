import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAsyncStore } from '../../src/catalog/asyncStore.ts';
import { decodeStoredImage, embedCatalog } from '../../src/catalog/embedCatalog.ts';
import { fashionMnistId, importFashionMnist } from '../../src/catalog/importFashionMnist.ts';
import { importFolder, parseCsv, parseMetadata } from '../../src/catalog/importFolder.ts';
import { openCatalog } from '../../src/catalog/sqliteStore.ts';
import { syntheticAttributes } from '../../src/catalog/syntheticAttributes.ts';
import { CLASS_NAMES, IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { ValidationError } from '../../src/errors.ts';
import { RandomProjectionEmbedder } from '../../src/index/projectionEmbedder.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COUNT = 2000;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'catalog-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectedIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => fashionMnistId('test', i));
}

describe('Fashion-MNIST import', () => {
  it('imports items with ids, titles, categories and PNGs, and a second run changes nothing', async () => {
    const store = openCatalog(join(dir, 'idempotent.sqlite'));
    const first = await importFashionMnist({
      store: new SqliteAsyncStore(store),
      split: 'test',
      limit: COUNT,
      batchSize: 500,
    });
    expect(first).toMatchObject({ inserted: COUNT, updated: 0, unchanged: 0, total: COUNT });
    const test = await loadFashionMnistSplit('test');
    const item = store.getItem('fmnist-test-00042')!;
    const category = CLASS_NAMES[test.labels[42]];
    expect(item).toMatchObject({
      title: `${category} #42`,
      category,
      split: 'test',
      source: 'fashion-mnist',
    });
    const pixels = await decodeStoredImage(store.getImage('fmnist-test-00042')!, item.label);
    const original = test.images.subarray(42 * IMAGE_PIXELS, 43 * IMAGE_PIXELS);
    expect(Array.from(pixels, (p) => Math.round(p * 255))).toEqual(Array.from(original));

    const snapshot = store.listItems({ limit: 1000 }).items;
    const second = await importFashionMnist({
      store: new SqliteAsyncStore(store),
      split: 'test',
      limit: COUNT,
      batchSize: 500,
    });
    expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: COUNT });
    expect(store.listItems({ limit: 1000 }).items).toEqual(snapshot);
    expect(store.countItems()).toBe(COUNT);

    // Embedding: every item gets one vector, and a second pass has nothing to do.
    const embedder = new RandomProjectionEmbedder(16, 1);
    const r = await embedCatalog({ store: new SqliteAsyncStore(store), embedder, batchSize: 300 });
    expect(r.embedded).toBe(COUNT);
    expect(store.countEmbeddings(embedder.modelVersion)).toBe(COUNT);
    const expected = embedder.embedSync(
      Float32Array.from(original, (p) => p / 255),
      1,
    );
    expect(store.getEmbedding(embedder.modelVersion, item.label)).toEqual(expected);
    expect((await embedCatalog({ store: new SqliteAsyncStore(store), embedder })).embedded).toBe(0);
    store.close();
  });

  it('re-imports a catalog whose PNGs sharp wrote as unchanged: pixels are compared, embeddings kept', async () => {
    // Catalogs imported before the JS PNG encoder hold sharp's PNGs (other bytes, the same pixels).
    const store = openCatalog(join(dir, 'sharp-pngs.sqlite'));
    const n = 40;
    const test = await loadFashionMnistSplit('test');
    const items = [];
    for (let i = 0; i < n; i++) {
      const category = CLASS_NAMES[test.labels[i]];
      const image = await sharp(test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), {
        raw: { width: 28, height: 28, channels: 1 },
      })
        .toColourspace('b-w')
        .png({ compressionLevel: 9 })
        .toBuffer();
      items.push({
        id: fashionMnistId('test', i),
        title: `${category} #${i}`,
        category,
        source: 'fashion-mnist',
        split: 'test',
        attributes: syntheticAttributes('test', i, category),
        image,
      });
    }
    expect(store.upsertItems(items)).toMatchObject({ inserted: n });
    const embedder = new RandomProjectionEmbedder(16, 1);
    expect((await embedCatalog({ store: new SqliteAsyncStore(store), embedder })).embedded).toBe(n);
    const before = store.getImage(fashionMnistId('test', 7));
    const r = await importFashionMnist({ store: new SqliteAsyncStore(store), split: 'test', limit: n + 10 });
    expect(r).toMatchObject({ inserted: 10, updated: 0, unchanged: n });
    expect(store.getImage(fashionMnistId('test', 7))).toEqual(before);
    expect(store.countEmbeddings(embedder.modelVersion)).toBe(n);
    // A changed picture is still an update.
    const original = items[3].image;
    const other = await sharp(test.images.subarray(0, IMAGE_PIXELS), {
      raw: { width: 28, height: 28, channels: 1 },
    })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    store.upsertItems([{ ...items[3], image: other }]);
    expect(Buffer.compare(original, other)).not.toBe(0);
    expect(
      await importFashionMnist({ store: new SqliteAsyncStore(store), split: 'test', limit: n }),
    ).toMatchObject({
      updated: 1,
      unchanged: n - 1,
    });
    store.close();
  });

  it('skips an item whose stored image cannot be decoded, embeds the others, and says so', async () => {
    const store = openCatalog(join(dir, 'bad-image.sqlite'));
    await importFashionMnist({ store: new SqliteAsyncStore(store), split: 'test', limit: 5 });
    const good = store.missingEmbeddings('any', 10)[0].image;
    const bad = store.addItem({
      id: 'broken',
      title: 'broken',
      category: CLASS_NAMES[0],
      image: good.subarray(0, 40),
    });
    const after = store.addItem({ id: 'after', title: 'after', category: CLASS_NAMES[0], image: good });
    const embedder = new RandomProjectionEmbedder(16, 1);
    // Batches of 2: the broken item shares a batch with a good one and later batches still run.
    expect(await embedCatalog({ store: new SqliteAsyncStore(store), embedder, batchSize: 2 })).toEqual({
      embedded: 6,
      skipped: 1,
      total: 7,
    });
    expect(store.getEmbedding(embedder.modelVersion, bad.label)).toBeNull();
    expect(store.getEmbedding(embedder.modelVersion, after.label)).not.toBeNull();
    expect(await embedCatalog({ store: new SqliteAsyncStore(store), embedder })).toEqual({
      embedded: 0,
      skipped: 1,
      total: 1,
    });
    store.close();
  });

  it('ends with exactly the right items after a SIGKILL mid-import and a re-run', async () => {
    const db = join(dir, 'killed.sqlite');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/catalog-import.ts',
        ...['--source', 'fashion-mnist', '--split', 'test', '--limit', String(COUNT), '--batch-size', '50'],
        ...['--db', db],
      ],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let batches = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      batches += chunk.toString().split('batch committed').length - 1;
      if (batches >= 3) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');

    const store = openCatalog(db);
    const partial = store.countItems();
    expect(partial).toBeGreaterThanOrEqual(150);
    expect(partial).toBeLessThan(COUNT);
    const r = await importFashionMnist({
      store: new SqliteAsyncStore(store),
      split: 'test',
      limit: COUNT,
      batchSize: 500,
    });
    expect(r.inserted).toBe(COUNT - partial);
    expect(r.updated).toBe(0);
    expect(store.countItems()).toBe(COUNT);
    const ids = [];
    let cursor: string | null = null;
    do {
      const page = store.listItems({ limit: 1000, cursor });
      ids.push(...page.items.map((x) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toEqual(expectedIds(COUNT));
    store.close();
  });
});

describe('folder import', () => {
  it('parses CSV with quotes and JSONL, naming bad lines', () => {
    expect(parseCsv('a,b\n"x, y","say ""hi"""\r\n\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', '2'],
    ]);
    expect(() => parseMetadata('id,title,file\n1,t,f', 'items.csv')).toThrow(/header lacks category/);
    expect(() =>
      parseMetadata('{"id":"a","title":"t","category":"c","file":"f"}\n{bad', 'items.jsonl'),
    ).toThrow(/items.jsonl:2: invalid JSON/);
    expect(() => parseMetadata('', 'items.txt')).toThrow(ValidationError);
  });

  it('imports photos through the one preprocessing, skips unreadable ones, and re-runs idempotently', async () => {
    const shop = join(dir, 'shop');
    mkdirSync(join(shop, 'img'), { recursive: true });
    // A dark garment on a white photo background, as a shop photo would be.
    const photo = (shade: number) =>
      sharp({ create: { width: 120, height: 90, channels: 3, background: '#ffffff' } })
        .composite([
          {
            input: {
              create: { width: 50, height: 60, channels: 3, background: { r: shade, g: shade, b: shade } },
            },
            left: 35,
            top: 15,
          },
        ])
        .jpeg()
        .toBuffer();
    writeFileSync(join(shop, 'img', 'a.jpg'), await photo(20));
    writeFileSync(join(shop, 'img', 'b.jpg'), await photo(90));
    writeFileSync(join(shop, 'img', 'broken.jpg'), Buffer.from('not an image'));
    writeFileSync(
      join(shop, 'items.csv'),
      'id,title,category,file\nsku-1,"Coat, black",Coat,img/a.jpg\nsku-2,Grey coat,Coat,img/b.jpg\nsku-3,Broken,Coat,img/broken.jpg\n',
    );
    const store = openCatalog(join(dir, 'shop.sqlite'));
    const first = await importFolder({
      store: new SqliteAsyncStore(store),
      dir: shop,
      metadata: 'items.csv',
    });
    expect(first).toMatchObject({ inserted: 2, total: 3 });
    expect(first.failed.map((f) => f.id)).toEqual(['sku-3']);
    const item = store.getItem('sku-1')!;
    expect(item).toMatchObject({ title: 'Coat, black', category: 'Coat', source: 'folder' });
    expect(item.originalPath).toBe(join(shop, 'img', 'a.jpg'));
    const meta = await sharp(store.getImage('sku-1')!).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([28, 28, 'png']);
    const second = await importFolder({
      store: new SqliteAsyncStore(store),
      dir: shop,
      metadata: 'items.csv',
    });
    expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: 2 });
    store.close();
  });
});
