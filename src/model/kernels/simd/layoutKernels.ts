import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { LAYOUT_WASM_BASE64 } from './layoutWasm.ts';

/** The exports of layout.wat; pointers are byte offsets into the backend's heap. */
export interface LayoutKernels {
  im2colTap(
    xc: number,
    out: number,
    images: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
    di: number,
    dj: number,
    lo: number,
    hi: number,
  ): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  scatterPhase(
    part: number,
    dx: number,
    n: number,
    pRows: number,
    pCols: number,
    rows: number,
    cols: number,
    h: number,
    w: number,
    c: number,
    a: number,
    b: number,
    sh: number,
    sw: number,
  ): void;
  sumMiddle(src: number, dst: number, outer: number, rows: number, cols: number, scale: number): void;
}

// The project's TypeScript libs (ES2023, no DOM) declare no WebAssembly global: the little used here, typed.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;
const instances = new WeakMap<object, LayoutKernels>();

/** The layout kernels bound to this backend's memory (one small instance per wasm backend). */
export function layoutKernels(backend: BackendWasm): LayoutKernels {
  // The emscripten module keeps its exports, the heap's Memory among them, on `asm`.
  const memory = (backend.wasm as unknown as { asm: { memory: object } }).asm.memory;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    compiled ??= new WA.Module(Buffer.from(LAYOUT_WASM_BASE64, 'base64'));
    const instance = new WA.Instance(compiled, { env: { memory } });
    kernels = instance.exports as unknown as LayoutKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

export function ptr(backend: BackendWasm, info: TensorInfo): number {
  return backend.getMemoryOffset(info.dataId) as number;
}
