import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { free, wrapWasmKernel } from './wasmOps.ts';

/** [..., rows, cols] -> [..., cols, rows], matrix by matrix. */
function transposeLast2(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const rows = x.shape[rank - 2];
  const cols = x.shape[rank - 1];
  const shape = [...x.shape.slice(0, -2), cols, rows];
  const out = backend.makeOutput(shape, 'float32');
  const lk = layoutKernels(backend);
  const bytes = rows * cols * 4;
  const matrices = x.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  for (let m = 0; m < matrices; m++) {
    lk.transpose(ptr(backend, x) + m * bytes, ptr(backend, out) + m * bytes, rows, cols);
  }
  return out;
}

/**
 * BatchMatMul with a transposed operand (every dense layer's gradients, the triplet losses'
 * Gram matrix) with that operand transposed in memory first: the backend's matMul is fast
 * (XNNPACK) only without transposes, e.g. 0.5 ms for the [128, 64]^T x [128, 64] weight gradient.
 */
export function matMulConfig(): KernelConfig {
  type Inputs = { a: TensorInfo; b: TensorInfo };
  return wrapWasmKernel<Inputs, BatchMatMulAttrs>('BatchMatMul', ({ inputs, backend, attrs }, original) => {
    const { a, b } = inputs;
    if ((!attrs.transposeA && !attrs.transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') {
      return undefined;
    }
    const a2 = attrs.transposeA ? transposeLast2(backend, a) : a;
    const b2 = attrs.transposeB ? transposeLast2(backend, b) : b;
    const out = original({
      inputs: { a: a2, b: b2 },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
    if (a2 !== a) free(backend, a2);
    if (b2 !== b) free(backend, b2);
    return out;
  });
}
