/**
 * `npm run catalog:embed -- --model models/NAME [--db PATH] [--batch-size N]`: computes the embeddings the
 * model's version lacks, with the configured engine (EMBED_ENGINE) on every core. Prints counts as JSON on stdout; progress on stderr.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { embedCatalog } from '../catalog/embedCatalog.ts';
import { openStore } from '../catalog/openStore.ts';
import { defaultDbPath, progressBar } from '../catalog/progress.ts';
import { loadConfig } from '../config/env.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { engineOptions, loadEngine } from '../model/engine.ts';

const log = createLogger('catalog-embed');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/default' },
      db: { type: 'string', default: defaultDbPath() },
      'batch-size': { type: 'string', default: '256' },
    },
  });
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ValidationError('--batch-size must be a positive integer');
  const config = loadConfig();
  const embedder = await loadEngine(values.model!, engineOptions(config, availableParallelism()), log);
  const backend = embedder.engine;
  const store = await openStore(config, { sqlitePath: values.db, log });
  const bar = progressBar('embed');
  const started = performance.now();
  try {
    const r = await embedCatalog({
      store,
      embedder,
      batchSize,
      onProgress: (p) => bar.update(p.done, p.total),
    });
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    const summary = {
      db: store.location,
      modelVersion: embedder.modelVersion,
      backend,
      ...r,
      stored: await store.countEmbeddings(embedder.modelVersion),
      items: await store.countItems(),
      seconds,
      imagesPerSecond: r.embedded / seconds,
    };
    log.info(summary, 'embedding finished');
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    bar.stop();
    await store.close();
    embedder.dispose();
  }
}

main().catch((err) => {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
});
