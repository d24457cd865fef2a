// Entry of the embedding worker thread. Worker threads do not inherit the
// main thread's TypeScript loader, so register tsx here, then load the
// TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import('./embedWorker.ts');
