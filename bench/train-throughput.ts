/**
 * Training-step throughput (images/s at batch 128: forward, loss, backward, Adam update) of the
 * project's network and losses on each tfjs backend that loads, with PyTorch running the same
 * network and batch (../shared/peers/torch-train/train.py) measured in the same run for a ratio.
 *
 *   npm run bench:train -- [--losses softmax,batch_all,batch_hard] [--steps 30] [--repeats 3]
 *                          [--cpu-steps 1] [--torch-steps 50] [--threads 1] [--arch seed]
 *   npm run bench:train -- --profile softmax [--steps 10] [--arch seed]
 *
 * Prints one JSON document on stdout. The wasm figure is the median of --repeats timed runs that
 * alternate with the PyTorch runs, so that load from other processes hits both alike.
 * --profile LOSS prints instead where one wasm step's time goes: kernel wall times (tf.profile)
 * per kernel and input shapes, slowest first.
 */
import { spawnSync } from 'node:child_process';
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
import { computeLoss, forward, trainingView } from '../src/train/objective.ts';

type Loss = 'softmax' | 'batch_all' | 'batch_hard';
const BATCH = 128;
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
    threads: { type: 'string', default: '1' },
    arch: { type: 'string', default: 'seed' },
    // Internal: run one timed measurement in this process and print it (see measureInChild).
    measure: { type: 'string' },
    profile: { type: 'string' },
    loss: { type: 'string' },
    warmup: { type: 'string', default: '5' },
  },
});
const losses = args.losses.split(',') as Loss[];
const steps = Number(args.steps);
const repeats = Number(args.repeats);
const cpuSteps = Number(args['cpu-steps']);
const torchSteps = Number(args['torch-steps']);
const threads = Number(args.threads);
const arch = args.arch as Arch;

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
  dispose(): void;
}

function makeTrainer(loss: Loss, set: ImageSet): Trainer {
  const model = buildNetwork({ arch, head: loss === 'softmax' ? 'softmax' : 'embedding', seed: 1 });
  const view = trainingView(model);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(1e-3);
  const batches = makeBatches(set, 8);
  return {
    step(i) {
      const { xs, labels } = batches[i % batches.length];
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => computeLoss(loss, labels, forward(view, xs, true), { margin: 0.5 }).loss,
          variables,
        );
        optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        return value.dataSync()[0];
      });
    },
    dispose() {
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

function runTorch(loss: Loss): number | undefined {
  const r = spawnSync(
    PYTHON,
    [TORCH_SCRIPT, '--loss', loss, '--threads', String(threads), '--steps-only', String(torchSteps)],
    { cwd: path.dirname(TORCH_SCRIPT), encoding: 'utf8', timeout: 600_000 },
  );
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line) {
    process.stderr.write(`torch run failed (${loss}): ${r.stderr?.slice(-500)}\n`);
    return undefined;
  }
  return (JSON.parse(line) as { images_per_s: number }).images_per_s;
}

async function warmTrainer(backend: string, loss: Loss): Promise<Trainer | undefined> {
  if (backend === 'wasm') useWasmThreads(threads);
  registerWasmKernels();
  if (!(await tf.setBackend(backend).catch(() => false))) {
    console.log(JSON.stringify({ error: `backend ${backend} does not load here` }));
    return undefined;
  }
  const trainer = makeTrainer(loss, await loadFashionMnistSplit('test'));
  for (let i = 0; i < Number(args.warmup); i++) trainer.step(i); // kernel setup, XNNPACK operators, JIT
  return trainer;
}

/** The timed steps of one backend and loss, in a fresh process like each PyTorch run (see main). */
async function measure(backend: string, loss: Loss): Promise<void> {
  const trainer = await warmTrainer(backend, loss);
  if (trainer === undefined) return;
  const warmup = Number(args.warmup);
  const tensorsBefore = tf.memory().numTensors;
  const timed = timeSteps(trainer, backend === 'cpu' ? cpuSteps : steps, warmup);
  // Without warm-up the first step creates the optimizer's moment tensors: no leak check then.
  const leaked = warmup > 0 ? tf.memory().numTensors - tensorsBefore : 0;
  trainer.dispose();
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

function measureInChild(backend: string, loss: Loss): Timed | undefined {
  const script = fileURLToPath(import.meta.url);
  const childArgs = ['--measure', backend, '--loss', loss, '--arch', arch, '--steps', String(steps)];
  childArgs.push('--threads', String(threads));
  childArgs.push('--cpu-steps', String(cpuSteps), '--warmup', backend === 'cpu' ? '0' : args.warmup);
  // process.execArgv carries tsx's loader flags.
  const r = spawnSync(process.execPath, [...process.execArgv, script, ...childArgs], {
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  const line = r.stdout?.trim().split('\n').pop();
  const parsed = line?.startsWith('{')
    ? (JSON.parse(line) as Timed & { leaked?: number; error?: string })
    : undefined;
  if (r.status !== 0 || parsed === undefined || parsed.error) {
    process.stderr.write(`${backend} ${loss} run failed: ${parsed?.error ?? r.stderr?.slice(-800)}\n`);
    return undefined;
  }
  if (parsed.leaked) throw new Error(`${backend} ${loss}: ${parsed.leaked} tensors leaked per run`);
  return parsed;
}

/**
 * Each measurement runs in a fresh process, alternating wasm and PyTorch runs per loss, so that
 * both meet the same scheduler treatment and the same load from other processes on this machine.
 */
async function main(): Promise<void> {
  // The PyTorch script has the seed network only: no ratio for another architecture.
  const withTorch = arch === 'seed' && torchAvailable();
  const results: Record<string, unknown> = {};
  const wasmRuns: Record<string, Timed[]> = {};
  const torchRuns: Record<string, number[]> = {};
  const cpuRuns: Record<string, number> = {};
  const backends = new Set<string>();

  for (const loss of losses) {
    wasmRuns[loss] = [];
    torchRuns[loss] = [];
    for (let r = 0; r < repeats; r++) {
      if (withTorch) {
        const t = runTorch(loss);
        if (t !== undefined) torchRuns[loss].push(t);
      }
      const w = measureInChild('wasm', loss);
      if (w === undefined) break;
      backends.add('wasm');
      wasmRuns[loss].push(w);
      process.stderr.write(
        `${loss} ${r + 1}/${repeats}: wasm ${round(w.imagesPerS)} img/s, pytorch ${torchRuns[loss].at(-1) ?? '-'} img/s\n`,
      );
    }
    if (cpuSteps > 0) {
      const c = measureInChild('cpu', loss);
      if (c !== undefined) {
        backends.add('cpu');
        cpuRuns[loss] = c.imagesPerS;
        process.stderr.write(`${loss}: cpu ${round(c.imagesPerS, 2)} img/s\n`);
      }
    }
  }

  for (const loss of losses) {
    const wasm = wasmRuns[loss]?.length ? median(wasmRuns[loss].map((t) => t.imagesPerS)) : undefined;
    const torch = torchRuns[loss]?.length ? median(torchRuns[loss]) : undefined;
    const cpu = cpuRuns[loss];
    results[loss] = {
      wasm_images_per_s: wasm === undefined ? null : round(wasm),
      wasm_runs: wasmRuns[loss]?.map((t) => round(t.imagesPerS)) ?? [],
      wasm_images_per_cpu_s: wasmRuns[loss]?.length
        ? round(median(wasmRuns[loss].map((t) => t.cpuImagesPerS)))
        : null,
      cpu_images_per_s: cpu === undefined ? null : round(cpu, 2),
      ratio_wasm_vs_cpu: wasm !== undefined && cpu !== undefined ? round(wasm / cpu) : null,
      pytorch_images_per_s: torch === undefined ? null : round(torch),
      pytorch_runs: torchRuns[loss] ?? [],
      ratio_vs_pytorch: wasm !== undefined && torch !== undefined ? round(wasm / torch, 3) : null,
    };
  }

  const report = {
    bench: 'train-throughput',
    batch: BATCH,
    arch,
    threads,
    steps_per_run: steps,
    repeats,
    cpu_steps: cpuSteps,
    pytorch_steps: withTorch ? torchSteps : null,
    backends: [...backends],
    node: process.version,
    cores: os.cpus().length,
    loadavg_after: os.loadavg().map((l) => round(l, 2)),
    results,
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
} else await main();
