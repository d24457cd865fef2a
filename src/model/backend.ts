import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createLogger } from '../log.ts';
import { registerWasmKernels } from './kernels/index.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

const log = createLogger('backend');
let chosen: Promise<string> | undefined;

function isBackendName(name: string): name is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(name);
}

/** Loads the package that registers a backend; false (with the reason logged) when it cannot load here. */
async function loadBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // A variable specifier: the optional package is usually absent, and its
      // types must not be required to type-check this file.
      const pkg = '@tensorflow/tfjs-node';
      await import(pkg);
    } else if (name === 'wasm') {
      await import('@tensorflow/tfjs-backend-wasm');
    }
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    if (name === 'wasm') registerWasmKernels();
    return true;
  } catch (err) {
    log.debug({ backend: name, err: (err as Error).message }, 'backend unavailable');
    return false;
  }
}

/**
 * Selects the tfjs backend: `preferred` (default: TFJS_BACKEND) if given, else the first of
 * tensorflow → wasm → cpu that loads. An explicitly requested backend that fails to load is an
 * error rather than a silent fallback, so that benchmarks never measure the wrong thing.
 */
export async function initBackend(preferred: string | undefined = process.env.TFJS_BACKEND): Promise<string> {
  const wanted = preferred?.trim() || undefined;
  if (wanted !== undefined && !isBackendName(wanted)) {
    throw new Error(`unknown tfjs backend '${wanted}' (expected one of ${BACKEND_ORDER.join(', ')})`);
  }
  const candidates = wanted ? [wanted] : BACKEND_ORDER;
  for (const name of candidates) {
    if (await loadBackend(name)) {
      log.info({ backend: name, requested: wanted ?? null }, 'tfjs backend selected');
      chosen = Promise.resolve(name);
      return name;
    }
  }
  throw new Error(`tfjs backend '${wanted}' could not be loaded`);
}

/** initBackend() once per process unless a caller already chose one; returns the active backend. */
export function ensureBackend(): Promise<string> {
  chosen ??= initBackend();
  return chosen;
}
