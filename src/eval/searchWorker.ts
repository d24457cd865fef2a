/**
 * Worker thread of exactSearch.ts (started with startWorker): takes chunks of queries from a shared
 * counter until none are left, so a core slowed down by other processes simply takes fewer chunks.
 * Progress goes to the parent as query counts, then -1 when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SearchJob, searchRange } from './searchKernel.ts';

export interface SearchWorkerData {
  /** Its arrays are in shared memory: the worker writes the results in place. */
  job: SearchJob;
  /** [next query to take], advanced with Atomics.add by every worker. */
  counter: Int32Array;
  chunk: number;
  queryCount: number;
}

/** Queries finished since the last message, or -1: no chunk left, this worker is done. */
export type SearchWorkerMessage = number;

const { job, counter, chunk, queryCount } = workerData as SearchWorkerData;
const port = parentPort!;
const post = (m: SearchWorkerMessage) => port.postMessage(m);
for (;;) {
  const q0 = Atomics.add(counter, 0, chunk);
  if (q0 >= queryCount) break;
  searchRange(job, q0, Math.min(queryCount, q0 + chunk), post);
}
post(-1);
