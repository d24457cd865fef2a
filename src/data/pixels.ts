/** 8-bit gray pixels (0..255) → the model's input scale [0,1]. */
export function bytesToUnit(bytes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}
