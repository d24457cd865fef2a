// Plain JavaScript: Node 20 cannot load TypeScript inside worker_threads (see searchKernel.js).
import { parentPort, workerData } from 'node:worker_threads';
import { searchRange } from './searchKernel.js';

/**
 * Takes chunks of queries from a shared counter until none are left, so a core slowed down by other
 * processes simply takes fewer chunks. Progress goes to the parent as query counts.
 */
const { job, counter, chunk, queryCount } = workerData;
for (;;) {
  const q0 = Atomics.add(counter, 0, chunk);
  if (q0 >= queryCount) break;
  searchRange(job, q0, Math.min(queryCount, q0 + chunk), (done) => parentPort.postMessage(done));
}
parentPort.postMessage(-1);
