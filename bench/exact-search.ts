/**
 * Exact search throughput: 10,000 queries x 60,000 gallery x 64-d (the evaluation's shape) with ranked
 * labels to depth 6,000 (MAP@R), then the test set leave-one-out (10,000 x 10,000, depth 999). The
 * baseline, measured in the same run on a slice and scaled up, is the plain loop: one thread, one
 * distance at a time, Array.sort of every row.
 * Usage: npx tsx bench/exact-search.ts [--queries N] [--gallery N] [--dim D] [--workers W] [--bytes]
 * (--bytes: Uint8 vectors, as the raw-pixel baseline, e.g. --dim 784 --bytes --queries 1000)
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createRng } from '../src/data/random.ts';
import { exactSearch } from '../src/eval/exactSearch.ts';

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '10000' },
    gallery: { type: 'string', default: '60000' },
    dim: { type: 'string', default: '64' },
    workers: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    bytes: { type: 'boolean', default: false },
  },
});
const nq = Number(values.queries);
const ng = Number(values.gallery);
const dim = Number(values.dim);
const workers = Number(values.workers);
const rng = createRng(1);
// Clustered data like a trained embedding: ten centres plus noise.
const centres = Float32Array.from({ length: 10 * dim }, () => rng() * 2 - 1);
function vectors(n: number, labels: Uint8Array): Float32Array | Uint8Array {
  const v = values.bytes ? new Uint8Array(n * dim) : new Float32Array(n * dim);
  const scale = values.bytes ? 80 : 1;
  const offset = values.bytes ? 128 : 0;
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    for (let d = 0; d < dim; d++) {
      v[i * dim + d] = offset + scale * (centres[(i % 10) * dim + d] + (rng() - 0.5) * 0.8);
    }
  }
  return v;
}
const qLabels = new Uint8Array(nq);
const gLabels = new Uint8Array(ng);
const queries = vectors(nq, qLabels);
const gallery = vectors(ng, gLabels);
const depth = Math.ceil(ng / 10);

// CPU time (all threads of this process) as well as wall time: the machine is shared, so wall time
// alone says more about the neighbours' load than about the code.
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};
let t = performance.now();
let cpu = process.cpuUsage();
await exactSearch(queries, gallery, dim, { k: 10, galleryLabels: gLabels, labelDepth: depth, workers });
const searchSeconds = (performance.now() - t) / 1000;
const searchCpuSeconds = cpuSeconds(cpu);
t = performance.now();
cpu = process.cpuUsage();
await exactSearch(queries, queries, dim, {
  k: 10,
  galleryLabels: qLabels,
  labelDepth: Math.ceil(nq / 10) - 1,
  leaveOneOut: true,
  workers,
});
const leaveOneOutSeconds = (performance.now() - t) / 1000;
const leaveOneOutCpuSeconds = cpuSeconds(cpu);

const slice = Math.min(nq, 100);
t = performance.now();
cpu = process.cpuUsage();
const row = new Float64Array(ng);
const order = Array.from({ length: ng }, (_, i) => i);
for (let q = 0; q < slice; q++) {
  for (let g = 0; g < ng; g++) {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const u = queries[q * dim + d] - gallery[g * dim + d];
      s += u * u;
    }
    row[g] = s;
  }
  order.sort((a, b) => row[a] - row[b] || a - b);
}
const naiveSeconds = ((performance.now() - t) / 1000) * (nq / slice);
const naiveCpuSeconds = cpuSeconds(cpu) * (nq / slice);

process.stdout.write(
  `${JSON.stringify({
    bench: 'exact-search',
    queries: nq,
    gallery: ng,
    dim,
    vectors: values.bytes ? 'uint8' : 'float32',
    labelDepth: depth,
    workers,
    searchSeconds: Number(searchSeconds.toFixed(2)),
    searchCpuSeconds: Number(searchCpuSeconds.toFixed(2)),
    leaveOneOutSeconds: Number(leaveOneOutSeconds.toFixed(2)),
    leaveOneOutCpuSeconds: Number(leaveOneOutCpuSeconds.toFixed(2)),
    naiveOneThreadSecondsEstimated: Number(naiveSeconds.toFixed(1)),
    naiveCpuSecondsEstimated: Number(naiveCpuSeconds.toFixed(1)),
    speedupVsNaive: Number((naiveSeconds / searchSeconds).toFixed(2)),
    cpuSpeedupVsNaive: Number((naiveCpuSeconds / searchCpuSeconds).toFixed(2)),
    loadAverage1m: Number(loadavg()[0].toFixed(2)),
  })}\n`,
);
