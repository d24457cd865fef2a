import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, im2colTransposed } from './layout.ts';
import { free, heapF32, reshape, runWasm } from './wasmOps.ts';

/**
 * dW = im2col(x)^T · dy as one matrix product over N·OH·OW. The transposed
 * im2col is written straight into the wasm heap (row order kh, kw, ci = the
 * filter layout) because the backend's matMul is fast (XNNPACK) only without
 * transposes: with transposeA it runs ~15x slower.
 */
function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  }
  const g = geometry(
    backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
    ),
  );
  const rows = g.kH * g.kW * g.inC;
  const cols = g.batch * g.outH * g.outW;
  const patchesT = backend.makeOutput([1, rows, cols], 'float32');
  im2colTransposed(heapF32(backend, x), g, heapF32(backend, patchesT));
  const b = reshape(backend, dy, [1, cols, g.outC]);
  const prod = runWasm(backend, 'BatchMatMul', { a: patchesT, b }, { transposeA: false, transposeB: false });
  free(backend, patchesT, b);
  const out = reshape(backend, prod, filterShape);
  free(backend, prod);
  return out;
}

export function geometry(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
