export type VectorArray = Float32Array | Float64Array | Uint8Array;

export interface SearchJob {
  queries: VectorArray;
  gallery: VectorArray;
  dim: number;
  k: number;
  labelDepth: number;
  galleryLabels: Uint8Array | null;
  leaveOneOut: boolean;
  outIndices: Int32Array;
  outDistances: Float64Array;
  outLabels: Uint8Array | null;
}

export function squaredDistanceRows(
  queries: VectorArray,
  gallery: VectorArray,
  dim: number,
  q0: number,
  q1: number,
  rows: Float64Array,
): void;

export function searchRange(job: SearchJob, q0: number, q1: number, onBlock?: (done: number) => void): void;
export interface Selector {
  readonly sample: Float64Array;
}
export function createSelector(n: number): Selector;
export function topKSorted(
  sel: Selector,
  row: Float64Array,
  n: number,
  skip: number,
  k: number,
  outIdx: Int32Array,
  outKeys: Float64Array,
): void;
