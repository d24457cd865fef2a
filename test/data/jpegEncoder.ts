/**
 * A small baseline JPEG encoder for the decoder's tests: it writes what sharp cannot be asked for
 * (restart intervals, 4:2:2 / 4:4:0 / 4:1:1 sampling, one scan per component, a gray JPEG that declares
 * 2x2 sampling). Float DCT, the quantisation and standard Huffman tables taken from a sharp-written JPEG
 * (`tablesFrom`), so libjpeg (through sharp) is the reference decoder for everything it writes.
 */

export interface JpegTables {
  /** DQT segment payloads (one table each), by table id. */
  dqt: Uint8Array[];
  /** DHT payloads (class/id byte, 16 counts, symbols). */
  dht: Uint8Array[];
  /** Code tables for encoding: [dc0, ac0, dc1, ac1] as symbol → [code, length]. */
  codes: Map<number, [number, number]>[];
  quant: Int32Array[];
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

/** The quantisation and Huffman tables of a colour baseline JPEG written without optimised coding. */
export function tablesFrom(jpeg: Uint8Array): JpegTables {
  const dqt: Uint8Array[] = [];
  const dht: Uint8Array[] = [];
  const codes: Map<number, [number, number]>[] = [];
  const quant: Int32Array[] = [];
  let pos = 2;
  while (pos + 4 <= jpeg.length) {
    const marker = jpeg[pos + 1];
    const length = (jpeg[pos + 2] << 8) | jpeg[pos + 3];
    const seg = jpeg.subarray(pos + 4, pos + 2 + length);
    if (marker === 0xda) break;
    if (marker === 0xdb) {
      for (let i = 0; i < seg.length; i += 65) {
        if (seg[i] >> 4 !== 0) throw new Error('16-bit DQT not handled');
        const id = seg[i] & 15;
        dqt[id] = seg.slice(i, i + 65);
        const q = new Int32Array(64);
        for (let k = 0; k < 64; k++) q[ZIGZAG[k]] = seg[i + 1 + k];
        quant[id] = q;
      }
    } else if (marker === 0xc4) {
      for (let i = 0; i < seg.length; ) {
        const counts = seg.subarray(i + 1, i + 17);
        const n = counts.reduce((a, b) => a + b, 0);
        dht.push(seg.slice(i, i + 17 + n));
        const table = new Map<number, [number, number]>();
        let code = 0;
        let k = 0;
        for (let len = 1; len <= 16; len++) {
          for (let j = 0; j < counts[len - 1]; j++) table.set(seg[i + 17 + k++], [code++, len]);
          code <<= 1;
        }
        codes[(seg[i] & 15) * 2 + (seg[i] >> 4)] = table;
        i += 17 + n;
      }
    }
    pos += 2 + length;
  }
  if (codes.length < 4 || quant.length < 2)
    throw new Error('expected two quantisation and four Huffman tables');
  return { dqt, dht, codes, quant };
}

export interface EncodeOptions {
  width: number;
  height: number;
  /** Full-resolution planes, 0..255: [gray] or [Y, Cb, Cr]. */
  planes: Uint8Array[];
  /** Sampling factors per component, e.g. [[2, 2], [1, 1], [1, 1]] for 4:2:0. */
  sampling: [number, number][];
  tables: JpegTables;
  /** MCUs per restart interval (0 = none). */
  restartInterval?: number;
  /** One scan with every component (default) or one scan per component. */
  interleaved?: boolean;
}

class BitWriter {
  bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((code >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0);
    this.acc = 0;
    this.n = 0;
  }
  /** Pads the last byte with ones (as libjpeg does). */
  align(): void {
    while (this.n !== 0) this.write(1, 1);
  }
}

const COS = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i >> 3) + 1) * (i & 7) * Math.PI) / 16));

function fdct(block: Float64Array): Float64Array {
  const out = new Float64Array(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) sum += block[y * 8 + x] * COS[x * 8 + u] * COS[y * 8 + v];
      }
      out[v * 8 + u] = (sum * (u === 0 ? Math.SQRT1_2 : 1) * (v === 0 ? Math.SQRT1_2 : 1)) / 4;
    }
  }
  return out;
}

const category = (v: number) => (v === 0 ? 0 : 32 - Math.clz32(Math.abs(v)));

/** Encodes a baseline JPEG (SOF0) of the given planes. */
export function encodeJpeg(options: EncodeOptions): Buffer {
  const { width, height, planes, sampling, tables } = options;
  const nc = planes.length;
  const hmax = Math.max(...sampling.map((s) => s[0]));
  const vmax = Math.max(...sampling.map((s) => s[1]));
  const mcusW = Math.ceil(width / (8 * hmax));
  const mcusH = Math.ceil(height / (8 * vmax));
  const ri = options.restartInterval ?? 0;
  // Each component's downsampled plane (box average), as quantised blocks on demand.
  const comp = sampling.map(([h, v], c) => {
    const cw = Math.ceil((width * h) / hmax);
    const ch = Math.ceil((height * v) / vmax);
    const fx = hmax / h;
    const fy = vmax / v;
    const sample = (x: number, y: number) => {
      const px = Math.min(x, cw - 1);
      const py = Math.min(y, ch - 1);
      let sum = 0;
      let n = 0;
      for (let yy = py * fy; yy < Math.min(height, (py + 1) * fy); yy++) {
        for (let xx = px * fx; xx < Math.min(width, (px + 1) * fx); xx++) {
          sum += planes[c][yy * width + xx];
          n++;
        }
      }
      return sum / n;
    };
    const quant = tables.quant[c === 0 ? 0 : 1];
    const block = (bx: number, by: number): Int32Array => {
      const b = new Float64Array(64);
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) b[y * 8 + x] = sample(bx * 8 + x, by * 8 + y) - 128;
      const f = fdct(b);
      const q = new Int32Array(64);
      for (let k = 0; k < 64; k++) q[k] = Math.round(f[ZIGZAG[k]] / quant[ZIGZAG[k]]);
      return q;
    };
    return { h, v, cw, ch, block, table: c === 0 ? 0 : 1 };
  });
  const segments: number[] = [0xff, 0xd8];
  const segment = (marker: number, payload: ArrayLike<number>) => {
    segments.push(0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff);
    for (const b of Array.from(payload)) segments.push(b);
  };
  for (const t of tables.dqt.slice(0, nc === 1 ? 1 : 2)) segment(0xdb, t);
  const sof = [8, height >> 8, height & 0xff, width >> 8, width & 0xff, nc];
  for (let c = 0; c < nc; c++) sof.push(c + 1, (sampling[c][0] << 4) | sampling[c][1], c === 0 ? 0 : 1);
  segment(0xc0, sof);
  for (const t of tables.dht) segment(0xc4, t);
  if (ri > 0) segment(0xdd, [ri >> 8, ri & 0xff]);

  const scans =
    options.interleaved === false || nc === 1 ? planes.map((_, c) => [c]) : [planes.map((_, c) => c)];
  for (const scanComps of scans) {
    const sos = [scanComps.length];
    for (const c of scanComps) sos.push(c + 1, (comp[c].table << 4) | comp[c].table);
    sos.push(0, 63, 0);
    segment(0xda, sos);
    const bits = new BitWriter();
    const preds = new Int32Array(nc);
    const encodeBlock = (c: number, bx: number, by: number) => {
      const q = comp[c].block(bx, by);
      const dcCodes = tables.codes[comp[c].table * 2];
      const acCodes = tables.codes[comp[c].table * 2 + 1];
      const diff = q[0] - preds[c];
      preds[c] = q[0];
      const s = category(diff);
      const [code, len] = dcCodes.get(s)!;
      bits.write(code, len);
      if (s) bits.write(diff < 0 ? diff + (1 << s) - 1 : diff, s);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        if (q[k] === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          const [zc, zl] = acCodes.get(0xf0)!;
          bits.write(zc, zl);
          run -= 16;
        }
        const sz = category(q[k]);
        const [c2, l2] = acCodes.get((run << 4) | sz)!;
        bits.write(c2, l2);
        bits.write(q[k] < 0 ? q[k] + (1 << sz) - 1 : q[k], sz);
        run = 0;
      }
      if (run > 0) {
        const [ec, el] = acCodes.get(0)!;
        bits.write(ec, el);
      }
    };
    const single = scanComps.length === 1;
    const c0 = comp[scanComps[0]];
    const unitsW = single ? Math.ceil(c0.cw / 8) : mcusW;
    const unitsH = single ? Math.ceil(c0.ch / 8) : mcusH;
    let restarts = 0;
    for (let m = 0; m < unitsW * unitsH; m++) {
      if (ri > 0 && m > 0 && m % ri === 0) {
        bits.align();
        bits.bytes.push(0xff, 0xd0 + (restarts++ & 7));
        preds.fill(0);
      }
      const mx = m % unitsW;
      const my = Math.floor(m / unitsW);
      for (const c of scanComps) {
        if (single) encodeBlock(c, mx, my);
        else
          for (let v = 0; v < comp[c].v; v++)
            for (let h = 0; h < comp[c].h; h++) encodeBlock(c, mx * comp[c].h + h, my * comp[c].v + v);
      }
    }
    bits.align();
    for (const b of bits.bytes) segments.push(b);
  }
  segments.push(0xff, 0xd9);
  return Buffer.from(segments);
}

/** RGB (interleaved) → full-resolution Y, Cb, Cr planes (JFIF). */
export function rgbToYcc(rgb: Uint8Array, n: number): Uint8Array[] {
  const y = new Uint8Array(n);
  const cb = new Uint8Array(n);
  const cr = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rgb[3 * i];
    const g = rgb[3 * i + 1];
    const b = rgb[3 * i + 2];
    y[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    cb[i] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
    cr[i] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
  }
  return [y, cb, cr];
}
