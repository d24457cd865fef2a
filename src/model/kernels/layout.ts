import type { backend_util } from '@tensorflow/tfjs-core';

/**
 * Geometry of the convolution gradients and the small loops that are not worth
 * SIMD (filters, the rarely used dilation), on plain Float32Arrays that are
 * views of the wasm heap: the backend's generic Pad / StridedSlice / Concat
 * kernels cost 10-30 ms each at batch 128. The hot loops are in simd/layout.wat.
 */

/** Rows or pixels rounded up to the 4 that layout.wat's loops take at a time. */
export const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

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

export function geometry(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
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

/** One (ih mod sH, iw mod sW) phase of dx, as a stride-1 convolution of dy. */
export interface Phase {
  a: number;
  b: number;
  /** Filter rows / columns reaching this phase, in the order the phase filter uses them. */
  tapsH: number[];
  tapsW: number[];
  /** Rows and columns of dx in this phase. */
  rows: number;
  cols: number;
  empty: boolean;
  /** Explicit NHWC paddings of dy for the phase convolution. */
  paddings: number[][];
}

/**
 * Along one axis, dx[s·i + a] = Σ_t dy[i + dMin + t] · w[tap_t] with the taps
 * k ≡ a + pad (mod s) taken from the largest down. Returns null when some
 * phase would start past dy's first row (dMin > 0), which padding cannot express.
 */
function axisPhase(a: number, s: number, k: number, pad: number, inSize: number, outSize: number) {
  const taps: number[] = [];
  for (let kk = k - 1; kk >= 0; kk--) if ((((a + pad - kk) % s) + s) % s === 0) taps.push(kk);
  const size = Math.ceil((inSize - a) / s);
  if (taps.length === 0) return { taps, size, before: 0, after: 0, ok: true };
  const dMin = (a + pad - taps[0]) / s;
  const after = Math.max(0, size + dMin + taps.length - 1 - outSize);
  return { taps, size, before: -dMin, after, ok: dMin <= 0 };
}

export function phases(g: ConvGeometry): Phase[] | null {
  const out: Phase[] = [];
  for (let a = 0; a < Math.min(g.strideH, g.inH); a++) {
    const h = axisPhase(a, g.strideH, g.kH, g.padTop, g.inH, g.outH);
    for (let b = 0; b < Math.min(g.strideW, g.inW); b++) {
      const w = axisPhase(b, g.strideW, g.kW, g.padLeft, g.inW, g.outW);
      const empty = h.taps.length === 0 || w.taps.length === 0;
      if (!empty && (!h.ok || !w.ok)) return null;
      out.push({
        a,
        b,
        tapsH: h.taps,
        tapsW: w.taps,
        rows: h.size,
        cols: w.size,
        empty,
        paddings: [
          [0, 0],
          [h.before, h.after],
          [w.before, w.after],
          [0, 0],
        ],
      });
    }
  }
  return out;
}

/** Phase filter [tapsH, tapsW, outC, inC] from the filter [kH, kW, inC, outC]. */
export function phaseFilter(filter: Float32Array, g: ConvGeometry, p: Phase, out: Float32Array): void {
  const { kW, inC, outC } = g;
  let o = 0;
  for (const kh of p.tapsH) {
    for (const kw of p.tapsW) {
      const base = (kh * kW + kw) * inC * outC;
      for (let co = 0; co < outC; co++) {
        for (let ci = 0; ci < inC; ci++) out[o++] = filter[base + ci * outC + co];
      }
    }
  }
}

/** Height and width of the zero-padded input that every filter tap of every output pixel reads. */
export function paddedInputSize(g: ConvGeometry): { hp: number; wp: number } {
  return { hp: (g.outH - 1) * g.strideH + g.kH, wp: (g.outW - 1) * g.strideW + g.kW };
}

/**
 * Copies x [N, inH, inW, C] into out [N, hp, wp, C] shifted by the padding, zero elsewhere (and
 * cropped where the convolution never reads, as 'valid' padding may leave input unread).
 */
export function padInput(x: Float32Array, g: ConvGeometry, out: Float32Array): void {
  const { batch, inH, inW, inC, padTop, padLeft } = g;
  const { hp, wp } = paddedInputSize(g);
  const loX = Math.max(0, padLeft);
  const hiX = Math.min(wp, inW + padLeft);
  out.fill(0);
  if (hiX <= loX) return;
  for (let n = 0; n < batch; n++) {
    for (let yy = 0; yy < hp; yy++) {
      const iy = yy - padTop;
      if (iy < 0 || iy >= inH) continue;
      const src = ((n * inH + iy) * inW + loX - padLeft) * inC;
      out.set(x.subarray(src, src + (hiX - loX) * inC), ((n * hp + yy) * wp + loX) * inC);
    }
  }
}

/**
 * Byte offset, from an output pixel's top-left tap in the padded input, of the input element that
 * meets row r of the filter gradient (r = (i·kW + j)·C + c), for rows rounded up to a multiple of 4;
 * the extra rows repeat the last one and are discarded.
 */
export function filterRowOffsets(g: ConvGeometry, rows: number, out: Int32Array): void {
  const { wp } = paddedInputSize(g);
  const real = g.kH * g.kW * g.inC;
  for (let r = 0; r < rows; r++) {
    const k = Math.min(r, real - 1);
    const c = k % g.inC;
    const tap = (k - c) / g.inC;
    const j = tap % g.kW;
    const i = (tap - j) / g.kW;
    out[r] = ((i * wp + j) * g.inC + c) * 4;
  }
}

/**
 * Byte offset in the padded input of each output pixel's top-left tap, pixels in NHW order,
 * for `pixels` rounded up to a multiple of 4; the extra entries repeat the last pixel.
 */
export function pixelOffsets(g: ConvGeometry, pixels: number, out: Int32Array): void {
  const { hp, wp } = paddedInputSize(g);
  const real = g.batch * g.outH * g.outW;
  for (let q = 0; q < pixels; q++) {
    const k = Math.min(q, real - 1);
    const ox = k % g.outW;
    const rest = (k - ox) / g.outW;
    const oy = rest % g.outH;
    const n = (rest - oy) / g.outH;
    out[q] = ((n * hp + oy * g.strideH) * wp + ox * g.strideW) * g.inC * 4;
  }
}
