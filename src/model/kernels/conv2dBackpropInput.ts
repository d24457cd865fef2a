import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { geometry } from './conv2dBackpropFilter.ts';
import { dilatePad } from './layout.ts';
import { free, heapF32, runWasm } from './wasmOps.ts';

/**
 * dx = valid stride-1 convolution of the zero-dilated, padded dy with the
 * spatially flipped filter whose in/out channels are swapped: it runs on
 * XNNPACK's fast forward convolution instead of the backend's naive loop.
 */
function conv2DBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${dataFormat}`);
  }
  const g = geometry(
    backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    ),
  );
  const top = g.kH - 1 - g.padTop;
  const left = g.kW - 1 - g.padLeft;
  const bottom = g.inH + g.kH - 1 - top - g.outH;
  const right = g.inW + g.kW - 1 - left - g.outW;
  const flipped = runWasm(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const w = runWasm(backend, 'Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  free(backend, flipped);
  let out: TensorInfo;
  if (g.strideH === 1 && g.strideW === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0) {
    // No dilation needed: the convolution's own padding does it.
    const paddings = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    out = runWasm(backend, 'Conv2D', { x: dy, filter: w }, convAttrs(paddings));
  } else {
    const src = backend.makeOutput([g.batch, g.inH + g.kH - 1, g.inW + g.kW - 1, g.outC], 'float32');
    dilatePad(heapF32(backend, dy), g, heapF32(backend, src));
    out = runWasm(backend, 'Conv2D', { x: src, filter: w }, convAttrs('valid'));
    free(backend, src);
  }
  free(backend, w);
  return out;
}

function convAttrs(pad: number[][] | 'valid') {
  return { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] };
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
