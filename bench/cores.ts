/**
 * What a second core buys on this machine, apart from any training code: the same arithmetic loop
 * (registers only) and the same memory-streaming loop (a 128 MiB array, one write per cache line)
 * on 1 and on N worker threads at once. Compute that scales and streaming that does not is a machine
 * whose cores share too little memory bandwidth for memory-bound work to scale; data-parallel
 * training is only as good as the share of its step that stays in the caches.
 *
 *   npm run bench:cores -- [--threads 2] [--repeats 3]
 *
 * Prints one JSON document: per workload and thread count the median milliseconds of one thread's
 * loop, and the aggregate speed-up N·t(1)/t(N).
 */

import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorker } from '../src/workers/startWorker.ts';

type Workload = 'compute' | 'memory';
const STREAM_DOUBLES = 16 * 1024 * 1024;
const DOUBLES_PER_LINE = 8;
const STREAM_PASSES = 12;
const COMPUTE_ITERATIONS = 300_000_000;

/** Eight independent multiply-add chains: bound by the FP units' throughput, not their latency. */
function compute(): number {
  let [a0, a1, a2, a3, a4, a5, a6, a7] = [1, 1, 1, 1, 1, 1, 1, 1];
  const b = 0.9999999;
  const c = 1e-7;
  const start = performance.now();
  for (let i = 0; i < COMPUTE_ITERATIONS; i++) {
    a0 = a0 * b + c;
    a1 = a1 * b + c;
    a2 = a2 * b + c;
    a3 = a3 * b + c;
    a4 = a4 * b + c;
    a5 = a5 * b + c;
    a6 = a6 * b + c;
    a7 = a7 * b + c;
  }
  const ms = performance.now() - start;
  if (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 === 0) throw new Error('unreachable: keeps the loop alive');
  return ms;
}

/** Reads and dirties every cache line of an array far larger than the caches; pages touched first. */
function memory(): number {
  const a = new Float64Array(STREAM_DOUBLES);
  a.fill(1);
  let sum = 0;
  const start = performance.now();
  for (let pass = 0; pass < STREAM_PASSES; pass++) {
    for (let i = 0; i < a.length; i += DOUBLES_PER_LINE) {
      sum += a[i];
      a[i] = pass;
    }
  }
  const ms = performance.now() - start;
  if (sum < 0) throw new Error('unreachable: keeps the loop alive');
  return ms;
}

if (!isMainThread) {
  const { workload } = workerData as { workload: Workload };
  parentPort?.postMessage(workload === 'compute' ? compute() : memory());
} else {
  const { values: args } = parseArgs({
    options: { threads: { type: 'string', default: '2' }, repeats: { type: 'string', default: '3' } },
  });
  const threads = Number(args.threads);
  const repeats = Number(args.repeats);
  const once = (workload: Workload, n: number): Promise<number[]> =>
    Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<number>((resolve, reject) => {
            const worker = startWorker(new URL(import.meta.url), { workload });
            worker.once('message', (ms: number) => {
              resolve(ms);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      ),
    );
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const results: Record<string, unknown> = {};
  for (const workload of ['compute', 'memory'] as const) {
    const ms: Record<number, number[]> = { 1: [], [threads]: [] };
    for (let r = 0; r < repeats; r++) {
      for (const n of [1, threads]) ms[n].push(Math.round(median(await once(workload, n))));
    }
    const one = median(ms[1]);
    const many = median(ms[threads]);
    results[workload] = {
      ms_per_thread: { 1: Math.round(one), [threads]: Math.round(many) },
      runs: ms,
      aggregate_speedup: Math.round(((threads * one) / many) * 100) / 100,
    };
  }
  console.log(JSON.stringify({ bench: 'cores', threads, repeats, results }, null, 2));
}
