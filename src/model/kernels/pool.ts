import {
  backend_util,
  type KernelConfig,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { heapF32, wrapWasmKernel } from './wasmOps.ts';

/**
 * Routes each dy to the first maximum of its window (scan order row, column: the cpu backend's
 * rule), windows outer and channels inner so that memory is read in order: the general case. The
 * backend's C++ kernel takes 70 ms of CPU for the 2x2 pooling of network H at batch 128
 * (28x28x32); non-overlapping windows go through one SIMD pass (layout.wat) instead.
 */
export function maxPoolGradInto(
  x: Float32Array,
  dy: Float32Array,
  info: backend_util.Conv2DInfo,
  dx: Float32Array,
  best: Float32Array,
  bestAt: Int32Array,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
  } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  dx.fill(0);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      const r0 = yr * strideHeight - top;
      for (let yc = 0; yc < outWidth; yc++, o += c) {
        const c0 = yc * strideWidth - left;
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let r = Math.max(0, r0); r < Math.min(inHeight, r0 + fh); r++) {
          for (let col = Math.max(0, c0); col < Math.min(inWidth, c0 + fw); col++) {
            const base = ((b * inHeight + r) * inWidth + col) * c;
            for (let d = 0; d < c; d++) {
              const v = x[base + d];
              if (v > best[d]) {
                best[d] = v;
                bestAt[d] = base + d;
              }
            }
          }
        }
        for (let d = 0; d < c; d++) if (bestAt[d] >= 0) dx[bestAt[d]] += dy[o + d];
      }
    }
  }
}

export function maxPoolGradConfig(): KernelConfig {
  return wrapWasmKernel<{ dy: TensorInfo; input: TensorInfo }, MaxPoolGradAttrs>('MaxPoolGrad', (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs;
    if (input.dtype !== 'float32') return undefined;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const dx = backend.makeOutput(input.shape, 'float32');
    const c = info.inChannels;
    const { filterHeight: fh, filterWidth: fw, strideHeight, strideWidth, padInfo } = info;
    const tiles = strideHeight === fh && strideWidth === fw && padInfo.top === 0 && padInfo.left === 0;
    if (tiles && c % 4 === 0) {
      // Non-overlapping windows (network H's 2x2 pooling): one SIMD pass; rows/columns past the last
      // whole window get no gradient.
      if (info.outHeight * fh !== info.inHeight || info.outWidth * fw !== info.inWidth)
        heapF32(backend, dx).fill(0);
      layoutKernels(backend).maxPoolGradTiles(
        ptr(backend, input),
        ptr(backend, dy),
        ptr(backend, dx),
        info.batchSize,
        info.inHeight,
        info.inWidth,
        c,
        info.outHeight,
        info.outWidth,
        fh,
        fw,
      );
      return dx;
    }
    maxPoolGradInto(
      heapF32(backend, input),
      heapF32(backend, dy),
      info,
      heapF32(backend, dx),
      new Float32Array(c),
      new Int32Array(c),
    );
    return dx;
  });
}
