import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type SumAttrs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';

/**
 * Sum over the leading axes of a float32 tensor (the bias gradients: NHWC activations summed over
 * N, H, W) as one SIMD pass of column sums; the backend transposes the tensor first (slow on
 * the wasm backend) to bring the reduced axes innermost. Other sums go to the backend's kernel.
 */
export function sumConfig(): KernelConfig {
  const original = getKernel('Sum', 'wasm');
  if (original === undefined) throw new Error('wasm backend has no Sum kernel');
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs }) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const axes = util.parseAxisParam(attrs.axis, x.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((axis, i) => axis === i);
    if (!leading || x.dtype !== 'float32') return original.kernelFunc(args as never);
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const kept = x.shape.slice(axes.length);
    const outShape = attrs.keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept;
    const out = backend.makeOutput(outShape, 'float32');
    layoutKernels(backend).sumRows(ptr(backend, x), ptr(backend, out), rows, util.sizeFromShape(kept));
    return out;
  };
  return {
    kernelName: 'Sum',
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}
