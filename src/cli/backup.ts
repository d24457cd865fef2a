/**
 * `npm run backup -- --out FILE`: a consistent online backup of DATA_DIR
 * (catalog, active index, model manifest) while the server runs. Prints the
 * manifest as JSON.
 */
import { parseArgs } from 'node:util';
import { createBackup } from '../catalog/backup.ts';
import { loadConfig } from '../config/env.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';

const log = createLogger('backup');

try {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (!values.out) throw new ValidationError('--out FILE is required');
  const config = loadConfig();
  const manifest = await createBackup({
    dataDir: config.DATA_DIR,
    out: values.out,
    modelDir: config.MODEL_DIR,
    log,
  });
  process.stdout.write(`${JSON.stringify(manifest)}\n`);
} catch (err) {
  log.fatal({ err }, (err as Error).message);
  process.exitCode = 1;
}
