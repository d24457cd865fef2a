/** `npm run migrate -- [--db PATH]`: applies pending schema migrations and prints the version as JSON. */
import { parseArgs } from 'node:util';
import { schemaVersion } from '../catalog/migrate.ts';
import { defaultDbPath } from '../catalog/progress.ts';
import { openCatalog } from '../catalog/sqliteStore.ts';
import { createLogger } from '../log.ts';

const log = createLogger('migrate');

try {
  const { values } = parseArgs({ options: { db: { type: 'string', default: defaultDbPath() } } });
  const store = openCatalog(values.db!);
  const version = schemaVersion(store.db);
  store.close();
  process.stdout.write(`${JSON.stringify({ db: store.path, schemaVersion: version })}\n`);
} catch (err) {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
}
