/**
 * `npm run restore -- --from FILE --data-dir DIR`: unpacks a backup into a new
 * data directory (refused when DIR is not empty). Start the server with
 * DATA_DIR=DIR afterwards. A PostgreSQL backup is restored into the empty
 * database at DATABASE_URL. Prints the manifest as JSON.
 */
import { parseArgs } from 'node:util';
import { restoreBackup } from '../catalog/backup.ts';
import { loadConfig } from '../config/env.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';

const log = createLogger('restore');

try {
  const { values } = parseArgs({ options: { from: { type: 'string' }, 'data-dir': { type: 'string' } } });
  if (!values.from || !values['data-dir'])
    throw new ValidationError('--from FILE and --data-dir DIR are required');
  const manifest = await restoreBackup(values.from, values['data-dir'], log, loadConfig().DATABASE_URL);
  process.stdout.write(`${JSON.stringify(manifest)}\n`);
} catch (err) {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
}
