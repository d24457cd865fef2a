import '@tensorflow/tfjs-backend-wasm';
import { getKernel, type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2dBackpropFilter.ts';
import { conv2DBackpropInputConfig } from './conv2dBackpropInput.ts';

/** The project's kernels for the wasm backend, replacing any of the same name. */
export const WASM_KERNELS: readonly KernelConfig[] = [conv2DBackpropFilterConfig, conv2DBackpropInputConfig];

/**
 * Registers the project's own kernels on the wasm backend so that training
 * works there (tfjs-backend-wasm ships no Conv2DBackpropFilter and a slow
 * Conv2DBackpropInput). Safe to call before or after the wasm backend is
 * initialised, and any number of times.
 */
export function registerWasmKernels(): void {
  for (const config of WASM_KERNELS) {
    if (getKernel(config.kernelName, config.backendName) === config) continue;
    if (getKernel(config.kernelName, config.backendName) !== undefined) {
      unregisterKernel(config.kernelName, config.backendName);
    }
    registerKernel(config);
  }
}
