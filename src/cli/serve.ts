/**
 * `npm start`: validates the environment, then runs one serving process, or
 * with WORKERS > 1 a cluster primary and that many serving processes sharing
 * the port (src/cli/cluster.ts). A serving process listens at once (so
 * /healthz and /readyz answer during a long first start), then prepares the
 * model and index (import + embed + build on the first start, a load
 * afterwards), becomes ready and follows the catalog's change feed.
 * SIGTERM/SIGINT close gracefully: stop accepting, let in-flight requests
 * finish, then close model, index and database.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { type Config, ConfigError, loadConfig, redactConfig } from '../config/env.ts';
import { type ClusterMessage, runPrimary } from './cluster.ts';

async function serve(config: Config): Promise<void> {
  const started = performance.now();
  // Imported here, not above: a cluster primary serves nothing, and the app's modules (Fastify, the
  // image decoder, ONNX Runtime, SQLite) would add their memory to it for nothing.
  const [{ buildApp }, { prepareServing }] = await Promise.all([
    import('../server/app.ts'),
    import('../serving/startup.ts'),
  ]);
  const inCluster = cluster.isWorker;
  const tell = (message: ClusterMessage) => {
    if (inCluster && process.connected) process.send!(message);
  };
  const app = await buildApp(
    config,
    inCluster ? { notifyWrite: () => tell({ type: 'catalog-changed' }) } : {},
  );
  const log = app.log;
  log.info({ config: redactConfig(config), worker: cluster.worker?.id }, 'starting');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out: exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await app.close();
      log.info('closed cleanly');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while closing');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (inCluster) {
    process.on('message', (message: ClusterMessage) => {
      if (message.type === 'catalog-changed') void app.feed.wake();
    });
    // The primary is gone (killed): nobody restarts or balances this process any more.
    process.on('disconnect', () => void shutdown('primary gone'));
  }

  await app.listen({ port: config.PORT, host: config.HOST });
  try {
    const input = await prepareServing({
      config,
      store: app.store,
      items: app.items,
      log,
      onPhase: (phase) => {
        app.serving.phase = phase;
      },
    });
    if (closing) return;
    app.serving.activate(input);
    app.feed.start(input.changeSeq ?? 0);
    log.info(
      {
        worker: cluster.worker?.id,
        embedInWorker: config.EMBED_IN_WORKER,
        engine: input.embedder.engine,
        model: input.embedder.modelVersion,
        items: input.index.size,
        buildId: input.buildId,
        startupSeconds: Math.round((performance.now() - started) / 10) / 100,
        address: `http://${config.HOST}:${config.PORT}`,
      },
      'ready',
    );
    tell({ type: 'ready' });
  } catch (err) {
    if (closing) return;
    log.fatal({ err }, `start-up failed: ${(err as Error).message}`);
    await app.close();
    process.exit(1);
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const workers = config.WORKERS === 0 ? availableParallelism() : config.WORKERS;
  if (workers > 1 && cluster.isPrimary) runPrimary(config, workers);
  else await serve(config);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
