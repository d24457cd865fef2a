/**
 * `npm run catalog:import -- --source fashion-mnist --split test|train|all [--limit N] [--db PATH]`
 * `npm run catalog:import -- --source folder --dir DIR --metadata items.jsonl|items.csv [--db PATH]`
 * Prints the counts as JSON on stdout; progress on stderr. With DATABASE_URL the PostgreSQL catalog (`--db` ignored).
 */
import { parseArgs } from 'node:util';
import { importFashionMnist, parseSplit } from '../catalog/importFashionMnist.ts';
import { importFolder } from '../catalog/importFolder.ts';
import { openStore } from '../catalog/openStore.ts';
import { defaultDbPath, progressBar } from '../catalog/progress.ts';
import { loadConfig } from '../config/env.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';

const log = createLogger('catalog-import');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string', default: 'fashion-mnist' },
      split: { type: 'string', default: 'all' },
      limit: { type: 'string' },
      dir: { type: 'string' },
      metadata: { type: 'string' },
      db: { type: 'string', default: defaultDbPath() },
      'batch-size': { type: 'string' },
    },
  });
  const batchSize = values['batch-size'] ? positiveInt(values['batch-size'], '--batch-size') : undefined;
  const store = await openStore(loadConfig(), { sqlitePath: values.db, log });
  const bar = progressBar('import');
  const started = performance.now();
  try {
    let result: object;
    if (values.source === 'fashion-mnist') {
      result = await importFashionMnist({
        store,
        split: parseSplit(values.split!),
        limit: values.limit ? positiveInt(values.limit, '--limit') : undefined,
        batchSize,
        onProgress: (p) => bar.update(p.done, p.total),
        // One line per committed batch: lets the kill-mid-import test stop the process at a known point.
        onBatch: (committed) => log.debug({ committed }, 'batch committed'),
      });
    } else if (values.source === 'folder') {
      if (!values.dir || !values.metadata)
        throw new ValidationError('--source folder needs --dir and --metadata');
      const r = await importFolder({
        store,
        dir: values.dir,
        metadata: values.metadata,
        batchSize,
        onProgress: (p) => bar.update(p.done, p.total),
      });
      if (r.failed.length > 0) process.exitCode = 1;
      result = r;
    } else {
      throw new ValidationError(`--source must be fashion-mnist or folder, got '${values.source}'`);
    }
    bar.stop();
    const summary = {
      db: store.location,
      ...result,
      items: await store.countItems(),
      seconds: (performance.now() - started) / 1000,
    };
    log.info(summary, 'import finished');
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    bar.stop();
    await store.close();
  }
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ValidationError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

main().catch((err) => {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
});
