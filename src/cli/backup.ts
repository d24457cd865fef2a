/**
 * `npm run backup -- --out FILE`: a consistent online backup of the catalog
 * (the SQLite file in DATA_DIR, or `pg_dump` of DATABASE_URL), the active
 * index and the model manifest while the server runs. Prints the manifest as JSON.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createBackup } from '../catalog/backup.ts';
import { catalogPath, openStore } from '../catalog/openStore.ts';
import { loadConfig } from '../config/env.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';

const log = createLogger('backup');

try {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (!values.out) throw new ValidationError('--out FILE is required');
  const config = loadConfig();
  if (!config.DATABASE_URL && !existsSync(catalogPath(config.DATA_DIR))) {
    throw new ValidationError(`no catalog at ${catalogPath(config.DATA_DIR)}`, 'NO_CATALOG');
  }
  const store = await openStore(config, { log });
  try {
    const manifest = await createBackup({
      store,
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      out: values.out,
      modelDir: config.MODEL_DIR,
      log,
    });
    process.stdout.write(`${JSON.stringify(manifest)}\n`);
  } finally {
    await store.close();
  }
} catch (err) {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
}
