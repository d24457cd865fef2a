import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { LAYOUT_WASM_BASE64, LAYOUT_WASM_SHARED_BASE64 } from './layoutWasm.ts';
import { enableRelaxedSimd } from './relaxedSimd.ts';

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
  col2im(
    cols: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
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
  maxPoolGradTiles(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
  ): void;
  convFilterGrad(
    xp: number,
    dy: number,
    dw: number,
    rowOff: number,
    rows: number,
    n: number,
    oh: number,
    ow: number,
    co: number,
    xImgBytes: number,
    xRowBytes: number,
    xColBytes: number,
  ): void;
  convForward(
    xp: number,
    w: number,
    y: number,
    pixOff: number,
    rowOff: number,
    pixels: number,
    rows: number,
    co: number,
  ): void;
  addRowVector(src: number, vec: number, dst: number, rows: number, cols: number): void;
  reluGrad(dy: number, x: number, dx: number, n: number): void;
  centredSquares(x: number, mean: number, out: number, rows: number, cols: number): void;
  centredDots(dy: number, x: number, mean: number, out: number, rows: number, cols: number): void;
  channelAffine(x: number, a: number, b: number, y: number, rows: number, cols: number): void;
  channelAffine2(
    dy: number,
    x: number,
    a: number,
    b: number,
    d: number,
    dx: number,
    rows: number,
    cols: number,
  ): void;
  sumMiddle(src: number, dst: number, outer: number, rows: number, cols: number, scale: number): void;
  winogradInput(
    xp: number,
    tileOff: number,
    count: number,
    c: number,
    rowBytes: number,
    v: number,
    plane: number,
  ): void;
  winogradGradTiles(
    dy: number,
    tileOff: number,
    count: number,
    k: number,
    rowBytes: number,
    w: number,
    plane: number,
  ): void;
  winogradOutput(
    m: number,
    tileOut: number,
    count: number,
    k: number,
    rowBytes: number,
    y: number,
    plane: number,
  ): void;
}

// The project's TypeScript libs (ES2023, no DOM) declare no WebAssembly global: the little used here, typed.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface WasmMemory {
  buffer: ArrayBufferLike;
}

const compiled = new Map<boolean, object>();
const instances = new WeakMap<object, LayoutKernels>();

/** The layout kernels bound to this backend's memory (one small instance per wasm backend). */
export function layoutKernels(backend: BackendWasm): LayoutKernels {
  // The heap's Memory: exported by the plain build (on `asm`), created in JS by the threaded one.
  const module = backend.wasm as unknown as { wasmMemory?: WasmMemory; asm: { memory?: WasmMemory } };
  const memory = module.wasmMemory ?? module.asm.memory;
  if (memory === undefined) throw new Error('cannot find the wasm backend memory');
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    // The threaded build (see threads.ts) has a shared memory, which needs the shared variant.
    const shared = memory.buffer instanceof SharedArrayBuffer;
    let module = compiled.get(shared);
    if (module === undefined) {
      enableRelaxedSimd();
      module = new WA.Module(Buffer.from(shared ? LAYOUT_WASM_SHARED_BASE64 : LAYOUT_WASM_BASE64, 'base64'));
      compiled.set(shared, module);
    }
    const instance = new WA.Instance(module, { env: { memory } });
    kernels = instance.exports as unknown as LayoutKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

export function ptr(backend: BackendWasm, info: TensorInfo): number {
  return backend.getMemoryOffset(info.dataId) as number;
}
