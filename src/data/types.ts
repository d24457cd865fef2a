/** A set of 28x28 grayscale images, row-major, one byte per pixel (0 = black). */
export interface ImageSet {
  /** count * 784 bytes, image i at [i*784, (i+1)*784). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface FashionMnist {
  train: ImageSet;
  test: ImageSet;
  /** Directory the files were read from. */
  dir: string;
  /** MD5 of each file's decompressed content, keyed by file name. */
  checksums: Record<string, string>;
}
