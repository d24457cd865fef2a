import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAsyncStore } from '../../src/catalog/asyncStore.ts';
import { importFashionMnist } from '../../src/catalog/importFashionMnist.ts';
import { openCatalog, type SqliteCatalogStore } from '../../src/catalog/sqliteStore.ts';
import { buildIndex, indexDir, readManifest } from '../../src/index/buildIndex.ts';
import { sha256File } from '../../src/index/files.ts';
import { loadNewestGoodIndex } from '../../src/index/loadIndex.ts';
import { RandomProjectionEmbedder } from '../../src/index/projectionEmbedder.ts';
import { rebuildIndex } from '../../src/index/rebuild.ts';
import type { Embedder } from '../../src/model/embedder.contract.ts';
import { PLAIN_HEAD } from '../../src/model/embeddingHead.ts';

const ITEMS = 400;
const PARAMS = { M: 12, efConstruction: 64, efSearch: 32 };
let template: string;
let dataDir: string;
let store: SqliteCatalogStore;
/** The same catalog behind the interface the index code takes. */
let astore: SqliteAsyncStore;
const oldModel = new RandomProjectionEmbedder(64, 1);

/** One imported + embedded catalog, copied for each test (import costs a few seconds). */
beforeAll(async () => {
  template = mkdtempSync(join(tmpdir(), 'index-build-template-'));
  const s = openCatalog(join(template, 'catalog.sqlite'));
  await importFashionMnist({ store: new SqliteAsyncStore(s), split: 'test', limit: ITEMS });
  const { embedCatalog } = await import('../../src/catalog/embedCatalog.ts');
  await embedCatalog({ store: new SqliteAsyncStore(s), embedder: oldModel });
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  s.close();
  return () => rmSync(template, { recursive: true, force: true });
});

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'index-build-'));
  writeFileSync(join(dataDir, 'catalog.sqlite'), readFileSync(join(template, 'catalog.sqlite')));
  store = openCatalog(join(dataDir, 'catalog.sqlite'));
  astore = new SqliteAsyncStore(store);
});
afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const build = () =>
  buildIndex({ store: astore, dataDir, modelVersion: oldModel.modelVersion, params: PARAMS });

describe('buildIndex', () => {
  it('writes the index and its manifest, verifies them and records the build as active', async () => {
    const phases = new Set<string>();
    const {
      index,
      manifest,
      build: b,
    } = await buildIndex({
      store: astore,
      dataDir,
      modelVersion: oldModel.modelVersion,
      params: PARAMS,
      sliceMs: 1,
      onProgress: (p) => phases.add(p.phase),
    });
    expect([...phases]).toEqual(['building', 'verifying']);
    expect(b).toMatchObject({ status: 'active', itemCount: ITEMS, file: `index-${b.id}.bin`, error: null });
    expect(b.finishedAt).not.toBeNull();
    expect(manifest).toMatchObject({
      buildId: b.id,
      modelVersion: oldModel.modelVersion,
      itemCount: ITEMS,
      dim: 64,
    });
    expect(manifest.params).toMatchObject(PARAMS);
    expect(readManifest(dataDir, b.id)).toEqual(manifest);
    expect(sha256File(join(indexDir(dataDir), manifest.file))).toBe(manifest.sha256);
    expect(b.checksum).toBe(manifest.sha256);
    expect(readdirSync(indexDir(dataDir)).sort()).toEqual([`index-${b.id}.bin`, `index-${b.id}.json`]);
    expect(index.size).toBe(ITEMS);
    const item = store.getItem('fmnist-test-00007')!;
    const v = store.getEmbedding(oldModel.modelVersion, item.label)!;
    expect(index.search(v, 1)[0]).toEqual({ label: item.label, distance: 0 });
    expect(
      index
        .search(v, 5, { categories: [item.category] })
        .every((h) => store.getItemByLabel(h.label)!.category === item.category),
    ).toBe(true);
  });

  it('records a failed build with the error when there is nothing to build', async () => {
    await expect(buildIndex({ store: astore, dataDir, modelVersion: 'no-such-model' })).rejects.toThrow(
      /no embeddings/,
    );
    const [b] = store.listBuilds(1);
    expect(b).toMatchObject({ status: 'failed', modelVersion: 'no-such-model' });
    expect(b.error).toMatch(/no embeddings/);
  });
});

describe('loadNewestGoodIndex', () => {
  it('loads the newest good build', async () => {
    await build();
    const newest = await build();
    const loaded = (await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion, { efSearch: 77 }))!;
    expect(loaded.build.id).toBe(newest.build.id);
    expect(loaded.index.efSearch).toBe(77);
    expect(loaded.index.size).toBe(ITEMS);
    expect(loaded.refused).toEqual([]);
    expect(await loadNewestGoodIndex(dataDir, astore, 'other-model')).toBeNull();
  });

  it('refuses a corrupted file, marks that build failed and serves the previous good one', async () => {
    const good = await build();
    const bad = await build();
    const path = join(indexDir(dataDir), bad.manifest.file);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(path, bytes);
    const loaded = (await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion))!;
    expect(loaded.build.id).toBe(good.build.id);
    expect(loaded.refused).toHaveLength(1);
    expect(loaded.refused[0]).toMatchObject({ buildId: bad.build.id });
    expect(loaded.refused[0].error).toMatch(/corrupt: sha256/);
    expect(store.getBuild(bad.build.id)).toMatchObject({ status: 'failed' });
    expect(loaded.index.size).toBe(ITEMS);
  });

  it('refuses a truncated file and a missing manifest too', async () => {
    const good = await build();
    const truncated = await build();
    const noManifest = await build();
    const tPath = join(indexDir(dataDir), truncated.manifest.file);
    writeFileSync(tPath, readFileSync(tPath).subarray(0, 1000));
    rmSync(join(indexDir(dataDir), `index-${noManifest.build.id}.json`));
    const loaded = (await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion))!;
    expect(loaded.build.id).toBe(good.build.id);
    expect(loaded.refused.map((r) => r.buildId)).toEqual([noManifest.build.id, truncated.build.id]);
  });

  it('marks builds left unfinished by a killed process as failed', async () => {
    const good = await build();
    const killed = store.recordBuild(oldModel.modelVersion);
    store.updateBuild(killed.id, { status: 'building' });
    writeFileSync(join(indexDir(dataDir), `index-${killed.id}.bin.tmp-99999`), 'half a file');
    const loaded = (await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion))!;
    expect(loaded.build.id).toBe(good.build.id);
    expect(store.getBuild(killed.id)).toMatchObject({ status: 'failed' });
  });

  it('reconciles with SQLite: items added or deleted after the build (then a kill) are served correctly', async () => {
    await build();
    const gone = store.getItem('fmnist-test-00003')!;
    store.deleteItem(gone.id);
    const v = new Float32Array(64).fill(0.25);
    const added = store.addItem(
      { id: 'api-new', title: 'New', category: 'Bag', image: new Uint8Array([1]) },
      { embedding: { modelVersion: oldModel.modelVersion, vector: v } },
    );
    const loaded = (await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion))!;
    expect(loaded.reconcile).toEqual({ added: 1, removed: 1, unembedded: 0 });
    expect(loaded.index.size).toBe(store.countItems());
    expect(loaded.index.has(gone.label)).toBe(false);
    expect(loaded.index.search(v, 1)[0]).toEqual({ label: added.label, distance: 0 });
    expect(loaded.index.search(v, 1, { categories: ['Bag'] })[0].label).toBe(added.label);
  });
});

describe('live add and delete', () => {
  it('are visible in search at once and stay consistent when the index step fails', async () => {
    const { index } = await build();
    const v = new Float32Array(64).fill(-0.5);
    const item = store.addItem(
      { id: 'live-1', title: 'Live', category: 'Coat', image: new Uint8Array([1]) },
      {
        embedding: { modelVersion: oldModel.modelVersion, vector: v },
        onCommitting: (it) => index.add(it.label, v, it.category),
      },
    );
    expect(index.search(v, 1)[0].label).toBe(item.label);
    expect(index.search(v, 1, { categories: ['Coat'] })[0].label).toBe(item.label);

    store.deleteItem('live-1', { onCommitting: (it) => index.remove(it.label) });
    expect(index.search(v, 10).map((h) => h.label)).not.toContain(item.label);
    expect(index.size).toBe(store.countItems());

    // The index rejects the vector: the SQLite row is rolled back with it.
    expect(() =>
      store.addItem(
        { id: 'live-2', title: 'Bad', category: 'Coat', image: new Uint8Array([1]) },
        { onCommitting: (it) => index.add(it.label, new Float32Array(3), it.category) },
      ),
    ).toThrow(/expects 64/);
    expect(store.getItem('live-2')).toBeNull();
    expect(index.size).toBe(store.countItems());
  });
});

describe('rebuildIndex', () => {
  it('re-embeds with a new model, builds, catches up with writes made meanwhile, and commits', async () => {
    const newModel = new RandomProjectionEmbedder(64, 2);
    const phases: string[] = [];
    let committed = false;
    let addedDuringBuild: number | null = null;
    const result = await rebuildIndex({
      store: astore,
      dataDir,
      embedder: oldModel,
      modelDir: 'models/next',
      loadEmbedder: async () => newModel,
      params: PARAMS,
      onProgress: (p) => {
        if (phases.at(-1) !== p.phase) phases.push(p.phase);
        // A live add served by the old model while the new index is being built.
        if (p.phase === 'building' && addedDuringBuild === null) {
          const png = store.getImage('fmnist-test-00001')!;
          addedDuringBuild = store.addItem(
            { id: 'during-rebuild', title: 'x', category: 'Bag', image: png },
            { embedding: { modelVersion: oldModel.modelVersion, vector: new Float32Array(64) } },
          ).label;
        }
      },
      commit: (r) => {
        committed = true;
        expect(r.index.has(addedDuringBuild!)).toBe(true);
      },
    });
    expect(phases).toEqual(['embedding', 'building', 'verifying']);
    expect(committed).toBe(true);
    expect(result.embedder).toBe(newModel);
    expect(result.manifest.modelVersion).toBe(newModel.modelVersion);
    expect(store.countEmbeddings(newModel.modelVersion)).toBe(ITEMS + 1);
    expect(result.index.size).toBe(store.countItems());
    expect(result.catchUp.added).toBe(1);
    expect(store.getBuild(result.buildId)).toMatchObject({
      status: 'active',
      modelVersion: newModel.modelVersion,
    });
    // The old model's embeddings stay beside the new ones.
    expect(store.countEmbeddings(oldModel.modelVersion)).toBe(ITEMS + 1);
  });

  it('leaves the previous build serving and records the failure when the new model breaks', async () => {
    const previous = await build();
    const broken: Embedder = {
      modelVersion: 'broken@1',
      dim: 64,
      head: PLAIN_HEAD,
      embed: async () => {
        throw new Error('out of memory');
      },
      dispose: () => {},
    };
    await expect(
      rebuildIndex({
        store: astore,
        dataDir,
        embedder: oldModel,
        modelDir: 'x',
        loadEmbedder: async () => broken,
      }),
    ).rejects.toThrow('out of memory');
    const [failed] = store.listBuilds(1);
    expect(failed).toMatchObject({ status: 'failed', modelVersion: 'broken@1', error: 'out of memory' });
    expect(store.latestCompleteBuild()!.id).toBe(previous.build.id);
    expect((await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion))!.build.id).toBe(
      previous.build.id,
    );
  });

  it('killed half-way (SIGKILL), leaves the old index serving and the build recorded as failed', async () => {
    const previous = await build();
    const src = (p: string) => fileURLToPath(new URL(`../../src/${p}`, import.meta.url));
    // A separate process rebuilding with another model, killed while it builds the graph.
    const script = `
      import { SqliteAsyncStore } from '${src('catalog/asyncStore.ts')}';
      import { openCatalog } from '${src('catalog/sqliteStore.ts')}';
      import { RandomProjectionEmbedder } from '${src('index/projectionEmbedder.ts')}';
      import { rebuildIndex } from '${src('index/rebuild.ts')}';
      const store = new SqliteAsyncStore(openCatalog(${JSON.stringify(join(dataDir, 'catalog.sqlite'))}));
      await rebuildIndex({
        store, dataDir: ${JSON.stringify(dataDir)}, embedder: new RandomProjectionEmbedder(64, 1),
        modelDir: 'next', loadEmbedder: async () => new RandomProjectionEmbedder(64, 3),
        onProgress: (p) => { if (p.phase === 'building') { console.log('BUILDING'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000); } },
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_c, signal) => resolve(signal)),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('BUILDING')) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');
    const [killed] = store.listBuilds(1);
    expect(killed).toMatchObject({ status: 'building', modelVersion: 'random-projection-64@seed3' });

    const loaded = (await loadNewestGoodIndex(dataDir, astore, oldModel.modelVersion))!;
    expect(loaded.build.id).toBe(previous.build.id);
    expect(loaded.index.size).toBe(store.countItems());
    expect(store.getBuild(killed.id)).toMatchObject({ status: 'failed' });
    expect(store.latestCompleteBuild()!.id).toBe(previous.build.id);
  });

  it('keeps only the newest index files', async () => {
    const a = await build();
    await rebuildIndex({ store: astore, dataDir, embedder: oldModel, params: PARAMS });
    const c = await rebuildIndex({ store: astore, dataDir, embedder: oldModel, params: PARAMS });
    expect(existsSync(join(indexDir(dataDir), a.manifest.file))).toBe(false);
    expect(existsSync(join(indexDir(dataDir), c.manifest.file))).toBe(true);
    expect(readdirSync(indexDir(dataDir))).toHaveLength(4);
  });
});
