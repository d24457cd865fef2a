import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type KernelConfig, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';

/**
 * The passes of training-mode batch norm (src/model/batchNorm.ts) as kernels of their own: each
 * reads the activation once, where the same formulas in tf ops take 4-6 full-size passes on the
 * forward and as many on the backward. Only the wasm backend has them; the channel count (the
 * last axis) must be a multiple of 4 (SIMD lanes).
 */
export const BATCH_NORM_KERNELS = {
  /** x [.., C], mean [C] → [C]: Σ (x − mean)². */
  centredSquares: 'BatchNormCentredSquares',
  /** dy, x [.., C], mean [C] → [2C]: Σ dy, then Σ dy·(x − mean). */
  centredDots: 'BatchNormCentredDots',
  /** x [.., C], a, b [C] → x·a + b. */
  channelAffine: 'ChannelAffine',
  /** dy, x [.., C], a, b, d [C] → dy·a + x·b + d. */
  channelAffine2: 'ChannelAffine2',
} as const;

type Backend = { backend: BackendWasm };

function rowsCols(x: TensorInfo): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1];
  if (cols % 4 !== 0) throw new Error(`batch-norm kernels need channels in multiples of 4, got ${cols}`);
  return { rows: util.sizeFromShape(x.shape) / cols, cols };
}

/** A wasm kernel; `p` gives a tensor's byte offset in the backend's heap. */
function config<I>(
  kernelName: string,
  run: (inputs: I, backend: BackendWasm, p: (t: TensorInfo) => number) => TensorInfo,
): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: (({ inputs, backend }: Backend & { inputs: I }) =>
      run(inputs, backend, (t) => ptr(backend, t))) as unknown as KernelFunc,
  };
}

export const batchNormKernelConfigs: readonly KernelConfig[] = [
  config<{ x: TensorInfo; mean: TensorInfo }>(
    BATCH_NORM_KERNELS.centredSquares,
    ({ x, mean }, backend, p) => {
      const { rows, cols } = rowsCols(x);
      const out = backend.makeOutput([cols], 'float32');
      layoutKernels(backend).centredSquares(p(x), p(mean), p(out), rows, cols);
      return out;
    },
  ),
  config<{ dy: TensorInfo; x: TensorInfo; mean: TensorInfo }>(
    BATCH_NORM_KERNELS.centredDots,
    ({ dy, x, mean }, backend, p) => {
      const { rows, cols } = rowsCols(x);
      const out = backend.makeOutput([2 * cols], 'float32');
      layoutKernels(backend).centredDots(p(dy), p(x), p(mean), p(out), rows, cols);
      return out;
    },
  ),
  config<{ x: TensorInfo; a: TensorInfo; b: TensorInfo }>(
    BATCH_NORM_KERNELS.channelAffine,
    ({ x, a, b }, backend, p) => {
      const { rows, cols } = rowsCols(x);
      const y = backend.makeOutput(x.shape, 'float32');
      layoutKernels(backend).channelAffine(p(x), p(a), p(b), p(y), rows, cols);
      return y;
    },
  ),
  config<{ dy: TensorInfo; x: TensorInfo; a: TensorInfo; b: TensorInfo; d: TensorInfo }>(
    BATCH_NORM_KERNELS.channelAffine2,
    ({ dy, x, a, b, d }, backend, p) => {
      const { rows, cols } = rowsCols(x);
      const dx = backend.makeOutput(x.shape, 'float32');
      layoutKernels(backend).channelAffine2(p(dy), p(x), p(a), p(b), p(d), p(dx), rows, cols);
      return dx;
    },
  ),
];
