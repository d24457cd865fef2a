/**
 * Worker thread of graphWorkers.ts (started with startWorker): builds the graph, writes it to `dir`,
 * and reports progress at most every 250 ms.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import hnswlib from 'hnswlib-node';
import type { GraphJob } from './graphWorkers.ts';
import type { HnswParams } from './hnswIndex.ts';

export interface GraphWorkerData {
  dim: number;
  params: HnswParams;
  job: GraphJob;
  dir: string;
}

/** Points inserted so far; 'done' after the file is written. */
export interface GraphWorkerMessage {
  type: 'progress' | 'done';
  done: number;
}

const { HierarchicalNSW } = hnswlib;
const { dim, params, job, dir } = workerData as GraphWorkerData;
const port = parentPort!;
const post = (m: GraphWorkerMessage) => port.postMessage(m);
let last = Date.now();
const n = job.labels.length;
const graph = new HierarchicalNSW('l2', dim);
graph.initIndex(Math.max(16, n), params.M, params.efConstruction, params.seed);
for (let i = 0; i < n; i++) {
  graph.addPoint(Array.from(job.vectors.subarray(i * dim, (i + 1) * dim)), job.labels[i]);
  if (Date.now() - last >= 250) {
    post({ type: 'progress', done: i + 1 });
    last = Date.now();
  }
}
graph.writeIndexSync(join(dir, job.file));
post({ type: 'done', done: n });
