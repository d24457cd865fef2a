import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from './layout.ts';
import { heapArray } from './wasmOps.ts';

/**
 * The offset tables of the convolution loops depend on the geometry only, and a training step meets
 * the same few geometries every time: computing them took 0.2 ms per convolution at batch 128.
 */
const tables = new Map<string, Int32Array>();
const TABLES_KEPT = 64;

/**
 * An int32 tensor in the backend's heap holding the table `fill` writes for this kind, geometry and
 * length (computed once, copied per call). The caller frees it.
 */
export function offsetTable(
  backend: BackendWasm,
  kind: string,
  g: ConvGeometry,
  length: number,
  fill: (g: ConvGeometry, length: number, out: Int32Array) => void,
): TensorInfo {
  const key = `${kind} ${length} ${Object.values(g).join(',')}`;
  let table = tables.get(key);
  if (table === undefined) {
    if (tables.size >= TABLES_KEPT) tables.clear();
    table = new Int32Array(length);
    fill(g, length, table);
    tables.set(key, table);
  }
  const info = backend.makeOutput([length], 'int32');
  heapArray(backend, info).set(table);
  return info;
}
