import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { backend_util, type Conv2DAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  type ConvGeometry,
  filterRowOffsets,
  geometry,
  paddedInputSize,
  padInput,
  pixelOffsets,
  roundUp4,
} from './layout.ts';
import { offsetTable } from './offsetTables.ts';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { free, heapF32, wrapWasmKernel } from './wasmOps.ts';
import { winogradApplies, winogradConv2D } from './winograd.ts';

/** The tile width of layout.wat's convolution loops: output channels must be a multiple of it. */
export const TILE_CHANNELS = 8;

/**
 * What the direct convolution loops read: x zero-padded so that no tap needs a bounds check, and
 * the byte offset of every filter row's element (rows rounded up to 4 for the filter gradient's
 * 4-row tiles). The caller frees both.
 */
export function directConvInputs(
  backend: BackendWasm,
  x: TensorInfo,
  g: ConvGeometry,
): { xp: TensorInfo; rowOff: TensorInfo; rows: number } {
  const rows = roundUp4(g.kH * g.kW * g.inC);
  const { hp, wp } = paddedInputSize(g);
  const xp = backend.makeOutput([g.batch, hp, wp, g.inC], 'float32');
  padInput(heapF32(backend, x), g, heapF32(backend, xp));
  const rowOff = offsetTable(backend, 'rows', g, rows, filterRowOffsets);
  return { xp, rowOff, rows };
}

function directConv2D(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  if (winogradApplies(g)) return winogradConv2D(backend, x, filter, g);
  const real = g.batch * g.outH * g.outW;
  const pixels = roundUp4(real);
  const { xp, rowOff } = directConvInputs(backend, x, g);
  const pixOff = offsetTable(backend, 'pixels', g, pixels, pixelOffsets);
  const out = backend.makeOutput([g.batch, g.outH, g.outW, g.outC], 'float32');
  const y = pixels === real ? out : backend.makeOutput([pixels, g.outC], 'float32');
  layoutKernels(backend).convForward(
    ptr(backend, xp),
    ptr(backend, filter),
    ptr(backend, y),
    ptr(backend, pixOff),
    ptr(backend, rowOff),
    pixels,
    g.kH * g.kW * g.inC,
    g.outC,
  );
  if (y !== out) {
    heapF32(backend, out).set(heapF32(backend, y).subarray(0, real * g.outC));
    free(backend, y);
  }
  free(backend, xp, rowOff, pixOff);
  return out;
}

const isOne = (d: number | [number, number] | undefined) =>
  d === undefined || d === 1 || (Array.isArray(d) && d[0] === 1 && d[1] === 1);

type ConvInputs = { x: TensorInfo; filter: TensorInfo };

/**
 * The geometry of a convolution that layout.wat's loop computes (NHWC, no dilation, output channels a
 * multiple of 8), or undefined.
 */
function directGeometry({ x, filter }: ConvInputs, attrs: Conv2DAttrs): ConvGeometry | undefined {
  const nhwc = attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC';
  if (!nhwc || !isOne(attrs.dilations) || filter.shape[3] % TILE_CHANNELS !== 0 || x.dtype !== 'float32') {
    return undefined;
  }
  return geometry(
    backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    ),
  );
}

/**
 * Conv2D by layout.wat's register-tiled loop where it applies (3x3 stride 1 by Winograd on top of
 * it): measured faster than the backend's XNNPACK convolution on the networks' layers, and the
 * convolutions inside Conv2DBackpropInput go through it too. Other cases go to the backend's kernel.
 */
export function conv2DConfig(): KernelConfig {
  return wrapWasmKernel<ConvInputs, Conv2DAttrs>('Conv2D', ({ inputs, backend, attrs }) => {
    const g = directGeometry(inputs, attrs);
    return g && directConv2D(backend, inputs.x, inputs.filter, g);
  });
}

/**
 * FusedConv2D without bias or activation by the same loop: tfjs-layers' Conv2D calls the fused op
 * whenever its activation is linear, training included (network H's convolutions, which a batch
 * norm follows). With a bias, an activation or PReLU weights the backend's kernel runs.
 */
export function fusedConv2DConfig(): KernelConfig {
  type FusedInputs = ConvInputs & { bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  type FusedAttrs = Conv2DAttrs & { activation?: string };
  return wrapWasmKernel<FusedInputs, FusedAttrs>('FusedConv2D', ({ inputs, backend, attrs }) => {
    const plain = inputs.bias === undefined && inputs.preluActivationWeights === undefined;
    if (!plain || (attrs.activation !== undefined && attrs.activation !== 'linear')) return undefined;
    const g = directGeometry(inputs, attrs);
    return g && directConv2D(backend, inputs.x, inputs.filter, g);
  });
}
