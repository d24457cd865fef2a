import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  getKernel,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

/**
 * Runs another kernel of the wasm backend directly, below the engine: the
 * result is an untracked TensorInfo that the caller must free with `free`
 * (or return as a kernel output). Going through public tf ops inside a kernel
 * would create engine-tracked tensors whose ownership is awkward to hand back.
 */
export function runWasm(
  backend: BackendWasm,
  kernelName: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel === undefined) throw new Error(`wasm backend has no ${kernelName} kernel`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
  return out;
}

export function free(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A view with a new shape that shares the data (Reshape of the wasm backend only bumps a refcount). */
export function reshape(backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  return runWasm(backend, 'Reshape', { x }, { shape });
}

/**
 * A Float32Array over the tensor's bytes in the wasm heap. Take it after every
 * allocation that precedes its use: growing the heap detaches older views.
 */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function heapArray(backend: BackendWasm, info: TensorInfo): Float32Array | Int32Array | Uint8Array {
  return backend.typedArrayFromHeap(info) as Float32Array | Int32Array | Uint8Array;
}
