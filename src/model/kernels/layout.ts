/**
 * Data-movement loops of the convolution gradients, written against plain
 * Float32Arrays so they run directly on views of the wasm heap: the backend's
 * generic Pad / StridedSlice / Concat kernels cost 10-30 ms each at batch 128,
 * these loops a few ms for the whole im2col.
 */

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
}

/**
 * Writes im2col(x)^T: row (kh·KW + kw)·CI + ci, column (n·OH + oh)·OW + ow holds
 * x[n, oh·sH + kh − padTop, ow·sW + kw − padLeft, ci] (0 outside the image).
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, out: Float32Array): void {
  const { batch, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const cols = batch * outH * outW;
  const rowStrideX = inW * inC;
  const colStep = strideW * inC;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      // Output columns whose input column lies inside the image: ow in [owLo, owHi).
      const owLo = Math.min(outW, Math.max(0, Math.ceil((padLeft - kw) / strideW)));
      const owHi = Math.max(owLo, Math.min(outW, Math.floor((inW - 1 + padLeft - kw) / strideW) + 1));
      for (let ci = 0; ci < inC; ci++) {
        const rowBase = ((kh * kW + kw) * inC + ci) * cols;
        for (let n = 0; n < batch; n++) {
          for (let oh = 0; oh < outH; oh++) {
            const o = rowBase + (n * outH + oh) * outW;
            const ih = oh * strideH + kh - padTop;
            if (ih < 0 || ih >= inH) {
              out.fill(0, o, o + outW);
              continue;
            }
            for (let ow = 0; ow < owLo; ow++) out[o + ow] = 0;
            let src = (n * inH + ih) * rowStrideX + (owLo * strideW + kw - padLeft) * inC + ci;
            for (let ow = owLo; ow < owHi; ow++, src += colStep) out[o + ow] = x[src];
            for (let ow = owHi; ow < outW; ow++) out[o + ow] = 0;
          }
        }
      }
    }
  }
}

/**
 * Writes dy zero-dilated by the strides and padded so that a valid stride-1
 * convolution with the flipped filter yields dx: out has shape
 * [N, inH + kH − 1, inW + kW − 1, outC], dy[n, oh, ow] landing at
 * (kH − 1 − padTop + oh·sH, kW − 1 − padLeft + ow·sW).
 */
export function dilatePad(dy: Float32Array, g: ConvGeometry, out: Float32Array): void {
  const { batch, inH, inW, outH, outW, outC, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const pH = inH + kH - 1;
  const pW = inW + kW - 1;
  const top = kH - 1 - padTop;
  const left = kW - 1 - padLeft;
  out.fill(0);
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      const r = top + oh * strideH;
      if (r < 0 || r >= pH) continue;
      for (let ow = 0; ow < outW; ow++) {
        const c = left + ow * strideW;
        if (c < 0 || c >= pW) continue;
        const src = ((n * outH + oh) * outW + ow) * outC;
        out.set(dy.subarray(src, src + outC), ((n * pH + r) * pW + c) * outC);
      }
    }
  }
}
