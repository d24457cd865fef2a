import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DAttrs,
  type FusedConv2DAttrs,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { geometry } from './conv2dBackpropFilter.ts';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { free, reshape, runWasm } from './wasmOps.ts';

/** Up to this many input channels, XNNPACK's convolution runs at a few GFLOP/s (see convViaIm2col). */
const SMALL_CHANNELS = 4;

/**
 * A convolution with 1-4 input channels (a first layer on grayscale images) as im2col + one matrix
 * product: XNNPACK's convolution takes 13 ms for network H's first layer at batch 128 (28x28, 1 -> 32
 * channels, 58 MFLOP), this about a third of that. Fused bias/activation and other cases go to
 * the backend's kernel.
 */
function convViaIm2col(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const g = geometry(info);
  const k = g.kH * g.kW * g.inC;
  const m = g.batch * g.outH * g.outW;
  const lk = layoutKernels(backend);
  let xc = x;
  if (g.inC > 1) {
    xc = backend.makeOutput([g.inC, g.batch * g.inH * g.inW], 'float32');
    lk.transpose(ptr(backend, x), ptr(backend, xc), g.batch * g.inH * g.inW, g.inC);
  }
  const patchesT = backend.makeOutput([k, m], 'float32');
  for (let i = 0; i < g.kH; i++) {
    for (let j = 0; j < g.kW; j++) {
      const dj = j - g.padLeft;
      const lo = Math.min(g.outW, Math.max(0, Math.ceil(-dj / g.strideW)));
      const hi = Math.max(lo, Math.min(g.outW, Math.floor((g.inW - 1 - dj) / g.strideW) + 1));
      const tapRows = ptr(backend, patchesT) + (i * g.kW + j) * g.inC * m * 4;
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
  const patches = backend.makeOutput([1, m, k], 'float32');
  lk.transpose(ptr(backend, patchesT), ptr(backend, patches), k, m);
  free(backend, patchesT);
  const w = reshape(backend, filter, [1, k, g.outC]);
  const prod = runWasm(
    backend,
    'BatchMatMul',
    { a: patches, b: w },
    { transposeA: false, transposeB: false },
  );
  free(backend, patches, w);
  const out = reshape(backend, prod, [g.batch, g.outH, g.outW, g.outC]);
  free(backend, prod);
  return out;
}

type ConvArgs = {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
  backend: BackendWasm;
  attrs: FusedConv2DAttrs;
};

/** The geometry when the im2col path applies (few channels, NHWC, no dilation), else undefined. */
function smallConv(
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
): backend_util.Conv2DInfo | undefined {
  const dilations = attrs.dilations ?? 1;
  const plain = (Array.isArray(dilations) ? dilations : [dilations]).every((d) => d === 1);
  if (!plain || (attrs.dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32') return undefined;
  if (x.shape[3] > SMALL_CHANNELS) return undefined;
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function wrap(kernelName: 'Conv2D' | 'FusedConv2D'): KernelConfig {
  const original = getKernel(kernelName, 'wasm');
  if (original === undefined) throw new Error(`wasm backend has no ${kernelName} kernel`);
  const kernelFunc = (args: ConvArgs) => {
    const { inputs, backend, attrs } = args;
    // Only the unfused form of FusedConv2D (what layers emit for a conv without bias or activation).
    const unfused =
      kernelName === 'Conv2D' || (inputs.bias == null && (attrs.activation ?? 'linear') === 'linear');
    const info = unfused ? smallConv(inputs.x, inputs.filter, attrs) : undefined;
    if (info === undefined) return original.kernelFunc(args as never);
    return convViaIm2col(backend, inputs.x, inputs.filter, info);
  };
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

export const conv2DSmallConfig = (): KernelConfig => wrap('Conv2D');
export const fusedConv2DSmallConfig = (): KernelConfig => wrap('FusedConv2D');
