/**
 * Training-step throughput (images/s at batch 128: forward, loss, backward, Adam update) of the
 * project's networks and losses on each tfjs backend that loads, on one thread and data-parallel on
 * --threads worker threads (src/train/parallel, as `npm run train -- --threads N`), with PyTorch
 * running the same network and batch on the same thread counts (../shared/peers/torch-train/train.py
 * --arch seed|H --threads N) measured in the same run for a ratio.
 *
 *   npm run bench:train -- [--arch seed,improved] [--threads 2] [--losses softmax,batch_all,batch_hard]
 *                          [--steps 30] [--repeats 3] [--cpu-steps 1] [--torch-steps 50] [--wasm-threads 1]
 *   npm run bench:train -- --profile softmax [--steps 10] [--arch seed]
 *   npm run bench:train -- --contention batch_all [--arch improved] [--threads 2] [--repeats 3]
 *
 * Prints one JSON document on stdout. Each wasm figure is the median of --repeats timed runs that
 * alternate with the PyTorch runs, so that load from other processes hits both alike; the load
 * average is recorded before and after every run.
 * --wasm-threads N runs tfjs-backend-wasm's multi-threaded build with N XNNPACK threads (kernels of
 * the backend's own; the project's kernels stay single-threaded).
 * --profile LOSS prints instead where one wasm step's time goes: kernel wall times (tf.profile)
 * per kernel and input shapes, slowest first.
 * --contention LOSS measures what running at once costs the shards of a data-parallel step, apart from
 * any data-parallel code: one-thread training steps at the shard's batch (128 / --threads) in one
 * process alone, then in --threads independent processes at once; their ratio is the slow-down that
 * the cores' shared caches and memory impose on each shard.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadFashionMnistSplit } from '../src/data/fashionMnist.ts';
import type { ImageSet } from '../src/data/types.ts';
import { registerWasmKernels, useWasmThreads } from '../src/model/kernels/index.ts';
import { type Arch, buildNetwork } from '../src/model/network.ts';
import { computeLoss, type Forward, forward, trainingView } from '../src/train/objective.ts';
import { type DataParallel, startDataParallel } from '../src/train/parallel/dataParallel.ts';

type Loss = 'softmax' | 'batch_all' | 'batch_hard';
/** Training batch; a --measure child of --contention runs a shard's share of it. */
const FULL_BATCH = 128;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TORCH_SCRIPT = path.resolve(repoRoot, '../shared/peers/torch-train/train.py');
const PYTHON = '/usr/bin/python3';

const { values: args } = parseArgs({
  options: {
    losses: { type: 'string', default: 'softmax,batch_all,batch_hard' },
    steps: { type: 'string', default: '30' },
    repeats: { type: 'string', default: '3' },
    'cpu-steps': { type: 'string', default: '1' },
    'torch-steps': { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    'wasm-threads': { type: 'string', default: '1' },
    arch: { type: 'string', default: 'seed,improved' },
    // Internal: run one timed measurement in this process and print it (see measureInChild).
    measure: { type: 'string' },
    profile: { type: 'string' },
    loss: { type: 'string' },
    warmup: { type: 'string', default: '5' },
    contention: { type: 'string' },
    // Internal: the batch of a --measure child (see contention).
    batch: { type: 'string', default: String(FULL_BATCH) },
  },
});
const BATCH = Number(args.batch);
const losses = args.losses.split(',') as Loss[];
const steps = Number(args.steps);
const repeats = Number(args.repeats);
const cpuSteps = Number(args['cpu-steps']);
const torchSteps = Number(args['torch-steps']);
const threads = Number(args.threads);
const threadCounts = threads > 1 ? [1, threads] : [1];
const wasmThreads = Number(args['wasm-threads']);
const archs = args.arch.split(',') as Arch[];
/** The architecture a --measure/--profile child runs. */
const arch = archs[0];
const TORCH_ARCH: Record<Arch, string> = { seed: 'seed', improved: 'H' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** A fixed pool of random batches from real images, built before timing (as the PyTorch script does). */
function makeBatches(set: ImageSet, count: number): { xs: tf.Tensor4D; labels: tf.Tensor1D }[] {
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const pixels = new Float32Array(BATCH * 784);
    const labels = new Int32Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      const k = Math.floor(rand() * set.count);
      for (let p = 0; p < 784; p++) pixels[i * 784 + p] = set.images[k * 784 + p] / 255;
      labels[i] = set.labels[k];
    }
    return { xs: tf.tensor4d(pixels, [BATCH, 28, 28, 1]), labels: tf.tensor1d(labels, 'int32') };
  });
}

interface Trainer {
  step(i: number): number;
  dispose(): Promise<void>;
}

/** The trainer's step (src/train/trainer.ts), in this thread or on `workers` data-parallel threads. */
async function makeTrainer(loss: Loss, set: ImageSet, workers: number): Promise<Trainer> {
  const model = buildNetwork({ arch, head: loss === 'softmax' ? 'softmax' : 'embedding', seed: 1 });
  const view = trainingView(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(1e-3);
  const batches = makeBatches(set, 8);
  const parallel: DataParallel | undefined =
    workers > 1
      ? await startDataParallel(view, { threads: workers, maxBatch: BATCH, backend: tf.getBackend() })
      : undefined;
  return {
    step(i) {
      const { xs, labels } = batches[i % batches.length];
      return tf.tidy(() => {
        const lossOf = (out: Forward) => computeLoss(loss, labels, out, { margin: 0.5 }).loss;
        const { value, grads } = parallel
          ? parallel.variableGrads(xs, lossOf)
          : tf.variableGrads(() => lossOf(forward(view, xs, true)), variables);
        optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        return value.dataSync()[0];
      });
    },
    async dispose() {
      await parallel?.close();
      optimizer.dispose();
      model.dispose();
      for (const b of batches) tf.dispose([b.xs, b.labels]);
    },
  };
}

interface Timed {
  imagesPerS: number;
  cpuImagesPerS: number;
}

function timeSteps(trainer: Trainer, n: number, offset: number): Timed {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) trainer.step(offset + i);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { imagesPerS: (n * BATCH) / wall, cpuImagesPerS: (n * BATCH) / ((cpu.user + cpu.system) / 1e6) };
}

function torchAvailable(): boolean {
  if (!existsSync(PYTHON) || !existsSync(TORCH_SCRIPT)) return false;
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runTorch(net: Arch, loss: Loss, torchThreads: number): number | undefined {
  const r = spawnSync(
    PYTHON,
    [
      TORCH_SCRIPT,
      ...['--arch', TORCH_ARCH[net], '--loss', loss, '--threads', String(torchThreads)],
      ...['--steps-only', String(torchSteps)],
    ],
    { cwd: path.dirname(TORCH_SCRIPT), encoding: 'utf8', timeout: 600_000 },
  );
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line) {
    process.stderr.write(`torch run failed (${net} ${loss}): ${r.stderr?.slice(-500)}\n`);
    return undefined;
  }
  return (JSON.parse(line) as { images_per_s: number }).images_per_s;
}

async function warmTrainer(backend: string, loss: Loss, workers = 1): Promise<Trainer | undefined> {
  if (backend === 'wasm') useWasmThreads(wasmThreads);
  registerWasmKernels();
  if (!(await tf.setBackend(backend).catch(() => false))) {
    console.log(JSON.stringify({ error: `backend ${backend} does not load here` }));
    return undefined;
  }
  const trainer = await makeTrainer(loss, await loadFashionMnistSplit('test'), workers);
  for (let i = 0; i < Number(args.warmup); i++) trainer.step(i); // kernel setup, XNNPACK operators, JIT
  return trainer;
}

/** The timed steps of one backend and loss, in a fresh process like each PyTorch run (see main). */
async function measure(backend: string, loss: Loss): Promise<void> {
  const trainer = await warmTrainer(backend, loss, threads);
  if (trainer === undefined) return;
  const warmup = Number(args.warmup);
  const tensorsBefore = tf.memory().numTensors;
  const timed = timeSteps(trainer, backend === 'cpu' ? cpuSteps : steps, warmup);
  // Without warm-up the first step creates the optimizer's moment tensors: no leak check then.
  const leaked = warmup > 0 ? tf.memory().numTensors - tensorsBefore : 0;
  await trainer.dispose();
  console.log(JSON.stringify({ ...timed, leaked }));
}

async function profile(loss: Loss): Promise<void> {
  const trainer = await warmTrainer('wasm', loss);
  if (trainer === undefined) return;
  const perKernel = new Map<string, { ms: number; calls: number }>();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const info = await tf.profile(() => trainer.step(i));
    for (const k of info.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      const e = perKernel.get(key) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs);
      e.calls++;
      perKernel.set(key, e);
    }
  }
  const kernels = [...perKernel.entries()]
    .map(([kernel, e]) => ({ kernel, ms_per_step: round(e.ms / steps, 3), calls_per_step: e.calls / steps }))
    .sort((a, b) => b.ms_per_step - a.ms_per_step);
  const report = {
    bench: 'train-step-profile',
    loss,
    arch,
    // Profiling adds its own cost per kernel: compare kernels with each other, not with bench runs.
    profiled_wall_ms_per_step: round((performance.now() - t0) / steps, 2),
    kernel_ms_per_step: round(
      kernels.reduce((s, k) => s + k.ms_per_step, 0),
      2,
    ),
    kernels,
  };
  console.log(JSON.stringify(report, null, 2));
}

/** The node arguments of a --measure child of this script (process.execArgv carries tsx's loader flags). */
function measureArgs(backend: string, net: Arch, loss: Loss, workers: number, batch = FULL_BATCH): string[] {
  const childArgs = ['--measure', backend, '--loss', loss, '--arch', net, '--steps', String(steps)];
  childArgs.push(
    '--threads',
    String(workers),
    '--wasm-threads',
    String(wasmThreads),
    '--batch',
    String(batch),
  );
  childArgs.push('--cpu-steps', String(cpuSteps), '--warmup', backend === 'cpu' ? '0' : args.warmup);
  return [...process.execArgv, fileURLToPath(import.meta.url), ...childArgs];
}

function measureInChild(backend: string, net: Arch, loss: Loss, workers: number): Timed | undefined {
  const r = spawnSync(process.execPath, measureArgs(backend, net, loss, workers), {
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  const line = r.stdout?.trim().split('\n').pop();
  const parsed = line?.startsWith('{')
    ? (JSON.parse(line) as Timed & { leaked?: number; error?: string })
    : undefined;
  if (r.status !== 0 || parsed === undefined || parsed.error) {
    process.stderr.write(`${backend} ${net} ${loss} run failed: ${parsed?.error ?? r.stderr?.slice(-800)}\n`);
    return undefined;
  }
  if (parsed.leaked) throw new Error(`${backend} ${net} ${loss}: ${parsed.leaked} tensors leaked per run`);
  return parsed;
}

const loadavg = () => os.loadavg().map((l) => round(l, 2));
type PerThreads<T> = Record<string, T>;
const byThreads = <T>(f: (t: number) => T): PerThreads<T> =>
  Object.fromEntries(threadCounts.map((t) => [String(t), f(t)]));
const ratio = (a: number | null | undefined, b: number | null | undefined, d = 3) =>
  a != null && b != null ? round(a / b, d) : null;

interface Runs {
  wasm: Timed[];
  torch: number[];
  /** Load average (1, 5, 15 min) after each wasm run. */
  loadavg: number[][];
}

/** One architecture and loss: --repeats rounds of (PyTorch, wasm) at every thread count. */
function runLoss(net: Arch, loss: Loss, withTorch: boolean): Record<string, unknown> {
  const runs: PerThreads<Runs> = byThreads(() => ({ wasm: [], torch: [], loadavg: [] }));
  for (let r = 0; r < repeats; r++) {
    for (const t of threadCounts) {
      const slot = runs[String(t)];
      if (withTorch) {
        const p = runTorch(net, loss, t);
        if (p !== undefined) slot.torch.push(p);
      }
      const w = measureInChild('wasm', net, loss, t);
      if (w === undefined) continue;
      slot.wasm.push(w);
      slot.loadavg.push(loadavg());
      process.stderr.write(
        `${net} ${loss} ${t} thread(s) ${r + 1}/${repeats}: wasm ${round(w.imagesPerS)} img/s, pytorch ${slot.torch.at(-1) ?? '-'} img/s, load ${loadavg().join(' ')}\n`,
      );
    }
  }
  const wasm = byThreads((t) => {
    const ws = runs[String(t)].wasm;
    return ws.length ? round(median(ws.map((w) => w.imagesPerS))) : null;
  });
  const torch = byThreads((t) => {
    const ps = runs[String(t)].torch;
    return ps.length ? round(median(ps)) : null;
  });
  let cpu: number | undefined;
  if (cpuSteps > 0) {
    cpu = measureInChild('cpu', net, loss, 1)?.imagesPerS;
    if (cpu !== undefined) process.stderr.write(`${net} ${loss}: cpu ${round(cpu, 2)} img/s\n`);
  }
  const last = String(threadCounts.at(-1));
  return {
    wasm_images_per_s: wasm,
    wasm_runs: byThreads((t) => runs[String(t)].wasm.map((w) => round(w.imagesPerS))),
    wasm_images_per_cpu_s: byThreads((t) => {
      const ws = runs[String(t)].wasm;
      return ws.length ? round(median(ws.map((w) => w.cpuImagesPerS))) : null;
    }),
    speedup_vs_1_thread: threadCounts.length > 1 ? ratio(wasm[last], wasm['1']) : null,
    pytorch_images_per_s: torch,
    pytorch_runs: byThreads((t) => runs[String(t)].torch),
    pytorch_speedup_vs_1_thread: threadCounts.length > 1 ? ratio(torch[last], torch['1']) : null,
    ratio_vs_pytorch: byThreads((t) => ratio(wasm[String(t)], torch[String(t)])),
    loadavg_per_run: byThreads((t) => runs[String(t)].loadavg),
    cpu_images_per_s: cpu === undefined ? null : round(cpu, 2),
    ratio_wasm_vs_cpu: ratio(wasm['1'], cpu, 1),
  };
}

/**
 * Each measurement runs in a fresh process, alternating wasm and PyTorch runs per loss and thread
 * count, so that both meet the same scheduler treatment and the same load from other processes.
 */
async function main(): Promise<void> {
  const withTorch = torchAvailable();
  const loadavgBefore = loadavg();
  const results: Record<string, Record<string, unknown>> = {};
  for (const net of archs) {
    results[net] = {};
    for (const loss of losses) results[net][loss] = runLoss(net, loss, withTorch);
  }
  const report = {
    bench: 'train-throughput',
    batch: FULL_BATCH,
    archs,
    pytorch_archs: archs.map((a) => TORCH_ARCH[a]),
    threads: threadCounts,
    wasm_xnnpack_threads: wasmThreads,
    steps_per_run: steps,
    repeats,
    cpu_steps: cpuSteps,
    pytorch_steps: withTorch ? torchSteps : null,
    node: process.version,
    cores: os.cpus().length,
    loadavg_before: loadavgBefore,
    loadavg_after: loadavg(),
    results,
  };
  console.log(JSON.stringify(report, null, 2));
}

/** One --measure child of one-thread training steps at `batch`, started now; resolves to its result. */
function measureAsync(loss: Loss, batch: number): Promise<Timed> {
  const child = spawn(process.execPath, measureArgs('wasm', arch, loss, 1, batch));
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Timed);
      else reject(new Error(`contention child exited with ${code}: ${line}`));
    }),
  );
}

async function contention(loss: Loss): Promise<void> {
  const shard = Math.floor(FULL_BATCH / threads);
  const msPerStep = (t: Timed) => round((shard / t.imagesPerS) * 1000, 2);
  const alone: number[] = [];
  const together: number[] = [];
  for (let r = 0; r < repeats; r++) {
    alone.push(msPerStep(await measureAsync(loss, shard)));
    const runs = await Promise.all(Array.from({ length: threads }, () => measureAsync(loss, shard)));
    together.push(...runs.map(msPerStep));
    process.stderr.write(
      `contention ${r + 1}/${repeats}: alone ${alone.at(-1)} ms, together ${runs.map(msPerStep).join(' / ')} ms\n`,
    );
  }
  const report = {
    bench: 'train-contention',
    arch,
    loss,
    processes: threads,
    shard_batch: shard,
    steps_per_run: steps,
    repeats,
    ms_per_step_alone: { median: round(median(alone), 2), runs: alone },
    ms_per_step_together: { median: round(median(together), 2), runs: together },
    slowdown_together: ratio(median(together), median(alone)),
    cores: os.cpus().length,
    loadavg: loadavg(),
  };
  console.log(JSON.stringify(report, null, 2));
}

if (args.measure) {
  await measure(args.measure, args.loss as Loss);
  // The threaded build's pthread workers would otherwise keep the process alive.
  process.exit(0);
} else if (args.profile) {
  await profile(args.profile as Loss);
  process.exit(0);
} else if (args.contention) await contention(args.contention as Loss);
else await main();
