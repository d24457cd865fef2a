// Entry of every worker thread started by startWorker.ts. A worker does not get the loader that runs
// its parent's TypeScript (vitest transforms modules in-process; plain node has none), so this plain
// JavaScript file registers tsx, then imports the TypeScript module named by workerData.__module (a
// file URL string). An error thrown while that module loads rejects this top-level await: the parent
// sees it as the Worker's 'error' event.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

const url = workerData?.__module;
if (typeof url !== 'string') {
  throw new TypeError('workers/boot.mjs: workerData.__module is not set; start workers with startWorker()');
}
// The module reads workerData exactly as its parent passed it.
delete workerData.__module;
register();
await import(url);
