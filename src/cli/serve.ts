/**
 * `npm start`: validates the environment, listens at once (so /healthz and
 * /readyz answer during a long first start), then prepares the model and
 * index (import + embed + build on the first start, a load afterwards) and
 * becomes ready. SIGTERM/SIGINT close gracefully: stop accepting, let
 * in-flight requests finish, then close model, index and database.
 */
import { ConfigError, loadConfig, redactConfig } from '../config/env.ts';
import { buildApp } from '../server/app.ts';
import { prepareServing } from '../serving/startup.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const started = performance.now();
  const app = await buildApp(config);
  const log = app.log;
  log.info({ config: redactConfig(config) }, 'starting');

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
    log.info(
      {
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
  } catch (err) {
    if (closing) return;
    log.fatal({ err }, `start-up failed: ${(err as Error).message}`);
    await app.close();
    process.exit(1);
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
