/**
 * Small in-place filters on float gray images (row-major): the blur the photo renderer and the
 * training augmentation draw, and the finish the preprocessing gives a garment it has shrunk.
 */

/** Separable gaussian blur in place (edges clamped); sigma in pixels, none below 0.05. */
export function gaussianBlur(img: Float32Array, w: number, h: number, sigma: number): void {
  if (sigma < 0.05) return;
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const taps = 2 * radius + 1;
  const kernel = Float64Array.from({ length: taps }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const sum = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < taps; i++) kernel[i] /= sum;
  // One line at a time, padded with its edge values, so the inner loop has no bounds to clamp.
  const line = new Float64Array(Math.max(w, h) + 2 * radius);
  for (let pass = 0; pass < 2; pass++) {
    const [n, lines, step, lineStep] = pass === 0 ? [w, h, 1, w] : [h, w, w, 1];
    for (let l = 0; l < lines; l++) {
      const base = l * lineStep;
      for (let i = -radius; i < n + radius; i++)
        line[i + radius] = img[base + Math.min(n - 1, Math.max(0, i)) * step];
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let k = 0; k < taps; k++) acc += kernel[k] * line[i + k];
        img[base + i * step] = acc;
      }
    }
  }
}

/**
 * Unsharp masking in place: img + amount · (img − gaussian(img, sigma)). Edges gain contrast in proportion to
 * `amount`; a constant image is unchanged. Values may leave 0..255; the caller clamps.
 */
export function unsharpMask(img: Float32Array, w: number, h: number, sigma: number, amount: number): void {
  const blurred = Float32Array.from(img);
  gaussianBlur(blurred, w, h, sigma);
  for (let i = 0; i < img.length; i++) img[i] += amount * (img[i] - blurred[i]);
}

/** Scales img in place so that its largest value becomes `peak`; an image with no positive value is left as it is. */
export function scaleToPeak(img: Float32Array, peak: number): void {
  let max = 0;
  for (let i = 0; i < img.length; i++) max = Math.max(max, img[i]);
  if (max <= 0) return;
  const gain = peak / max;
  for (let i = 0; i < img.length; i++) img[i] *= gain;
}
