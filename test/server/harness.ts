/**
 * Starts the real server the way `npm start` does (buildApp, listen on a free
 * port, prepareServing, activate) on a temporary DATA_DIR holding a small real
 * catalog, and records every response so tests can assert that none was a 5xx.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/catalog/openStore.ts';
import { type Config, loadConfig } from '../../src/config/env.ts';
import { type App, buildApp } from '../../src/server/app.ts';
import { prepareServing } from '../../src/serving/startup.ts';
import { importTestItems, makeFixtureModel } from './fixtures.ts';

export interface TestServer {
  app: App;
  base: string;
  config: Config;
  dir: string;
  statuses: { method: string; path: string; status: number }[];
  request: (path: string, init?: RequestInit) => Promise<Response>;
  close: () => Promise<void>;
}

export interface Prepared {
  dir: string;
  dataDir: string;
  modelDir: string;
  modelsRoot: string;
}

/**
 * A temp directory with `models/fixture` and a catalog of the first `items`
 * test images: `DATA_DIR/catalog.sqlite`, or the PostgreSQL database at `databaseUrl`.
 */
export async function prepareData(items: number, databaseUrl = ''): Promise<Prepared> {
  const dir = mkdtempSync(join(tmpdir(), 'server-test-'));
  const modelsRoot = join(dir, 'models');
  const modelDir = await makeFixtureModel(join(modelsRoot, 'fixture'));
  const dataDir = join(dir, 'data');
  const store = await openStore({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir });
  await importTestItems(store, items);
  await store.close();
  return { dir, dataDir, modelDir, modelsRoot };
}

export async function startServer(
  prepared: Prepared,
  env: Record<string, string>,
  options: { ready?: boolean } = {},
): Promise<TestServer> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: prepared.dataDir,
    MODEL_DIR: prepared.modelDir,
    CATALOG: 'none',
    ...env,
  });
  const app = await buildApp(config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  if (options.ready !== false) {
    const input = await prepareServing({ config, store: app.store, items: app.items, log: app.log });
    app.serving.activate(input);
    app.feed.start(input.changeSeq ?? 0);
  }
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const statuses: TestServer['statuses'] = [];
  return {
    app,
    base,
    config,
    dir: prepared.dir,
    statuses,
    async request(path, init) {
      const res = await fetch(`${base}${path}`, init);
      statuses.push({ method: init?.method ?? 'GET', path, status: res.status });
      return res;
    },
    close: () => app.close(),
  };
}

export function removeData(prepared: Prepared): void {
  rmSync(prepared.dir, { recursive: true, force: true });
}
