/**
 * Exact search throughput: 10,000 queries x 60,000 gallery x 64-d (the evaluation's shape) with ranked
 * labels to depth 6,000 (MAP@R), then the test set leave-one-out (10,000 x 10,000, depth 999). The
 * baseline, measured in the same run on a slice and scaled up, is the plain loop: one thread, one
 * distance at a time, Array.sort of every row.
 * Usage: npx tsx bench/exact-search.ts [--queries N] [--dim D] [--workers W]
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
  },
});
const nq = Number(values.queries);
const ng = Number(values.gallery);
const dim = Number(values.dim);
const workers = Number(values.workers);
const rng = createRng(1);
// Clustered data like a trained embedding: ten centres plus noise.
const centres = Float32Array.from({ length: 10 * dim }, () => rng() * 2 - 1);
function vectors(n: number, labels: Uint8Array): Float32Array {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    for (let d = 0; d < dim; d++) v[i * dim + d] = centres[(i % 10) * dim + d] + (rng() - 0.5) * 0.8;
  }
  return v;
}
const qLabels = new Uint8Array(nq);
const gLabels = new Uint8Array(ng);
const queries = vectors(nq, qLabels);
const gallery = vectors(ng, gLabels);
const depth = Math.ceil(ng / 10);

let t = performance.now();
await exactSearch(queries, gallery, dim, { k: 10, galleryLabels: gLabels, labelDepth: depth, workers });
const searchSeconds = (performance.now() - t) / 1000;
t = performance.now();
await exactSearch(queries, queries, dim, {
  k: 10,
  galleryLabels: qLabels,
  labelDepth: Math.ceil(nq / 10) - 1,
  leaveOneOut: true,
  workers,
});
const leaveOneOutSeconds = (performance.now() - t) / 1000;

const slice = Math.min(nq, 100);
t = performance.now();
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

process.stdout.write(
  `${JSON.stringify({
    bench: 'exact-search',
    queries: nq,
    gallery: ng,
    dim,
    labelDepth: depth,
    workers,
    searchSeconds: Number(searchSeconds.toFixed(2)),
    leaveOneOutSeconds: Number(leaveOneOutSeconds.toFixed(2)),
    naiveOneThreadSecondsEstimated: Number(naiveSeconds.toFixed(1)),
    speedupVsNaive: Number((naiveSeconds / searchSeconds).toFixed(2)),
    loadAverage1m: Number(loadavg()[0].toFixed(2)),
  })}\n`,
);
