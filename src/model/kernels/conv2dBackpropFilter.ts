import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { directConvInputs, TILE_CHANNELS } from './directConv.ts';
import { type ConvGeometry, geometry, paddedInputSize } from './layout.ts';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { free, heapF32, reshape, runWasm } from './wasmOps.ts';
import { winogradApplies, winogradFilterGrad } from './winograd.ts';

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
  if (g.outC % TILE_CHANNELS !== 0) return im2colFilterGrad(backend, x, dy, g, filterShape);
  return winogradApplies(g)
    ? winogradFilterGrad(backend, x, dy, g, filterShape)
    : directFilterGrad(backend, x, dy, g, filterShape);
}

/**
 * dW accumulated tile by tile in registers by layout.wat's convFilterGrad, straight from a padded
 * copy of x and from dy: no im2col matrix (14 MB for a 3x3x16 filter at batch 128), whose writing
 * cost as much as the matrix product itself. Needs outC to be a multiple of 8 (the tile width).
 */
function directFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: number[],
): TensorInfo {
  const real = g.kH * g.kW * g.inC;
  const { hp, wp } = paddedInputSize(g);
  const { xp, rowOff, rows } = directConvInputs(backend, x, g);
  const out = backend.makeOutput(filterShape, 'float32');
  const dw = rows === real ? out : backend.makeOutput([rows, g.outC], 'float32');
  heapF32(backend, dw).fill(0);
  layoutKernels(backend).convFilterGrad(
    ptr(backend, xp),
    ptr(backend, dy),
    ptr(backend, dw),
    ptr(backend, rowOff),
    rows,
    g.batch,
    g.outH,
    g.outW,
    g.outC,
    hp * wp * g.inC * 4,
    g.strideH * wp * g.inC * 4,
    g.strideW * g.inC * 4,
  );
  if (dw !== out) {
    heapF32(backend, out).set(heapF32(backend, dw).subarray(0, real * g.outC));
    free(backend, dw);
  }
  free(backend, xp, rowOff);
  return out;
}

/**
 * dW = im2col(x)^T · dy as one matrix product over N·OH·OW, for filters whose outC does not suit
 * the direct kernel. The transposed im2col (rows kh, kw, ci = the filter layout; columns = output
 * pixels) is written straight into the wasm heap by layout.wat from a channel-major copy of x,
 * because the backend's matMul is fast (XNNPACK) only without transposes (~15x slower with
 * transposeA), and fastest when its second operand, which it packs on every call, is the small dy.
 */
function im2colFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: number[],
): TensorInfo {
  const k = g.kH * g.kW * g.inC;
  const m = g.batch * g.outH * g.outW;
  const lk = layoutKernels(backend);
  const patchesT = backend.makeOutput([1, k, m], 'float32');
  let xc = x;
  if (g.inC > 1) {
    xc = backend.makeOutput([g.inC, g.batch * g.inH * g.inW], 'float32');
    lk.transpose(ptr(backend, x), ptr(backend, xc), g.batch * g.inH * g.inW, g.inC);
  }
  const rowBytes = m * 4;
  for (let i = 0; i < g.kH; i++) {
    for (let j = 0; j < g.kW; j++) {
      const dj = j - g.padLeft;
      // Output columns whose input column is inside the image.
      const lo = Math.min(g.outW, Math.max(0, Math.ceil(-dj / g.strideW)));
      const hi = Math.max(lo, Math.min(g.outW, Math.floor((g.inW - 1 - dj) / g.strideW) + 1));
      const tapRows = ptr(backend, patchesT) + (i * g.kW + j) * g.inC * rowBytes;
      lk.im2colTap(
        ptr(backend, xc),
        tapRows,
        g.inC * g.batch,
        g.inH,
        g.inW,
        g.outH,
        g.outW,
        g.strideH,
        g.strideW,
        i - g.padTop,
        dj,
        lo,
        hi,
      );
    }
  }
  if (xc !== x) free(backend, xc);
  const b = reshape(backend, dy, [1, m, g.outC]);
  const prod = runWasm(backend, 'BatchMatMul', { a: patchesT, b }, { transposeA: false, transposeB: false });
  free(backend, patchesT, b);
  const out = reshape(backend, prod, filterShape);
  free(backend, prod);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
