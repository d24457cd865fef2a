import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { type ConvGeometry, paddedInputSize, padInput, roundUp4 } from './layout.ts';
import { offsetTable } from './offsetTables.ts';
import { layoutKernels, ptr } from './simd/layoutKernels.ts';
import { free, heapF32 } from './wasmOps.ts';

/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016): each 2x2
 * block of outputs costs 16 multiplies per (input, output) channel pair instead of 36. The input's 4x4
 * patches and the filter are transformed, the 16 transformed positions are 16 independent matrix
 * products over the channels (layout.wat's convForward loop), and the output transform sums them back.
 * 128-bit wasm SIMD has half the multiply width of the AVX2 code PyTorch runs on these machines,
 * so fewer multiplies is where the remaining speed is.
 */

/** Positions of a transformed 4x4 tile. */
const POSITIONS = 16;
/** Tiles per pass, sized so that a pass's transformed input and products (16 planes each) stay in L2. */
const PASS_FLOATS = 65536;
/**
 * Bytes between two planes beyond their data: the transforms touch all 16 planes for each tile, and
 * plane sizes that are multiples of 4 KiB would put those 16 streams in one 8-way L1 set.
 */
const PLANE_SKEW = 64;

/** The convolutions this path computes: 3x3, stride 1, channels in whole SIMD vectors. */
export function winogradApplies(g: ConvGeometry): boolean {
  return g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 && g.inC % 4 === 0;
}

/** G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], the filter transform of F(2x2, 3x3). */
const G = [
  [1, 0, 0],
  [0.5, 0.5, 0.5],
  [0.5, -0.5, 0.5],
  [0, 0, 1],
];

/**
 * U[p] = (G w Gᵀ)[p] for each of the n = C·K channel pairs of a [3, 3, C, K] filter: 16 planes of
 * [C, K], p = 4i + j, the layout the products read as their weights.
 */
export function winogradFilter(filter: Float32Array, n: number, out: Float32Array): void {
  const w = new Float64Array(9);
  const half = new Float64Array(12);
  for (let e = 0; e < n; e++) {
    for (let t = 0; t < 9; t++) w[t] = filter[t * n + e];
    for (let i = 0; i < 4; i++) {
      for (let b = 0; b < 3; b++) half[i * 3 + b] = G[i][0] * w[b] + G[i][1] * w[3 + b] + G[i][2] * w[6 + b];
    }
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const h = i * 3;
        out[(i * 4 + j) * n + e] = half[h] * G[j][0] + half[h + 1] * G[j][1] + half[h + 2] * G[j][2];
      }
    }
  }
}

/** Output rows and columns rounded up to whole 2x2 tiles. */
function tiled(g: ConvGeometry): ConvGeometry {
  return { ...g, outH: 2 * Math.ceil(g.outH / 2), outW: 2 * Math.ceil(g.outW / 2) };
}

/**
 * Byte offsets of every tile's 4x4 patch in the padded input (`inC` channels) or of its 2x2 outputs
 * in the tiled output (`outC`), tiles in NHW order, `length` rounded up to 4 with the last repeated
 * (a repeated tile computes and writes the same values again).
 */
function tileOffsets(side: 'input' | 'output') {
  return (t: ConvGeometry, length: number, out: Int32Array) => {
    const tilesH = t.outH / 2;
    const tilesW = t.outW / 2;
    const { hp, wp } = side === 'input' ? paddedInputSize(t) : { hp: t.outH, wp: t.outW };
    const channels = side === 'input' ? t.inC : t.outC;
    const real = t.batch * tilesH * tilesW;
    for (let q = 0; q < length; q++) {
      const k = Math.min(q, real - 1);
      const tx = k % tilesW;
      const rest = (k - tx) / tilesW;
      const ty = rest % tilesH;
      const n = (rest - ty) / tilesH;
      out[q] = ((n * hp + 2 * ty) * wp + 2 * tx) * channels * 4;
    }
  };
}

const strided = (stride: number) => (_g: ConvGeometry, length: number, out: Int32Array) => {
  for (let i = 0; i < length; i++) out[i] = i * stride;
};

/** Both directions' tiling: whole 2x2 tiles of output, x padded for them, every tile's patch offset. */
function tiledInput(backend: BackendWasm, x: TensorInfo, g: ConvGeometry) {
  const t = tiled(g);
  const tiles = t.batch * (t.outH / 2) * (t.outW / 2);
  const pass = Math.max(4, Math.floor(PASS_FLOATS / (POSITIONS * Math.max(g.inC, g.outC)) / 4) * 4);
  const { hp, wp } = paddedInputSize(t);
  const xp = backend.makeOutput([t.batch, hp, wp, g.inC], 'float32');
  padInput(heapF32(backend, x), t, heapF32(backend, xp));
  const tileIn = offsetTable(backend, 'winograd in', t, roundUp4(tiles), tileOffsets('input'));
  const tileOut = offsetTable(backend, 'winograd out', t, roundUp4(tiles), tileOffsets('output'));
  const planes = (channels: number) =>
    backend.makeOutput([POSITIONS, pass * channels + PLANE_SKEW / 4], 'float32');
  return { t, tiles, pass, inRowBytes: wp * g.inC * 4, xp, tileIn, tileOut, planes };
}

const planeBytes = (count: number, channels: number) => count * channels * 4 + PLANE_SKEW;

export function winogradConv2D(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const { inC, outC } = g;
  const { t, tiles, pass, inRowBytes, xp, tileIn, tileOut, planes } = tiledInput(backend, x, g);
  const u = backend.makeOutput([POSITIONS, inC, outC], 'float32');
  const v = planes(inC);
  const m = planes(outC);
  const pixOff = offsetTable(backend, `stride ${inC * 4}`, t, pass, strided(inC * 4));
  const rowOff = offsetTable(backend, 'stride 4', t, inC, strided(4));
  const exact = t.outH === g.outH && t.outW === g.outW;
  const out = backend.makeOutput([g.batch, g.outH, g.outW, outC], 'float32');
  const y = exact ? out : backend.makeOutput([t.batch, t.outH, t.outW, outC], 'float32');
  winogradFilter(heapF32(backend, filter), inC * outC, heapF32(backend, u));

  const lk = layoutKernels(backend);
  const [xpP, uP, vP, mP, inP, outP, pixP, rowP, yP] = [xp, u, v, m, tileIn, tileOut, pixOff, rowOff, y].map(
    (info) => ptr(backend, info),
  );
  for (let start = 0; start < tiles; start += pass) {
    // Whole groups of 4 tiles for convForward; a repeated tile writes the same outputs again.
    const count = roundUp4(Math.min(pass, tiles - start));
    const vPlane = planeBytes(count, inC);
    const mPlane = planeBytes(count, outC);
    lk.winogradInput(xpP, inP + start * 4, count, inC, inRowBytes, vP, vPlane);
    for (let p = 0; p < POSITIONS; p++) {
      lk.convForward(vP + p * vPlane, uP + p * inC * outC * 4, mP + p * mPlane, pixP, rowP, count, inC, outC);
    }
    lk.winogradOutput(mP, outP + start * 4, count, outC, t.outW * outC * 4, yP, mPlane);
  }
  if (!exact) copyOutputRows(heapF32(backend, y), t, g, heapF32(backend, out));
  free(backend, xp, u, v, m, tileIn, tileOut, pixOff, rowOff);
  if (y !== out) free(backend, y);
  return out;
}

/** Aᵀ = [1 1 1 0; 0 1 −1 0; 0 1 1 1], the output transform of F(3x3, 2x2). */
const A_T_FILTER = [
  [1, 1, 1, 0],
  [0, 1, -1, 0],
  [0, 1, 1, 1],
];

/**
 * dW by F(3x3, 2x2), the same trick the other way round: each 2x2 tile of dy meets its 4x4 input patch
 * in 16 products instead of 36 (the patches are winogradInput's, dy's tiles are transformed by
 * winogradGradTiles), the 16 positions are summed over all tiles by convFilterGrad, and Aᵀ M A gives
 * the 3x3 taps.
 */
export function winogradFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: number[],
): TensorInfo {
  const { inC, outC } = g;
  const { t, tiles, pass, inRowBytes, xp, tileIn, tileOut, planes } = tiledInput(backend, x, g);
  const exact = t.outH === g.outH && t.outW === g.outW;
  // dy on whole tiles: the extra outputs' zeros add nothing to the sums.
  const dyt = exact ? dy : backend.makeOutput([t.batch, t.outH, t.outW, outC], 'float32');
  if (dyt !== dy) {
    heapF32(backend, dyt).fill(0);
    copyOutputRows(heapF32(backend, dy), g, t, heapF32(backend, dyt));
  }
  const v = planes(inC);
  const w = planes(outC);
  const m = backend.makeOutput([POSITIONS, inC, outC], 'float32');
  heapF32(backend, m).fill(0);
  const rowOff = offsetTable(backend, 'stride 4', t, inC, strided(4));

  const lk = layoutKernels(backend);
  const [xpP, dyP, vP, wP, mP, inP, outP, rowP] = [xp, dyt, v, w, m, tileIn, tileOut, rowOff].map((info) =>
    ptr(backend, info),
  );
  for (let start = 0; start < tiles; start += pass) {
    // The exact count: a repeated tile would be summed twice.
    const count = Math.min(pass, tiles - start);
    const vPlane = planeBytes(count, inC);
    const wPlane = planeBytes(count, outC);
    lk.winogradInput(xpP, inP + start * 4, count, inC, inRowBytes, vP, vPlane);
    lk.winogradGradTiles(dyP, outP + start * 4, count, outC, t.outW * outC * 4, wP, wPlane);
    for (let p = 0; p < POSITIONS; p++) {
      lk.convFilterGrad(
        vP + p * vPlane,
        wP + p * wPlane,
        mP + p * inC * outC * 4,
        rowP,
        inC,
        1,
        1,
        count,
        outC,
        0,
        0,
        inC * 4,
      );
    }
  }
  const out = backend.makeOutput(filterShape, 'float32');
  filterFromPositions(heapF32(backend, m), inC * outC, heapF32(backend, out));
  free(backend, xp, v, w, m, tileIn, tileOut, rowOff);
  if (dyt !== dy) free(backend, dyt);
  return out;
}

/** dW[a, b] = (Aᵀ M A)[a, b] for each of the n (c, k) pairs: 16 planes of [n] to the [3, 3, n] filter. */
export function filterFromPositions(m: Float32Array, n: number, out: Float32Array): void {
  const rows = new Float64Array(12);
  for (let e = 0; e < n; e++) {
    for (let a = 0; a < 3; a++) {
      for (let j = 0; j < 4; j++) {
        let sum = 0;
        for (let i = 0; i < 4; i++) sum += A_T_FILTER[a][i] * m[(i * 4 + j) * n + e];
        rows[a * 4 + j] = sum;
      }
    }
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        const r = a * 4;
        out[(a * 3 + b) * n + e] =
          rows[r] * A_T_FILTER[b][0] +
          rows[r + 1] * A_T_FILTER[b][1] +
          rows[r + 2] * A_T_FILTER[b][2] +
          rows[r + 3] * A_T_FILTER[b][3];
      }
    }
  }
}

/**
 * Copies the real outputs' rows (g.outH rows of g.outW pixels per image) between [N, outH, outW, K]
 * of the real geometry and of the tiled one: to the tiled for dy, from it for y (odd output sizes).
 */
function copyOutputRows(src: Float32Array, from: ConvGeometry, to: ConvGeometry, out: Float32Array): void {
  const row = Math.min(from.outW, to.outW) * from.outC;
  const rows = Math.min(from.outH, to.outH);
  for (let n = 0; n < from.batch; n++) {
    for (let r = 0; r < rows; r++) {
      const s = (n * from.outH + r) * from.outW * from.outC;
      out.set(src.subarray(s, s + row), (n * to.outH + r) * to.outW * to.outC);
    }
  }
}
