import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, dilatePad, geometry, type Phase, phaseFilter, phases } from './layout.ts';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { free, heapF32, reshape, runWasm } from './wasmOps.ts';

/**
 * dx through XNNPACK's fast forward convolution instead of the backend's naive
 * loop. With stride s, the rows/columns of dx fall into s×s phases (ih mod s,
 * iw mod s); each phase is a stride-1 convolution of dy with the flipped taps
 * of the filter that reach it (channels swapped), so no multiply is spent on
 * the zeros of a dilated dy (4x fewer for stride 2). Geometries whose phases
 * would need dy cropped fall back to the dilated formulation.
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
  if (g.inC <= COL2IM_MAX_CHANNELS) return viaCol2im(backend, dy, filter, g);
  const ph = phases(g);
  if (ph === null) return viaDilation(backend, dy, filter, g);
  if (ph.length === 1 && ph[0].rows === g.inH && ph[0].cols === g.inW) {
    // Stride 1: the phase is dx itself.
    return phaseConv(backend, dy, filter, g, ph[0]);
  }
  const dx = backend.makeOutput([g.batch, g.inH, g.inW, g.inC], 'float32');
  if (ph.some((p) => p.empty)) heapF32(backend, dx).fill(0);
  for (const p of ph) {
    if (p.empty) continue;
    const part = phaseConv(backend, dy, filter, g, p);
    layoutKernels(backend).scatterPhase(
      ptr(backend, part),
      ptr(backend, dx),
      g.batch,
      part.shape[1],
      part.shape[2],
      p.rows,
      p.cols,
      g.inH,
      g.inW,
      g.inC,
      p.a,
      p.b,
      g.strideH,
      g.strideW,
    );
    free(backend, part);
  }
  return dx;
}

function phaseConv(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  p: Phase,
): TensorInfo {
  const w = backend.makeOutput([p.tapsH.length, p.tapsW.length, g.outC, g.inC], 'float32');
  phaseFilter(heapF32(backend, filter), g, p, heapF32(backend, w));
  const out = runWasm(backend, 'Conv2D', { x: dy, filter: w }, convAttrs(p.paddings));
  free(backend, w);
  return out;
}

/**
 * Few input channels (a first layer's image): the convolutions above would have 1-4 output
 * channels, which XNNPACK runs at a few GFLOP/s. Instead cols = dy · W^T is one matrix product
 * with K = outC, then col2im adds each tap's column into dx: 17 -> ~4 ms for network H's first
 * layer (tfjs computes that gradient although the image needs none).
 */
const COL2IM_MAX_CHANNELS = 4;

function viaCol2im(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const k = g.kH * g.kW * g.inC;
  const m = g.batch * g.outH * g.outW;
  const lk = layoutKernels(backend);
  // W as [K, outC] transposed to [outC, K]: the backend's matMul is fast only without transposes.
  const wT = backend.makeOutput([1, g.outC, k], 'float32');
  lk.transpose(ptr(backend, filter), ptr(backend, wT), k, g.outC);
  const a = reshape(backend, dy, [1, m, g.outC]);
  const cols = runWasm(backend, 'BatchMatMul', { a, b: wT }, { transposeA: false, transposeB: false });
  free(backend, a, wT);
  const dx = backend.makeOutput([g.batch, g.inH, g.inW, g.inC], 'float32');
  lk.col2im(
    ptr(backend, cols),
    ptr(backend, dx),
    g.batch,
    g.inH,
    g.inW,
    g.inC,
    g.outH,
    g.outW,
    g.kH,
    g.kW,
    g.strideH,
    g.strideW,
    g.padTop,
    g.padLeft,
  );
  free(backend, cols);
  return dx;
}

function viaDilation(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const flipped = runWasm(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const w = runWasm(backend, 'Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  free(backend, flipped);
  const src = backend.makeOutput([g.batch, g.inH + g.kH - 1, g.inW + g.kW - 1, g.outC], 'float32');
  dilatePad(heapF32(backend, dy), g, heapF32(backend, src));
  const out = runWasm(backend, 'Conv2D', { x: src, filter: w }, convAttrs('valid'));
  free(backend, src, w);
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
