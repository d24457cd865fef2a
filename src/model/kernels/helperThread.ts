import { Worker } from 'node:worker_threads';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type LayoutKernels, layoutModule } from './simd/layoutKernels.ts';

/** The layout.wat exports worth splitting across two threads (compute-bound, seconds per epoch). */
const FUNCTIONS = ['convForward', 'convFilterGrad'] as const;
export type HelperFunction = (typeof FUNCTIONS)[number] & keyof LayoutKernels;

// The control block (Int32Array over a SharedArrayBuffer).
const SEQ = 0; // number of the latest request
const FN = 1; // index into FUNCTIONS
const ARGC = 2;
const ARGS = 3; // arguments, MAX_ARGS of them at most
const MAX_ARGS = 16;
const DONE = ARGS + MAX_ARGS; // number of the latest finished request
const FAILED = DONE + 1; // 1 when it threw
const READY = FAILED + 1; // 1 once the worker has instantiated the module
const SLOTS = READY + 1;
const START_MS = 10_000;
const FINISH_MS = 60_000;

// Plain CommonJS, run with eval: Node 20's workers cannot load TypeScript.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, functions } = workerData;
const c = new Int32Array(control);
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
Atomics.store(c, ${READY}, 1);
Atomics.notify(c, ${READY});
let seen = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seen);
  seen = Atomics.load(c, ${SEQ});
  try {
    kernels[functions[c[${FN}]]](...c.subarray(${ARGS}, ${ARGS} + c[${ARGC}]));
  } catch (e) {
    Atomics.store(c, ${FAILED}, 1);
  }
  Atomics.store(c, ${DONE}, seen);
  Atomics.notify(c, ${DONE});
}
`;

/** A second thread running layout.wat on the backend's shared heap, one request at a time. */
export interface HelperThread {
  /** Starts kernels[fn](...args) on the helper; its output is valid after finish(). */
  start(fn: HelperFunction, args: number[]): void;
  /** Blocks until the started request is done. */
  finish(): void;
}

const helpers = new WeakMap<object, HelperThread | null>();

function startHelper(memory: object, module: object): HelperThread | null {
  const control = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { module, memory, control: control.buffer, functions: FUNCTIONS },
  });
  // Blocked in Atomics.wait between requests: it must not keep the process alive.
  worker.unref();
  if (Atomics.wait(control, READY, 0, START_MS) === 'timed-out' && Atomics.load(control, READY) !== 1) {
    void worker.terminate();
    return null;
  }
  return {
    start(fn, args) {
      if (args.length > MAX_ARGS) throw new Error(`${fn}: more than ${MAX_ARGS} arguments`);
      control[FN] = FUNCTIONS.indexOf(fn);
      control[ARGC] = args.length;
      control.set(args, ARGS);
      Atomics.add(control, SEQ, 1);
      Atomics.notify(control, SEQ);
    },
    finish() {
      const seq = Atomics.load(control, SEQ);
      for (;;) {
        const done = Atomics.load(control, DONE);
        if (done === seq) break;
        if (Atomics.wait(control, DONE, done, FINISH_MS) === 'timed-out') {
          throw new Error('the kernel helper thread did not answer');
        }
      }
      if (Atomics.exchange(control, FAILED, 0) === 1) throw new Error('a kernel failed on the helper thread');
    },
  };
}

/**
 * The helper thread of this backend when its heap is shared (the multi-threaded build, see
 * threads.ts: the project's kernels then use both threads as XNNPACK does), else undefined.
 * Started on first use; undefined too if it fails to start.
 */
export function helperThread(backend: BackendWasm): HelperThread | undefined {
  const { memory, module, shared } = layoutModule(backend);
  if (!shared) return undefined;
  let helper = helpers.get(memory);
  if (helper === undefined) {
    helper = startHelper(memory, module);
    helpers.set(memory, helper);
  }
  return helper ?? undefined;
}
