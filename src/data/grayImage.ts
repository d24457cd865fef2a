/**
 * The small 8-bit grayscale image every decoder hands to the shared preprocessing, the working size, and
 * the two geometric steps decoders share: EXIF orientation and the final fit to WORK_SIZE.
 */

/** 8-bit gray pixels, row-major, `width * height` long. */
export interface GrayImage {
  gray: Uint8Array;
  width: number;
  height: number;
}

/**
 * The decoded image is first shrunk (JPEG by DCT scaling in the decoder, WebP by libvips' shrink-on-load)
 * so that its longest side is at most this; background detection, trimming and the final fit to 28 px run
 * on that small image in JS. 128 = 4 x 28 keeps enough detail for a good 28 px result and lets a 512 px
 * JPEG decode at exactly 1/4 scale with no further resampling.
 */
export const WORK_SIZE = 128;

const IDENTITY_LEVELS = Float32Array.from({ length: 256 }, (_, i) => i);

/**
 * Resampling weights for output pixel i centred on source coordinate (i + 0.5) / scale: area averaging
 * (each source pixel weighted by how much of it the output pixel covers) when shrinking, which recovers a
 * pixel grid that was enlarged best of the kernels measured; bilinear when enlarging. Scale 1 is the identity.
 */
function weights(
  inSize: number,
  outSize: number,
): { start: Int32Array; count: Int32Array; w: Float32Array; taps: number } {
  const scale = outSize / inSize;
  const support = Math.max(1, 1 / scale);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const w = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) / scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const v =
        scale < 1
          ? Math.max(0, Math.min(j + 1, center + support / 2) - Math.max(j, center - support / 2))
          : Math.max(0, 1 - Math.abs(j + 0.5 - center));
      w[i * taps + j - lo] = v;
      sum += v;
    }
    for (let j = lo; j < hi; j++) w[i * taps + j - lo] /= sum;
    // Area weights are zero at both ends of the window: dropping those taps skips work without changing a
    // result (adding 0 leaves a sum as it is).
    let first = 0;
    let last = hi - lo - 1;
    while (first < last && w[i * taps + first] === 0) first++;
    while (last > first && w[i * taps + last] === 0) last--;
    if (first > 0) w.copyWithin(i * taps, i * taps + first, i * taps + last + 1);
    start[i] = lo + first;
    count[i] = last - first + 1;
  }
  return { start, count, w, taps };
}

/**
 * Resamples the crop (x0, y0, cw, ch) of a w-wide gray image to ow x oh, separably (rows, then columns);
 * with `levels`, each source pixel p stands for levels[p] (a tone mapping applied on the fly).
 */
export function resizeCrop(
  src: Uint8Array,
  w: number,
  x0: number,
  y0: number,
  cw: number,
  ch: number,
  ow: number,
  oh: number,
  levels: Float32Array = IDENTITY_LEVELS,
): Float32Array {
  const hx = weights(cw, ow);
  const tmp = new Float32Array(ow * ch);
  const wx = hx.w;
  for (let y = 0; y < ch; y++) {
    const row = (y0 + y) * w + x0;
    for (let i = 0; i < ow; i++) {
      let acc = 0;
      const s = row + hx.start[i];
      const n = hx.count[i];
      const base = i * hx.taps;
      for (let k = 0; k < n; k++) acc += levels[src[s + k]] * wx[base + k];
      tmp[y * ow + i] = acc;
    }
  }
  const hy = weights(ch, oh);
  const wy = hy.w;
  const out = new Float32Array(ow * oh);
  for (let i = 0; i < oh; i++) {
    const s = hy.start[i];
    const n = hy.count[i];
    const base = i * hy.taps;
    for (let x = 0; x < ow; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += tmp[(s + k) * ow + x] * wy[base + k];
      out[i * ow + x] = acc;
    }
  }
  return out;
}

/**
 * Shrinks an image so that its longest side is at most `maxSide` (area averaging; the shorter side rounded
 * as sharp's `fit: 'inside'` does); a smaller image is returned as it is.
 */
export function fitInside(image: GrayImage, maxSide: number): GrayImage {
  const { width, height } = image;
  if (width <= maxSide && height <= maxSide) return image;
  const scale = maxSide / Math.max(width, height);
  const ow = width >= height ? maxSide : Math.max(1, Math.round(width * scale));
  const oh = height > width ? maxSide : Math.max(1, Math.round(height * scale));
  const fitted = resizeCrop(image.gray, width, 0, 0, width, height, ow, oh);
  const gray = new Uint8Array(ow * oh);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.min(255, Math.max(0, Math.round(fitted[i])));
  return { gray, width: ow, height: oh };
}

/**
 * Applies an EXIF orientation (1..8: the transform that displays the stored pixels upright, as libvips'
 * autorot does); 1 and unknown values leave the image as it is.
 */
export function orient(image: GrayImage, orientation: number): GrayImage {
  if (orientation < 2 || orientation > 8) return image;
  const { gray, width: w, height: h } = image;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Source coordinates of output pixel (x, y).
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: // mirrored horizontally
          sx = w - 1 - x;
          sy = y;
          break;
        case 3: // rotated 180°
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4: // mirrored vertically
          sx = x;
          sy = h - 1 - y;
          break;
        case 5: // transposed
          sx = y;
          sy = x;
          break;
        case 6: // needs 90° clockwise
          sx = y;
          sy = h - 1 - x;
          break;
        case 7: // transversed
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default: // 8: needs 90° counter-clockwise
          sx = w - 1 - y;
          sy = x;
      }
      out[y * ow + x] = gray[sy * w + sx];
    }
  }
  return { gray: out, width: ow, height: oh };
}
