/**
 * Starts a worker thread that runs a TypeScript module. A worker does not get the loader that runs
 * this process's TypeScript (vitest transforms modules in-process; on Node 20 tsx registers its hooks
 * on the main thread only; plain node has none), so every worker enters through `boot.mjs`, plain
 * JavaScript that registers tsx and imports the module. Worker modules are ordinary typed modules
 * that import others and read `workerData` from node:worker_threads.
 *
 * An error thrown while the module loads (or a missing module) arrives as the Worker's 'error' event,
 * after which it exits with code 1: listen to both so a caller's promise rejects instead of hanging.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const BOOT = new URL('./boot.mjs', import.meta.url);
/**
 * Compiled (`npm run build`, dist/): this file is JavaScript, and so is every worker module beside
 * it; a worker's `.ts` URL names its compiled `.js` sibling, which starts without boot.mjs or tsx.
 */
const COMPILED = import.meta.url.endsWith('.js');
const compiled = (moduleUrl: URL) => new URL(moduleUrl.href.replace(/\.ts$/, '.js'));

export type StartWorkerOptions = Omit<WorkerOptions, 'eval' | 'workerData'>;

/** Flags that take a value; tsx's own preloads are among the `--require`/`--import` ones. */
const PRELOAD_FLAGS = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader']);
const isTsx = (value: string) =>
  value === 'tsx' || value.startsWith('tsx/') || /[/\\]node_modules[/\\]tsx[/\\]/.test(value);

/**
 * The parent's node flags for the worker, minus two kinds (null when there is nothing to drop: Node's
 * own inheritance is then used as is):
 * - tsx's preloads (the tsx CLI's `--require .../tsx/dist/preflight.cjs --import .../loader.mjs`,
 *   `--import tsx`): boot.mjs registers tsx, once. On Node 20 these preloads register nothing in a
 *   worker (tsx hooks only the main thread there) but cost ~70 ms of loading per worker; on Node
 *   22.22.3+/24.11.1+ they would register tsx a second time.
 * - `--input-type`, which Node refuses in a worker started from a file (a parent run as
 *   `node --input-type=module -e ...` would otherwise fail every worker it starts).
 */
function workerExecArgv(): string[] | null {
  const args = process.execArgv;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const eq = args[i].indexOf('=');
    const flag = eq < 0 ? args[i] : args[i].slice(0, eq);
    if (flag !== '--input-type' && !PRELOAD_FLAGS.has(flag)) {
      out.push(args[i]);
      continue;
    }
    const given = eq < 0 ? args.slice(i, i + 2) : [args[i]];
    const value = eq < 0 ? args[++i] : args[i].slice(eq + 1);
    if (flag !== '--input-type' && !isTsx(value ?? '')) out.push(...given);
  }
  return out.length === args.length ? null : out;
}

/** The execArgv of every worker, null for Node's own inheritance. */
let inherited = workerExecArgv();

/**
 * Runs `moduleUrl` (a TypeScript or JavaScript module, e.g. `new URL('./myWorker.ts', import.meta.url)`)
 * in a new worker thread. `workerData`, a plain object, is what the module reads from
 * node:worker_threads (structured-cloned as usual; SharedArrayBuffers stay shared).
 */
export function startWorker(moduleUrl: URL, workerData?: object, options: StartWorkerOptions = {}): Worker {
  if (workerData !== undefined) {
    const proto: unknown = workerData === null ? undefined : Object.getPrototypeOf(workerData);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError('startWorker: workerData must be a plain object');
    }
    if ('__module' in workerData) throw new TypeError('startWorker: workerData.__module is reserved');
  }
  const [entry, settings]: [URL, WorkerOptions] = COMPILED
    ? [compiled(moduleUrl), { ...options, workerData }]
    : [BOOT, { ...options, workerData: { ...workerData, __module: moduleUrl.href } }];
  if (options.execArgv !== undefined || !inherited) return new Worker(entry, settings);
  try {
    return new Worker(entry, { ...settings, execArgv: inherited });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    // Flags Node passes on implicitly but refuses when listed (V8's --max-old-space-size, --expose-gc):
    // it names them after the colon. Drop them, here and for the next workers.
    const refused = new Set(
      (err as Error).message.slice((err as Error).message.indexOf(': ') + 2).split(', '),
    );
    inherited = inherited.filter((a) => !refused.has(a));
    return new Worker(entry, { ...settings, execArgv: inherited });
  }
}

/**
 * Runs `moduleUrl` in a child process with an IPC channel (`process.send`), for work whose memory
 * must go back to the system when it ends: what this process allocates and frees stays with its
 * allocator. From sources the child runs under tsx; compiled, its `.js` module directly.
 */
export function startChildProcess(moduleUrl: URL, args: string[]): ChildProcess {
  return fork(fileURLToPath(COMPILED ? compiled(moduleUrl) : moduleUrl), args, {
    execArgv: COMPILED ? [] : ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
