import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type CastAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { RELU_GRAD } from './gradients.ts';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { heapArray, wrapWasmKernel } from './wasmOps.ts';

type Heap = Float32Array | Int32Array | Uint8Array;
type Op = (a: number, b: number) => number;

/**
 * The wasm backend runs comparisons, logical ops and maximum/minimum through XNNPACK only when both
 * shapes are equal; with broadcasting (the gradients of max/min reductions, the triplet masks)
 * its generic C++ loop costs ~100 ns per element. This plain loop over broadcast strides is 50x
 * faster; equal shapes still go to the backend's own kernel.
 */
const OPS: Record<string, { op: Op; bool: boolean }> = {
  Equal: { op: (a, b) => (a === b ? 1 : 0), bool: true },
  NotEqual: { op: (a, b) => (a !== b ? 1 : 0), bool: true },
  Greater: { op: (a, b) => (a > b ? 1 : 0), bool: true },
  GreaterEqual: { op: (a, b) => (a >= b ? 1 : 0), bool: true },
  Less: { op: (a, b) => (a < b ? 1 : 0), bool: true },
  LessEqual: { op: (a, b) => (a <= b ? 1 : 0), bool: true },
  LogicalAnd: { op: (a, b) => (a && b ? 1 : 0), bool: true },
  LogicalOr: { op: (a, b) => (a || b ? 1 : 0), bool: true },
  Maximum: { op: Math.max, bool: false },
  Minimum: { op: Math.min, bool: false },
};

/** Strides of `shape` padded on the left to `rank` dims, 0 along broadcast dims. */
function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const dim = rank - shape.length + i;
    strides[dim] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

export function broadcastBinary(
  a: Heap,
  aShape: number[],
  b: Heap,
  bShape: number[],
  outShape: number[],
  out: Heap,
  op: Op,
): void {
  const rank = outShape.length;
  if (rank === 0) {
    out[0] = op(a[0], b[0]);
    return;
  }
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const inner = outShape[rank - 1];
  const ia = sa[rank - 1];
  const ib = sb[rank - 1];
  const outer = out.length / inner;
  const idx = new Array<number>(rank).fill(0);
  let offA = 0;
  let offB = 0;
  let o = 0;
  for (let r = 0; r < outer; r++) {
    let pa = offA;
    let pb = offB;
    for (let j = 0; j < inner; j++, pa += ia, pb += ib) out[o++] = op(a[pa], b[pb]);
    // Odometer over the outer dims.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      offA += sa[d];
      offB += sb[d];
      if (idx[d] < outShape[d]) break;
      offA -= sa[d] * outShape[d];
      offB -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function broadcastConfig(kernelName: string, op: Op, bool: boolean): KernelConfig {
  return wrapWasmKernel<{ a: TensorInfo; b: TensorInfo }>(kernelName, (args) => {
    const { a, b } = args.inputs;
    if (sameShape(a.shape, b.shape) || a.dtype === 'string') return undefined;
    const { backend } = args;
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeOutput(outShape, bool ? 'bool' : a.dtype);
    if (outShape.some((d) => d === 0)) return out;
    broadcastBinary(
      heapArray(backend, a),
      a.shape,
      heapArray(backend, b),
      b.shape,
      outShape,
      heapArray(backend, out),
      op,
    );
    return out;
  });
}

/** Built lazily: they wrap the backend's kernels, which must be registered first. */
export function broadcastKernelConfigs(): KernelConfig[] {
  return Object.entries(OPS).map(([name, { op, bool }]) => broadcastConfig(name, op, bool));
}

/**
 * Identity as an alias of its input (the engine tracks references per data id, as on the cpu
 * backend) instead of the backend's full copy: the optimizer and layers call it on every weight and
 * activation, 60-70 times per training step.
 */
export const identityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: { inputs: { x: TensorInfo }; backend: BackendWasm }) => {
    backend.incRef(inputs.x.dataId);
    return { dataId: inputs.x.dataId, shape: inputs.x.shape, dtype: inputs.x.dtype };
  }) as unknown as KernelFunc,
};

/**
 * Add of a vector along the last axis (a bias on every pixel: [N, H, W, C] + [C]) as one SIMD pass;
 * the backend's broadcasting Add took 1.2 ms for [128, 14, 14, 32] + [32]. Other adds go to it.
 */
export function biasAddConfig(): KernelConfig {
  const isBias = (x: TensorInfo, v: TensorInfo) =>
    x.shape.length >= 2 && v.shape.length === 1 && v.shape[0] === x.shape[x.shape.length - 1];
  return wrapWasmKernel<{ a: TensorInfo; b: TensorInfo }>('Add', ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
    const [x, v] = isBias(a, b) ? [a, b] : isBias(b, a) ? [b, a] : [];
    if (x === undefined || v === undefined) return undefined;
    const out = backend.makeOutput(x.shape, 'float32');
    const cols = v.shape[0];
    const rows = util.sizeFromShape(x.shape) / cols;
    layoutKernels(backend).addRowVector(ptr(backend, x), ptr(backend, v), ptr(backend, out), rows, cols);
    return out;
  });
}

/**
 * Cast to the dtype a tensor already has as an alias, like Identity: the ReLU gradient casts its
 * float32 step mask to float32 on every layer, which the backend copies.
 */
export function castConfig(): KernelConfig {
  return wrapWasmKernel<{ x: TensorInfo }, CastAttrs>('Cast', ({ inputs, backend, attrs }) =>
    attrs.dtype === inputs.x.dtype
      ? (identityConfig.kernelFunc({ inputs, backend, attrs: {} }) as TensorInfo)
      : undefined,
  );
}

export const reluGradKernelConfig: KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend }: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: BackendWasm }) => {
    const { dy, x } = inputs;
    const dx = backend.makeOutput(x.shape, 'float32');
    layoutKernels(backend).reluGrad(
      ptr(backend, dy),
      ptr(backend, x),
      ptr(backend, dx),
      util.sizeFromShape(x.shape),
    );
    return dx;
  }) as unknown as KernelFunc,
};
