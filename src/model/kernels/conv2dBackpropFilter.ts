import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { free, reshape, runWasm } from './wasmOps.ts';

/**
 * dW = im2col(x)^T · dy: the KH·KW strided slices of the padded input are
 * concatenated along channels (row order kh, kw, ci = the filter layout), so
 * the whole filter gradient is one matrix product over N·OH·OW rows.
 */
function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;

  const padBottom = Math.max(0, (outHeight - 1) * strideHeight + filterHeight - inHeight - padInfo.top);
  const padRight = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - inWidth - padInfo.left);
  const needsPad = padInfo.top > 0 || padInfo.left > 0 || padBottom > 0 || padRight > 0;
  const xp = needsPad
    ? runWasm(
        backend,
        'PadV2',
        { x },
        {
          paddings: [
            [0, 0],
            [padInfo.top, padBottom],
            [padInfo.left, padRight],
            [0, 0],
          ],
          constantValue: 0,
        },
      )
    : x;
  const slices: TensorInfo[] = [];
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      slices.push(
        runWasm(
          backend,
          'StridedSlice',
          { x: xp },
          {
            begin: [0, kh, kw, 0],
            end: [
              batchSize,
              kh + (outHeight - 1) * strideHeight + 1,
              kw + (outWidth - 1) * strideWidth + 1,
              inChannels,
            ],
            strides: [1, strideHeight, strideWidth, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          },
        ),
      );
    }
  }
  if (xp !== x) free(backend, xp);
  const patches = slices.length === 1 ? slices[0] : runWasm(backend, 'Concat', slices as never, { axis: 3 });
  if (slices.length > 1) free(backend, ...slices);
  const rows = batchSize * outHeight * outWidth;
  const k = filterHeight * filterWidth * inChannels;
  const a = reshape(backend, patches, [1, rows, k]);
  const b = reshape(backend, dy, [1, rows, outChannels]);
  const prod = runWasm(backend, 'BatchMatMul', { a, b }, { transposeA: true, transposeB: false });
  free(backend, patches, a, b);
  const out = reshape(backend, prod, filterShape);
  free(backend, prod);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
