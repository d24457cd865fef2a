import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { registerBackend, removeBackend } from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);
// The CommonJS module object itself: the emscripten glue reads require('os').cpus().
const os = require('node:os') as typeof import('node:os');
const WASM_PRIORITY = 2;

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
}
type Factory = (config: object) => Promise<EmscriptenModule & { tfjs?: object }>;

/**
 * Makes the 'wasm' backend use tfjs-backend-wasm's multi-threaded build (XNNPACK on a pthread pool
 * of `threads` threads) in Node, where the package itself always loads the single-threaded build
 * (its thread detection returns false under Node, and its loader hands the pthread workers blob:
 * URLs, which Node's workers cannot load). Call before the backend is first initialised
 * (tf.setBackend('wasm')); with threads <= 1 it does nothing.
 *
 * Three things differ from the package's own loader: the worker script is written to a file, the
 * main script is passed by path, and os.cpus() is padded while the backend starts, because the
 * backend caps its pool at half the logical cores (1 on a 2-core machine, "for hyper-threading").
 */
export function useWasmThreads(threads: number): void {
  if (threads <= 1) return;
  const wasmOut = path.join(
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
    'wasm-out',
  );
  const glue = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const workerFile = path.join(os.tmpdir(), `tfjs-wasm-pthread-worker-${process.pid}.cjs`);
  const { wasmWorkerContents } = require(path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The contents are a template literal whose \n escapes were turned into newlines: restore them.
  writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));
  process.once('exit', () => rmSync(workerFile, { force: true }));
  setThreadsCount(threads);
  removeBackend('wasm');
  registerBackend(
    'wasm',
    async () => {
      const factory = require(glue) as Factory;
      // Read by the module's static initialisers and by init_with_threads_count.
      const realCpus = os.cpus;
      os.cpus = () => Array.from({ length: 2 * threads }, () => realCpus()[0]);
      try {
        const module = await factory({
          locateFile: (file: string, prefix: string) => {
            if (file.endsWith('.worker.js')) return workerFile;
            if (file.endsWith('.wasm')) return path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.wasm');
            return prefix + file;
          },
          mainScriptUrlOrBlob: glue,
        });
        module.tfjs = {
          init: module.cwrap('init', null, []),
          initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
          getThreadsCount: module.cwrap('get_threads_count', 'number', []),
          registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
          disposeData: module.cwrap('dispose_data', null, ['number']),
          dispose: module.cwrap('dispose', null, []),
        };
        return new BackendWasm(module as never);
      } finally {
        os.cpus = realCpus;
      }
    },
    WASM_PRIORITY,
  );
}
