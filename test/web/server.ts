/**
 * The real server with the web page, started as test/server/harness.ts's startServer does (buildApp,
 * listen on a free port, prepareServing, activate), with the page's routes registered when the app does
 * not register them itself.
 */
import { loadConfig } from '../../src/config/env.ts';
import { type App, buildApp } from '../../src/server/app.ts';
import { webRoutes } from '../../src/server/routes/web.ts';
import { prepareServing } from '../../src/serving/startup.ts';
import type { Prepared } from '../server/harness.ts';

export interface WebServer {
  app: App;
  base: string;
  close: () => Promise<void>;
}

export async function startWithPage(prepared: Prepared, env: Record<string, string>): Promise<WebServer> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: prepared.dataDir,
    MODEL_DIR: prepared.modelDir,
    CATALOG: 'none',
    ...env,
  });
  const app = await buildApp(config);
  if (!app.hasRoute({ method: 'GET', url: '/' })) await app.register(webRoutes);
  await app.listen({ port: 0, host: '127.0.0.1' });
  app.serving.activate(await prepareServing({ config, store: app.store, items: app.items, log: app.log }));
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return { app, base, close: () => app.close() };
}
