import '@tensorflow/tfjs-backend-wasm';
import {
  getGradient,
  getKernel,
  type KernelConfig,
  registerGradient,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import { batchNormKernelConfigs } from './batchNorm.ts';
import { conv2DBackpropFilterConfig } from './conv2dBackpropFilter.ts';
import { conv2DBackpropInputConfig } from './conv2dBackpropInput.ts';
import { conv2DConfig, fusedConv2DConfig } from './directConv.ts';
import {
  biasAddConfig,
  broadcastKernelConfigs,
  castConfig,
  identityConfig,
  reluGradKernelConfig,
} from './elementwise.ts';
import { meanGradConfig, reluGradConfig } from './gradients.ts';
import { matMulConfig } from './matMul.ts';
import { maxPoolGradConfig } from './pool.ts';
import { meanConfig, sumConfig } from './reduce.ts';

let configs: KernelConfig[] | undefined;

/**
 * The project's kernels for the wasm backend. Built once, on first use: some wrap the backend's
 * own kernel for the cases they do not speed up, and must capture it before replacing it.
 */
export function wasmKernelConfigs(): readonly KernelConfig[] {
  configs ??= [
    conv2DConfig(),
    fusedConv2DConfig(),
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    identityConfig,
    biasAddConfig(),
    castConfig(),
    matMulConfig(),
    reluGradKernelConfig,
    sumConfig(),
    meanConfig(),
    maxPoolGradConfig(),
    ...broadcastKernelConfigs(),
    ...batchNormKernelConfigs,
  ];
  return configs;
}

/**
 * Registers the project's own kernels on the wasm backend so that training works there, and fast
 * (tfjs-backend-wasm ships no Conv2DBackpropFilter, a naive Conv2DBackpropInput, and slow paths
 * for bias adds, transposed matMuls, broadcasting comparisons, reductions over leading axes,
 * Identity and same-type Cast; its Conv2D is slower than the project's tiled loop), and the
 * gradients of Mean and ReLU. Safe to call before or after the wasm backend is initialised, and
 * any number of times.
 */
export function registerWasmKernels(): void {
  for (const config of wasmKernelConfigs()) {
    if (getKernel(config.kernelName, config.backendName) === config) continue;
    if (getKernel(config.kernelName, config.backendName) !== undefined) {
      unregisterKernel(config.kernelName, config.backendName);
    }
    registerKernel(config);
  }
  for (const grad of [meanGradConfig, reluGradConfig]) {
    if (getGradient(grad.kernelName) !== grad) registerGradient(grad);
  }
}

export { useWasmThreads } from './threads.ts';
