import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
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

/** What a wasm kernel function receives, with its inputs and attributes typed by the caller. */
export interface WasmKernelArgs<Inputs, Attrs = NamedAttrMap> {
  inputs: Inputs;
  backend: BackendWasm;
  attrs: Attrs;
}

/**
 * A kernel that replaces one of the backend's for the cases `fast` handles; where it returns
 * undefined, the backend's own kernel runs. `fast` may also call that kernel itself (`original`).
 * The backend's kernel is captured when this is called: before the replacement is registered.
 */
export function wrapWasmKernel<Inputs, Attrs = NamedAttrMap>(
  kernelName: string,
  fast: (
    args: WasmKernelArgs<Inputs, Attrs>,
    original: (args: WasmKernelArgs<Inputs, Attrs>) => TensorInfo,
  ) => TensorInfo | undefined,
): KernelConfig {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel === undefined) throw new Error(`wasm backend has no ${kernelName} kernel`);
  const original = (args: WasmKernelArgs<Inputs, Attrs>) => kernel.kernelFunc(args as never) as TensorInfo;
  const kernelFunc = (args: WasmKernelArgs<Inputs, Attrs>) => fast(args, original) ?? original(args);
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: kernel.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
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
