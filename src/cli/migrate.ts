/**
 * `npm run migrate -- [--db PATH]`: applies pending schema migrations of the
 * configured catalog (DATABASE_URL, else the SQLite file) and prints the
 * version as JSON.
 */
import { parseArgs } from 'node:util';
import { openStore } from '../catalog/openStore.ts';
import { defaultDbPath } from '../catalog/progress.ts';
import { loadConfig } from '../config/env.ts';
import { createLogger } from '../log.ts';

const log = createLogger('migrate');

try {
  const { values } = parseArgs({ options: { db: { type: 'string', default: defaultDbPath() } } });
  const store = await openStore(loadConfig(), { sqlitePath: values.db, log });
  try {
    const version = await store.schemaVersion();
    process.stdout.write(`${JSON.stringify({ db: store.location, schemaVersion: version })}\n`);
  } finally {
    await store.close();
  }
} catch (err) {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
}
