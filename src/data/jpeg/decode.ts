/**
 * A baseline JPEG decoder in TypeScript that produces only the luma plane, at 1/1, 1/2, 1/4 or 1/8 scale
 * by libjpeg's reduced-size inverse DCTs (jidctint.c's islow for 1/1, jidctred.c's 4x4, 2x2 and 1x1,
 * transcribed with their constants and rounding, so the pixels match libjpeg-turbo's, which sharp uses).
 *
 * Why: the shared preprocessing needs a ~128 px gray image. sharp's per-call overhead (thread-pool hop,
 * libvips pipeline set-up) alone is ~0.5 ms here, more than this decoder needs for a whole 512x512 JPEG at
 * 1/4 scale; the chroma planes are Huffman-decoded (they must be, to find the luma bits) but never
 * transformed, and a colour JPEG's luma is the gray the preprocessing wants anyway (ITU-R 601 luma of the
 * RGB that YCbCr would convert to is Y again, up to clamping of saturated colours).
 *
 * Taken: sequential Huffman JPEGs (SOF0/SOF1) with 8-bit samples, one component (gray) or three (YCbCr,
 * any sampling where luma has the largest factors: 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1), interleaved or
 * one-component scans, restart intervals, EXIF orientation (read here, applied by the caller), no colour
 * profile or an sRGB one. Everything else returns `{ unsupported }` so the caller can use sharp: progressive,
 * lossless, arithmetic-coded, 12-bit, CMYK/YCCK, RGB (Adobe transform 0), other ICC profiles, and any
 * malformed or truncated data (sharp then either decodes it the way libjpeg does or produces the error).
 */
import { type GrayImage, WORK_SIZE } from '../grayImage.ts';
import { isSofMarker } from '../imageHeader.ts';

/** libjpeg's jpeg_natural_order: zig-zag index → row-major index in the 8x8 block. */
const NATURAL_ORDER = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

export type JpegScale = 1 | 2 | 4 | 8;

export interface JpegLuma {
  /** The luma plane at the requested scale: ceil(width / scale) x ceil(height / scale), as stored. */
  image: GrayImage;
  /** EXIF orientation 1..8 (1 when there is none): the caller rotates. */
  orientation: number;
}

export type JpegDecodeResult = JpegLuma | { unsupported: string };

/** Thrown inside the decoder, turned into `{ unsupported }` at its boundary. */
class Unsupported extends Error {}

const fail = (reason: string): never => {
  throw new Unsupported(reason);
};

/**
 * A Huffman table: 9-bit lookahead (length << 8 | symbol, 0 = longer code), libjpeg's maxcode/valptr for
 * longer codes, and stb_image's "fast AC" table: when a code and the magnitude bits that follow it fit in
 * the 9 bits looked at, the coefficient itself (value << 16 | run << 8 | total length); value 0 is EOB in
 * an AC table and a zero difference in a DC table.
 */
interface Huffman {
  lut: Uint16Array;
  fastAc: Int32Array;
  maxcode: Int32Array;
  valptr: Int32Array;
  values: Uint8Array;
}

const LOOKAHEAD = 9;

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const lut = new Uint16Array(1 << LOOKAHEAD);
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    valptr[len] = k - code;
    for (let i = 0; i < n; i++) {
      if (len <= LOOKAHEAD) {
        const shift = LOOKAHEAD - len;
        const entry = (len << 8) | values[k];
        for (let j = code << shift, end = (code + 1) << shift; j < end; j++) lut[j] = entry;
      }
      k++;
      code++;
    }
    if (n > 0) maxcode[len] = code - 1;
    if (code > 1 << len) fail('bad Huffman table');
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  const fastAc = new Int32Array(1 << LOOKAHEAD);
  for (let peek = 0; peek < 1 << LOOKAHEAD; peek++) {
    const e = lut[peek];
    if (e === 0) continue;
    const len = e >> 8;
    const run = (e >> 4) & 15;
    const size = e & 15;
    // Symbols with no magnitude bits: only EOB (AC) / a zero difference (DC), value 0; ZRL is left out.
    if ((size === 0 && run !== 0) || len + size > LOOKAHEAD) continue;
    let v = 0;
    if (size > 0) {
      v = (peek >> (LOOKAHEAD - len - size)) & ((1 << size) - 1);
      if (v < 1 << (size - 1)) v -= (1 << size) - 1;
    }
    fastAc[peek] = v * 65536 + (run << 8) + len + size;
  }
  // A copy of the symbols: a cached table must not keep the JPEG it came from alive.
  return { lut, fastAc, maxcode, valptr, values: values.slice() };
}

/**
 * Tables by their DHT bytes (counts and symbols): most JPEGs carry the same few (the standard tables of
 * Annex K, or an encoder's optimised ones repeated across its files), and building one costs ~3 us.
 */
const huffmanCache = new Map<string, Huffman>();
const HUFFMAN_CACHE_SIZE = 64;

function cachedHuffman(spec: Uint8Array): Huffman {
  const key = Buffer.from(spec.buffer, spec.byteOffset, spec.byteLength).toString('latin1');
  let table = huffmanCache.get(key);
  if (!table) {
    table = buildHuffman(spec.subarray(0, 16), spec.subarray(16));
    if (huffmanCache.size >= HUFFMAN_CACHE_SIZE)
      huffmanCache.delete(huffmanCache.keys().next().value as string);
    huffmanCache.set(key, table);
  }
  return table;
}

interface Component {
  id: number;
  h: number;
  v: number;
  quant: number;
  /** Blocks per line and column of this component's own (downsampled) plane. */
  blocksW: number;
  blocksH: number;
}

interface Frame {
  width: number;
  height: number;
  components: Component[];
  hmax: number;
  vmax: number;
  mcusW: number;
  mcusH: number;
}

const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];

/** EXIF orientation from an APP1 "Exif\0\0" segment (TIFF IFD0 tag 0x0112); 1 when absent. */
function exifOrientation(seg: Uint8Array): number {
  const t = seg.subarray(6);
  if (t.length < 8) fail('EXIF too short');
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) fail('bad EXIF byte order');
  const r16 = (at: number) => (le ? t[at] | (t[at + 1] << 8) : (t[at] << 8) | t[at + 1]);
  const r32 = (at: number) =>
    (le
      ? t[at] | (t[at + 1] << 8) | (t[at + 2] << 16) | (t[at + 3] << 24)
      : (t[at] << 24) | (t[at + 1] << 16) | (t[at + 2] << 8) | t[at + 3]) >>> 0;
  if (r16(2) !== 42) fail('bad EXIF magic');
  const ifd = r32(4);
  if (ifd + 2 > t.length) fail('EXIF IFD0 out of range');
  const count = r16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) fail('EXIF IFD0 truncated');
    if (r16(e) === 0x0112) {
      if (r16(e + 2) !== 3 || r32(e + 4) !== 1) fail('odd EXIF orientation entry');
      const value = r16(e + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/** Whether an ICC profile is an RGB profile describing itself as sRGB (converting it to sRGB is a no-op). */
function isSrgbProfile(p: Uint8Array): boolean {
  if (p.length < 132) return false;
  const ascii = (at: number, n: number) => String.fromCharCode(...p.subarray(at, at + n));
  if (ascii(16, 4) !== 'RGB ') return false;
  const r32 = (at: number) => ((p[at] << 24) | (p[at + 1] << 16) | (p[at + 2] << 8) | p[at + 3]) >>> 0;
  const tags = r32(128);
  for (let i = 0; i < tags && 132 + i * 12 + 12 <= p.length; i++) {
    const e = 132 + i * 12;
    if (ascii(e, 4) !== 'desc') continue;
    const at = r32(e + 4);
    const size = r32(e + 8);
    if (at + size > p.length || size < 12) return false;
    const type = ascii(at, 4);
    let text = '';
    if (type === 'desc') {
      text = ascii(at + 12, Math.min(r32(at + 8), size - 12));
    } else if (type === 'mluc' && size >= 28) {
      const len = r32(at + 20);
      const off = r32(at + 24);
      if (at + off + len > p.length) return false;
      for (let j = 0; j + 1 < len; j += 2) text += String.fromCharCode(u16(p, at + off + j));
    }
    return /sRGB/.test(text);
  }
  return false;
}

// libjpeg's integer IDCTs, on dequantized coefficients in natural order. Their fixed-point constants are
// FIX(x) = round(x * 2^13) (CONST_BITS = 13, PASS1_BITS = 2); DESCALE(x, n) = (x + 2^(n-1)) >> n. The
// decoder refuses dequantized coefficients beyond 2175 (= 2047 + 128, what an 8-bit encoder can produce),
// so the intermediates of real images fit in 32 bits and `>>` is exact. The output arrays are
// Uint8ClampedArray: storing clamps to 0..255 as libjpeg's range_limit table does.

/** jidctred.c jpeg_idct_2x2 (ignores columns and rows 2, 4 and 6). */
function idct2x2(coef: Int32Array, ws: Int32Array, out: Uint8ClampedArray, at: number, stride: number) {
  for (let c = 0; c < 8; c++) {
    if (c === 2 || c === 4 || c === 6) continue;
    const c1 = coef[8 + c];
    const c3 = coef[24 + c];
    const c5 = coef[40 + c];
    const c7 = coef[56 + c];
    if (c1 === 0 && c3 === 0 && c5 === 0 && c7 === 0) {
      const dc = coef[c] << 2;
      ws[c] = dc;
      ws[8 + c] = dc;
      continue;
    }
    const tmp10 = coef[c] << 15; // << (CONST_BITS + 2)
    const tmp0 = c7 * -5906 + c5 * 6967 + c3 * -10426 + c1 * 29692;
    ws[c] = (tmp10 + tmp0 + 4096) >> 13; // DESCALE(x, CONST_BITS - PASS1_BITS + 2)
    ws[8 + c] = (tmp10 - tmp0 + 4096) >> 13;
  }
  for (let r = 0; r < 2; r++) {
    const w = r * 8;
    const o = at + r * stride;
    if (ws[w + 1] === 0 && ws[w + 3] === 0 && ws[w + 5] === 0 && ws[w + 7] === 0) {
      const v = ((ws[w] + 16) >> 5) + 128; // DESCALE(x, PASS1_BITS + 3)
      out[o] = v;
      out[o + 1] = v;
      continue;
    }
    const tmp10 = ws[w] << 15;
    const tmp0 = ws[w + 7] * -5906 + ws[w + 5] * 6967 + ws[w + 3] * -10426 + ws[w + 1] * 29692;
    // DESCALE(x, CONST_BITS + PASS1_BITS + 3 + 2)
    out[o] = ((tmp10 + tmp0 + 524288) >> 20) + 128;
    out[o + 1] = ((tmp10 - tmp0 + 524288) >> 20) + 128;
  }
}

/** jidctred.c jpeg_idct_4x4 (ignores column and row 4). */
function idct4x4(coef: Int32Array, ws: Int32Array, out: Uint8ClampedArray, at: number, stride: number) {
  for (let c = 0; c < 8; c++) {
    if (c === 4) continue;
    if (
      coef[8 + c] === 0 &&
      coef[16 + c] === 0 &&
      coef[24 + c] === 0 &&
      coef[40 + c] === 0 &&
      coef[48 + c] === 0 &&
      coef[56 + c] === 0
    ) {
      const dc = coef[c] << 2;
      ws[c] = dc;
      ws[8 + c] = dc;
      ws[16 + c] = dc;
      ws[24 + c] = dc;
      continue;
    }
    const t0 = coef[c] << 14; // << (CONST_BITS + 1)
    const t2 = coef[16 + c] * 15137 + coef[48 + c] * -6270;
    const tmp10 = t0 + t2;
    const tmp12 = t0 - t2;
    const z1 = coef[56 + c];
    const z2 = coef[40 + c];
    const z3 = coef[24 + c];
    const z4 = coef[8 + c];
    const o0 = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697;
    const o2 = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995;
    // DESCALE(x, CONST_BITS - PASS1_BITS + 1)
    ws[c] = (tmp10 + o2 + 2048) >> 12;
    ws[24 + c] = (tmp10 - o2 + 2048) >> 12;
    ws[8 + c] = (tmp12 + o0 + 2048) >> 12;
    ws[16 + c] = (tmp12 - o0 + 2048) >> 12;
  }
  for (let r = 0; r < 4; r++) {
    const w = r * 8;
    const o = at + r * stride;
    if (
      ws[w + 1] === 0 &&
      ws[w + 2] === 0 &&
      ws[w + 3] === 0 &&
      ws[w + 5] === 0 &&
      ws[w + 6] === 0 &&
      ws[w + 7] === 0
    ) {
      const v = ((ws[w] + 16) >> 5) + 128;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
      out[o + 3] = v;
      continue;
    }
    const t0 = ws[w] << 14;
    const t2 = ws[w + 2] * 15137 + ws[w + 6] * -6270;
    const tmp10 = t0 + t2;
    const tmp12 = t0 - t2;
    const z1 = ws[w + 7];
    const z2 = ws[w + 5];
    const z3 = ws[w + 3];
    const z4 = ws[w + 1];
    const o0 = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697;
    const o2 = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995;
    // DESCALE(x, CONST_BITS + PASS1_BITS + 3 + 1)
    out[o] = ((tmp10 + o2 + 262144) >> 19) + 128;
    out[o + 3] = ((tmp10 - o2 + 262144) >> 19) + 128;
    out[o + 1] = ((tmp12 + o0 + 262144) >> 19) + 128;
    out[o + 2] = ((tmp12 - o0 + 262144) >> 19) + 128;
  }
}

/** jidctint.c jpeg_idct_islow: the full 8x8 inverse DCT. */
function idct8x8(coef: Int32Array, ws: Int32Array, out: Uint8ClampedArray, at: number, stride: number) {
  for (let c = 0; c < 8; c++) {
    if (
      coef[8 + c] === 0 &&
      coef[16 + c] === 0 &&
      coef[24 + c] === 0 &&
      coef[32 + c] === 0 &&
      coef[40 + c] === 0 &&
      coef[48 + c] === 0 &&
      coef[56 + c] === 0
    ) {
      const dc = coef[c] << 2;
      for (let r = 0; r < 64; r += 8) ws[r + c] = dc;
      continue;
    }
    let z2 = coef[16 + c];
    let z3 = coef[48 + c];
    let z1 = (z2 + z3) * 4433;
    let tmp2 = z1 + z3 * -15137;
    let tmp3 = z1 + z2 * 6270;
    z2 = coef[c];
    z3 = coef[32 + c];
    let tmp0 = (z2 + z3) << 13;
    let tmp1 = (z2 - z3) << 13;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = coef[56 + c];
    tmp1 = coef[40 + c];
    tmp2 = coef[24 + c];
    tmp3 = coef[8 + c];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * 9633;
    tmp0 *= 2446;
    tmp1 *= 16819;
    tmp2 *= 25172;
    tmp3 *= 12299;
    z1 *= -7373;
    z2 *= -20995;
    z3 = z3 * -16069 + z5;
    z4 = z4 * -3196 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    // DESCALE(x, CONST_BITS - PASS1_BITS)
    ws[c] = (tmp10 + tmp3 + 1024) >> 11;
    ws[56 + c] = (tmp10 - tmp3 + 1024) >> 11;
    ws[8 + c] = (tmp11 + tmp2 + 1024) >> 11;
    ws[48 + c] = (tmp11 - tmp2 + 1024) >> 11;
    ws[16 + c] = (tmp12 + tmp1 + 1024) >> 11;
    ws[40 + c] = (tmp12 - tmp1 + 1024) >> 11;
    ws[24 + c] = (tmp13 + tmp0 + 1024) >> 11;
    ws[32 + c] = (tmp13 - tmp0 + 1024) >> 11;
  }
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = at + r * stride;
    if (
      ws[w + 1] === 0 &&
      ws[w + 2] === 0 &&
      ws[w + 3] === 0 &&
      ws[w + 4] === 0 &&
      ws[w + 5] === 0 &&
      ws[w + 6] === 0 &&
      ws[w + 7] === 0
    ) {
      const v = ((ws[w] + 16) >> 5) + 128;
      for (let x = 0; x < 8; x++) out[o + x] = v;
      continue;
    }
    let z2 = ws[w + 2];
    let z3 = ws[w + 6];
    let z1 = (z2 + z3) * 4433;
    let tmp2 = z1 + z3 * -15137;
    let tmp3 = z1 + z2 * 6270;
    let tmp0 = (ws[w] + ws[w + 4]) << 13;
    let tmp1 = (ws[w] - ws[w + 4]) << 13;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7];
    tmp1 = ws[w + 5];
    tmp2 = ws[w + 3];
    tmp3 = ws[w + 1];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * 9633;
    tmp0 *= 2446;
    tmp1 *= 16819;
    tmp2 *= 25172;
    tmp3 *= 12299;
    z1 *= -7373;
    z2 *= -20995;
    z3 = z3 * -16069 + z5;
    z4 = z4 * -3196 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    // DESCALE(x, CONST_BITS + PASS1_BITS + 3)
    out[o] = ((tmp10 + tmp3 + 131072) >> 18) + 128;
    out[o + 7] = ((tmp10 - tmp3 + 131072) >> 18) + 128;
    out[o + 1] = ((tmp11 + tmp2 + 131072) >> 18) + 128;
    out[o + 6] = ((tmp11 - tmp2 + 131072) >> 18) + 128;
    out[o + 2] = ((tmp12 + tmp1 + 131072) >> 18) + 128;
    out[o + 5] = ((tmp12 - tmp1 + 131072) >> 18) + 128;
    out[o + 3] = ((tmp13 + tmp0 + 131072) >> 18) + 128;
    out[o + 4] = ((tmp13 - tmp0 + 131072) >> 18) + 128;
  }
}

interface ScanComponent {
  index: number;
  dc: Huffman;
  ac: Huffman;
}

/**
 * A scan's entropy-coded data with the byte stuffing (FF 00) removed and zero bytes after it (libjpeg also
 * feeds zeros past the end; the decoder checks that it did not need them), and where each restart
 * interval starts.
 */
interface CleanScan {
  bytes: Uint8Array;
  /** Bytes of real data. */
  length: number;
  /** Byte offsets (in the clean data) where the data after each RSTn marker starts, and the n. */
  restarts: number[];
  restartNumbers: number[];
  /** Position in the file of the marker that ends the scan (or the end of the file). */
  end: number;
}

const PAD = 16;

function unstuff(data: Uint8Array, start: number): CleanScan {
  const out = new Uint8Array(data.length - start + PAD);
  const restarts: number[] = [];
  const restartNumbers: number[] = [];
  let n = 0;
  let pos = start;
  for (;;) {
    const ff = data.indexOf(0xff, pos);
    const stop = ff < 0 ? data.length : ff;
    out.set(data.subarray(pos, stop), n);
    n += stop - pos;
    pos = stop;
    if (ff < 0) break;
    let next = data[pos + 1];
    while (next === 0xff) next = data[++pos + 1]; // fill bytes before a marker
    if (next === 0) {
      out[n++] = 0xff;
      pos += 2;
    } else if (next >= 0xd0 && next <= 0xd7) {
      restarts.push(n);
      restartNumbers.push(next & 7);
      pos += 2;
    } else {
      break; // a marker, or the end of the data
    }
  }
  return { bytes: out.subarray(0, n + PAD), length: n, restarts, restartNumbers, end: pos };
}

/**
 * The Huffman symbol at the top of `w` (the next 32 bits, most significant first) as length << 8 | symbol;
 * -1 for an invalid code. Codes of up to LOOKAHEAD bits take one table lookup, longer ones libjpeg's
 * canonical-code search.
 */
function decodeSymbol(w: number, t: Huffman): number {
  const e = t.lut[w >>> (32 - LOOKAHEAD)];
  if (e !== 0) return e;
  for (let len = LOOKAHEAD + 1; len <= 16; len++) {
    const code = w >>> (32 - len);
    if (code <= t.maxcode[len]) return (len << 8) | t.values[code + t.valptr[len]];
  }
  return -1;
}

/** A JPEG magnitude's s raw bits as the signed value they stand for (F.2.2.1 EXTEND). */
const extend = (v: number, s: number) => (v < 1 << (s - 1) ? v - (1 << s) + 1 : v);

/** Natural-order coefficients each reduced IDCT reads (jidctred.c skips rows and columns 2, 4, 6 or 4). */
const KEEP_ALL = new Uint8Array(64).fill(1);
const KEEP_4X4 = Uint8Array.from({ length: 64 }, (_, i) => (i % 8 === 4 || i >> 3 === 4 ? 0 : 1));
const KEEP_2X2 = Uint8Array.from({ length: 64 }, (_, i) => {
  const r = i >> 3;
  const c = i % 8;
  return (r === 0 || r % 2 === 1) && (c === 0 || c % 2 === 1) ? 1 : 0;
});

/**
 * Decodes one scan's entropy-coded data starting at `start`; writes the luma blocks (component 0) into
 * `plane` (stride `planeW`) at 8/scale pixels per block. Returns the position of the marker after the scan.
 * One function with the block decoding written out in the MCU loop: the bit position and the block's
 * state stay in locals (measured ~25% faster than a call per block).
 */
function decodeScan(
  data: Uint8Array,
  start: number,
  frame: Frame,
  scan: ScanComponent[],
  quant: Int32Array[],
  restartInterval: number,
  scale: JpegScale,
  plane: Uint8ClampedArray,
  planeW: number,
): number {
  const clean = unstuff(data, start);
  const bytes = clean.bytes;
  // The blocks of one MCU in order: scan component, and offset (in blocks) within the MCU.
  const single = scan.length === 1;
  const blkScan: number[] = [];
  const blkDx: number[] = [];
  const blkDy: number[] = [];
  for (let si = 0; si < scan.length; si++) {
    const comp = frame.components[scan[si].index];
    const hs = single ? 1 : comp.h;
    const vs = single ? 1 : comp.v;
    for (let v = 0; v < vs; v++) {
      for (let h = 0; h < hs; h++) {
        blkScan.push(si);
        blkDx.push(h);
        blkDy.push(v);
      }
    }
  }
  const nBlocks = blkScan.length;
  const lumaComp = frame.components[0];
  const mcuBw = single ? 1 : lumaComp.h;
  const mcuBh = single ? 1 : lumaComp.v;
  const c0 = frame.components[scan[0].index];
  const mcusW = single ? c0.blocksW : frame.mcusW;
  const total = mcusW * (single ? c0.blocksH : frame.mcusH);
  const lumaAt = scan.findIndex((sc) => sc.index === 0);
  const preds = new Int32Array(scan.length);
  const coef = new Int32Array(64);
  const written = new Uint8Array(64);
  const ws = new Int32Array(64);
  const q = quant[lumaComp.quant];
  const keep = scale === 8 ? null : scale === 4 ? KEEP_2X2 : scale === 2 ? KEEP_4X4 : KEEP_ALL;
  // By zig-zag index: the quantizer of each coefficient the IDCT reads, 0 for those it ignores.
  const qz = new Int32Array(64);
  if (keep) for (let k = 0; k < 64; k++) qz[k] = keep[NATURAL_ORDER[k]] ? q[NATURAL_ORDER[k]] : 0;
  const bs = 8 / scale;
  // The bit reader: `buf` holds the next `cnt` bits, most significant first (the rest zero), refilled a
  // byte at a time from `bytes[pos]` so that a code and its magnitude bits are usually in it already.
  let buf = 0;
  let cnt = 0;
  let pos = 0;
  /** End (in bytes) of the current restart interval's data: reading past it means the data ran short. */
  let limit = clean.restarts.length > 0 ? clean.restarts[0] : clean.length;
  let interval = 0;
  let left = restartInterval;
  for (let m = 0; m < total; m++) {
    if (restartInterval > 0) {
      if (left === 0) {
        if (pos * 8 - cnt > limit * 8) fail('entropy-coded data ends early');
        if (interval >= clean.restarts.length || clean.restartNumbers[interval] !== (interval & 7)) {
          fail('missing restart marker');
        }
        // The rest of the byte is padding; the next interval starts on a byte boundary.
        pos = clean.restarts[interval];
        buf = 0;
        cnt = 0;
        interval++;
        limit = interval < clean.restarts.length ? clean.restarts[interval] : clean.length;
        preds.fill(0);
        left = restartInterval;
      }
      left--;
    }
    const mx = m % mcusW;
    const my = (m - mx) / mcusW;
    for (let b = 0; b < nBlocks; b++) {
      const si = blkScan[b];
      const sc = scan[si];
      const luma = si === lumaAt;
      // DC difference.
      while (cnt <= 24) {
        buf |= bytes[pos++] << (24 - cnt);
        cnt += 8;
      }
      const fd = sc.dc.fastAc[buf >>> (32 - LOOKAHEAD)];
      let e: number;
      if (fd !== 0) {
        buf <<= fd & 0xff;
        cnt -= fd & 0xff;
        preds[si] += fd >> 16;
      } else {
        e = decodeSymbol(buf, sc.dc);
        if (e < 0) fail('bad Huffman code');
        buf <<= e >> 8;
        cnt -= e >> 8;
        const s0 = e & 0xff;
        if (s0 > 11) fail('DC difference out of range');
        if (s0 !== 0) {
          while (cnt <= 24) {
            buf |= bytes[pos++] << (24 - cnt);
            cnt += 8;
          }
          preds[si] += extend(buf >>> (32 - s0), s0);
          buf <<= s0;
          cnt -= s0;
        }
      }
      let nWritten = 0;
      const store = luma && keep !== null;
      // AC terms: run/size symbols, most of them (and their magnitude bits) resolved by one fastAc lookup.
      const ac = sc.ac;
      const fastAc = ac.fastAc;
      const lut = ac.lut;
      for (let k = 1; k < 64; k++) {
        while (cnt <= 24) {
          buf |= bytes[pos++] << (24 - cnt);
          cnt += 8;
        }
        const f = fastAc[buf >>> (32 - LOOKAHEAD)];
        let v: number;
        if (f !== 0) {
          buf <<= f & 0xff;
          cnt -= f & 0xff;
          v = f >> 16;
          if (v === 0) break; // EOB
          k += (f >> 8) & 0xff;
        } else {
          e = lut[buf >>> (32 - LOOKAHEAD)];
          if (e === 0) {
            e = decodeSymbol(buf, ac);
            if (e < 0) fail('bad Huffman code');
          }
          buf <<= e >> 8;
          cnt -= e >> 8;
          const r = (e >> 4) & 15;
          const s = e & 15;
          if (s === 0) {
            if (r !== 15) break; // EOB
            k += 15; // ZRL: 16 zeros (the loop adds one)
            continue;
          }
          if (s > 10) fail('bad AC coefficient');
          k += r;
          if (cnt < s) {
            while (cnt <= 24) {
              buf |= bytes[pos++] << (24 - cnt);
              cnt += 8;
            }
          }
          v = extend(buf >>> (32 - s), s);
          buf <<= s;
          cnt -= s;
        }
        if (k > 63) fail('AC index past 63');
        if (store) {
          const qk = qz[k];
          if (qk === 0) continue;
          const dq = v * qk;
          if (dq > 2175 || dq < -2175) fail('AC coefficient out of range');
          const n = NATURAL_ORDER[k];
          coef[n] = dq;
          written[nWritten++] = n;
        }
      }
      if (!luma) continue;
      // The luma block's pixels.
      const dc = preds[si] * q[0];
      if (dc > 2175 || dc < -2175) fail('DC coefficient out of range');
      const at = ((my * mcuBh + blkDy[b]) * planeW + mx * mcuBw + blkDx[b]) * bs;
      if (nWritten === 0) {
        // DC only: every IDCT gives the flat block of jpeg_idct_1x1. A loop: TypedArray.fill's call
        // overhead is larger than these 1 to 64 stores.
        const px = ((dc + 4) >> 3) + 128;
        if (bs === 2) {
          plane[at] = px;
          plane[at + 1] = px;
          plane[at + planeW] = px;
          plane[at + planeW + 1] = px;
        } else {
          for (let y = 0, o = at; y < bs; y++, o += planeW) for (let x = 0; x < bs; x++) plane[o + x] = px;
        }
        continue;
      }
      coef[0] = dc;
      if (scale === 4) idct2x2(coef, ws, plane, at, planeW);
      else if (scale === 2) idct4x4(coef, ws, plane, at, planeW);
      else idct8x8(coef, ws, plane, at, planeW);
      for (let i = 0; i < nWritten; i++) coef[written[i]] = 0;
    }
    if (pos * 8 - cnt > limit * 8) fail('entropy-coded data ends early');
  }
  if (interval !== clean.restarts.length) fail('unexpected restart marker');
  return clean.end;
}

/** The libjpeg scale (1, 2, 4 or 8) that decodes a width x height image closest to, but not below, maxSide. */
export function jpegScaleFor(width: number, height: number, maxSide: number = WORK_SIZE): JpegScale {
  const longest = Math.max(width, height);
  for (const s of [8, 4, 2] as const) if (Math.ceil(longest / s) >= maxSide) return s;
  return 1;
}

/**
 * Decodes a JPEG's luma plane at 1/scale (`jpegScaleFor` picks it when omitted), or says why it does not
 * (`{ unsupported }`: use sharp). Never throws.
 */
export function decodeJpegLuma(data: Uint8Array, scale?: JpegScale): JpegDecodeResult {
  try {
    return decodeOrThrow(data, scale);
  } catch (err) {
    if (err instanceof Unsupported) return { unsupported: err.message };
    // Anything else (an index past the end on malformed data) is malformed input too.
    return { unsupported: `malformed: ${(err as Error).message}` };
  }
}

function decodeOrThrow(data: Uint8Array, requestedScale?: JpegScale): JpegLuma {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) fail('not a JPEG');
  const quant: Int32Array[] = [];
  const dcTables: Huffman[] = [];
  const acTables: Huffman[] = [];
  let frame: Frame | null = null;
  let restartInterval = 0;
  let orientation = 1;
  let adobeTransform = -1;
  let sawExif = false;
  const icc: Uint8Array[] = [];
  let plane: Uint8ClampedArray | null = null;
  let planeW = 0;
  let scale: JpegScale = 1;
  let lumaDecoded = false;
  let pos = 2;
  for (;;) {
    while (pos < data.length && data[pos] === 0xff && data[pos + 1] === 0xff) pos++;
    if (pos + 2 > data.length) fail('no EOI marker');
    if (data[pos] !== 0xff) fail(`expected a marker at byte ${pos}`);
    const marker = data[pos + 1];
    pos += 2;
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (pos + 2 > data.length) fail('segment length past the end');
    const length = u16(data, pos);
    if (length < 2 || pos + length > data.length) fail('segment past the end');
    const seg = data.subarray(pos + 2, pos + length);
    pos += length;
    if (marker === 0xdb) {
      // DQT: one or more tables, 8- or 16-bit entries in zig-zag order.
      for (let i = 0; i < seg.length; ) {
        const pq = seg[i] >> 4;
        const tq = seg[i] & 15;
        if (tq > 3 || pq > 1) fail('bad DQT');
        const q = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          q[NATURAL_ORDER[k]] = pq ? u16(seg, i + 1 + 2 * k) : seg[i + 1 + k];
        }
        i += 1 + 64 * (pq ? 2 : 1);
        if (i > seg.length) fail('DQT truncated');
        quant[tq] = q;
      }
    } else if (marker === 0xc4) {
      // DHT
      for (let i = 0; i < seg.length; ) {
        const tc = seg[i] >> 4;
        const th = seg[i] & 15;
        if (tc > 1 || th > 3 || i + 17 > seg.length) fail('bad DHT');
        const counts = seg.subarray(i + 1, i + 17);
        let n = 0;
        for (const c of counts) n += c;
        if (n > 256 || i + 17 + n > seg.length) fail('DHT truncated');
        const table = cachedHuffman(seg.subarray(i + 1, i + 17 + n));
        (tc === 0 ? dcTables : acTables)[th] = table;
        i += 17 + n;
      }
    } else if (marker === 0xdd) {
      if (seg.length < 2) fail('bad DRI');
      restartInterval = u16(seg, 0);
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (frame) fail('second frame header');
      if (seg.length < 6 || seg[0] !== 8) fail(`${seg[0]}-bit samples`);
      const height = u16(seg, 1);
      const width = u16(seg, 3);
      const nf = seg[5];
      if (height === 0 || width === 0) fail('no dimensions in the frame header');
      if (nf !== 1 && nf !== 3) fail(`${nf} components`);
      if (seg.length < 6 + 3 * nf) fail('frame header truncated');
      const comps: Component[] = [];
      for (let c = 0; c < nf; c++) {
        const h = seg[7 + 3 * c] >> 4;
        const v = seg[7 + 3 * c] & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) fail('bad sampling factors');
        comps.push({ id: seg[6 + 3 * c], h, v, quant: seg[8 + 3 * c], blocksW: 0, blocksH: 0 });
      }
      const hmax = Math.max(...comps.map((c) => c.h));
      const vmax = Math.max(...comps.map((c) => c.v));
      if (nf === 3 && (comps[0].h !== hmax || comps[0].v !== vmax)) fail('luma is subsampled');
      if (nf === 3 && comps[0].id === 0x52 && comps[1].id === 0x47 && comps[2].id === 0x42) fail('RGB JPEG');
      for (const c of comps) {
        c.blocksW = Math.ceil(Math.ceil((width * c.h) / hmax) / 8);
        c.blocksH = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
        if (c.quant > 3) fail('bad quantisation table index');
      }
      frame = {
        width,
        height,
        components: comps,
        hmax,
        vmax,
        mcusW: Math.ceil(width / (8 * hmax)),
        mcusH: Math.ceil(height / (8 * vmax)),
      };
      scale = requestedScale ?? jpegScaleFor(width, height);
      const bs = 8 / scale;
      // Room for the luma blocks of whole MCUs (interleaved) or of the plane (one-component scan).
      planeW = Math.max(frame.mcusW * comps[0].h, comps[0].blocksW) * bs;
      const planeH = Math.max(frame.mcusH * comps[0].v, comps[0].blocksH) * bs;
      // The caller's pixel limit applies first; this only keeps a direct call from allocating gigabytes.
      if (planeW * planeH > 1 << 26) fail('too large for the in-process decoder');
      plane = new Uint8ClampedArray(planeW * planeH);
    } else if (isSofMarker(marker)) {
      fail(
        marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce
          ? 'progressive JPEG'
          : marker === 0xc3 || marker === 0xc7 || marker === 0xcb || marker === 0xcf
            ? 'lossless JPEG'
            : 'arithmetic-coded JPEG',
      );
    } else if (marker === 0xda) {
      // SOS
      if (!frame || !plane) fail('scan before the frame header');
      const f = frame as Frame;
      const ns = seg[0];
      if (ns < 1 || ns > f.components.length || seg.length < 1 + 2 * ns + 3) fail('bad scan header');
      const scan: ScanComponent[] = [];
      for (let i = 0; i < ns; i++) {
        const id = seg[1 + 2 * i];
        const index = f.components.findIndex((c) => c.id === id);
        if (index < 0) fail('scan names an unknown component');
        const dc = dcTables[seg[2 + 2 * i] >> 4];
        const ac = acTables[seg[2 + 2 * i] & 15];
        if (!dc || !ac) fail('scan uses an undefined Huffman table');
        if (!quant[f.components[index].quant]) fail('undefined quantisation table');
        scan.push({ index, dc, ac });
      }
      const ss = seg[1 + 2 * ns];
      const se = seg[2 + 2 * ns];
      const a = seg[3 + 2 * ns];
      if (ss !== 0 || se !== 63 || a !== 0) fail('not a sequential scan');
      if (ns > 1) {
        let blocks = 0;
        for (const sc of scan) blocks += f.components[sc.index].h * f.components[sc.index].v;
        if (blocks > 10) fail('more than 10 blocks per MCU');
      }
      if (scan.some((sc) => sc.index === 0)) {
        if (lumaDecoded) fail('luma in two scans');
        lumaDecoded = true;
      }
      pos = decodeScan(data, pos, f, scan, quant, restartInterval, scale, plane as Uint8ClampedArray, planeW);
    } else if (marker === 0xe1) {
      if (!sawExif && seg.length >= 6 && String.fromCharCode(...seg.subarray(0, 6)) === 'Exif\0\0') {
        sawExif = true;
        orientation = exifOrientation(seg);
      }
    } else if (marker === 0xe2) {
      if (seg.length >= 14 && String.fromCharCode(...seg.subarray(0, 12)) === 'ICC_PROFILE\0') {
        icc.push(seg.subarray(14));
      }
    } else if (marker === 0xee) {
      if (seg.length >= 12 && String.fromCharCode(...seg.subarray(0, 5)) === 'Adobe')
        adobeTransform = seg[11];
    } else if (marker === 0xdc || marker === 0xde || marker === 0xdf) {
      fail('DNL/DHP/EXP marker');
    }
    // Other APPn, COM and unknown segments carry nothing for the pixels.
  }
  if (!frame || !plane) fail('no frame');
  const f = frame as Frame;
  if (!lumaDecoded) fail('no scan with the luma component');
  if (f.components.length === 3 && adobeTransform === 0) fail('RGB JPEG (Adobe transform 0)');
  if (icc.length > 0 && !isSrgbProfile(icc.length === 1 ? icc[0] : Buffer.concat(icc))) {
    fail('colour profile other than sRGB');
  }
  const width = Math.ceil(f.width / scale);
  const height = Math.ceil(f.height / scale);
  const src = new Uint8Array((plane as Uint8ClampedArray).buffer);
  let gray: Uint8Array;
  if (width === planeW) gray = src.subarray(0, width * height);
  else {
    gray = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) gray.set(src.subarray(y * planeW, y * planeW + width), y * width);
  }
  return { image: { gray, width, height }, orientation };
}
