/**
 * Child process of start-up (startup.ts `prepareCatalog`, started with startChildProcess): imports
 * the configured catalog into an empty store and embeds what lacks an embedding, logging as the
 * server does and sending its phases to the parent. It reads the server's configuration from the
 * same environment. Arguments: modelDir modelVersion sqlitePath ('' with DATABASE_URL).
 */
import { openStore } from '../catalog/openStore.ts';
import { loadConfig } from '../config/env.ts';
import { createLogger } from '../log.ts';
import { embedMissing, importInitialCatalog } from './startup.ts';

export type PreparationMessage = { type: 'phase'; phase: string } | { type: 'error'; message: string };

const [modelDir, modelVersion, sqlitePath] = process.argv.slice(2);
const post = (m: PreparationMessage) => process.send!(m);
// A server killed mid-start must not leave this running beside the next start's own child.
process.on('disconnect', () => process.exit(1));
const config = loadConfig();
const log = createLogger('http', config.LOG_LEVEL);
try {
  const store = await openStore(config, { sqlitePath: sqlitePath || undefined });
  try {
    const options = { config, store, log, onPhase: (phase: string) => post({ type: 'phase', phase }) };
    await importInitialCatalog(options);
    await embedMissing(options, modelDir, modelVersion);
  } finally {
    await store.close();
  }
} catch (err) {
  log.error({ err }, 'catalog preparation failed');
  post({ type: 'error', message: (err as Error).message });
  process.exitCode = 1;
}
process.removeAllListeners('disconnect');
process.disconnect();
