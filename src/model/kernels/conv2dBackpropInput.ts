import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { free, reshape, runWasm } from './wasmOps.ts';

/**
 * dx = valid convolution of the zero-dilated, padded dy with the spatially
 * flipped filter whose in/out channels are swapped; it runs on XNNPACK's fast
 * forward convolution instead of the backend's naive backprop loop.
 */
function conv2DBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${dataFormat}`);
  }
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;

  let dyd = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    // Zero insertion: give each element a trailing run of stride-1 zeros along W, then along H.
    const d5 = reshape(backend, dy, [batchSize * outHeight, outWidth, 1, outChannels]);
    const w = runWasm(
      backend,
      'PadV2',
      { x: d5 },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, strideWidth - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    const w4 = reshape(backend, w, [batchSize, outHeight, 1, outWidth * strideWidth * outChannels]);
    const h = runWasm(
      backend,
      'PadV2',
      { x: w4 },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, strideHeight - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    dyd = reshape(backend, h, [batchSize, outHeight * strideHeight, outWidth * strideWidth, outChannels]);
    free(backend, d5, w, w4, h);
  }
  // Rows/cols of dyd needed: in + filter - 1, starting filter-1-padTop before the first dy row.
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  const bottom = inHeight + filterHeight - 1 - top - dyd.shape[1];
  const right = inWidth + filterWidth - 1 - left - dyd.shape[2];
  let src = dyd;
  if (bottom < 0 || right < 0) {
    src = runWasm(
      backend,
      'Slice',
      { x: dyd },
      {
        begin: [0, 0, 0, 0],
        size: [batchSize, dyd.shape[1] + Math.min(0, bottom), dyd.shape[2] + Math.min(0, right), outChannels],
      },
    );
  }
  const flipped = runWasm(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const w2 = runWasm(backend, 'Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  const out = runWasm(
    backend,
    'Conv2D',
    { x: src, filter: w2 },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, Math.max(0, bottom)],
        [left, Math.max(0, right)],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    },
  );
  free(backend, flipped, w2);
  if (src !== dyd) free(backend, src);
  if (dyd !== dy) free(backend, dyd);
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
