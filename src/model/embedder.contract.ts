/**
 * The seam between serving/evaluation and the inference engines (ONNX
 * Runtime, tfjs): the only interface the catalog, index and server use to
 * turn preprocessed images into vectors.
 */
import { IMAGE_PIXELS } from '../data/classes.ts';
import { ValidationError } from '../errors.ts';
import type { EmbeddingHead } from './embeddingHead.ts';

export interface Embedder {
  /** Stable identifier of the weights, e.g. `default@<sha256 prefix of weights>`. */
  readonly modelVersion: string;
  readonly dim: number;
  /** What computes the embeddings, for logs and status: `onnxruntime`, `tfjs-wasm`, ... */
  readonly engine?: string;
  /** What this engine applies after the network (metadata.json's head as it was loaded). */
  readonly head: EmbeddingHead;
  /**
   * Embeds `count` images given as count*784 floats in [0,1] (garment light on
   * dark, as Fashion-MNIST). Returns count*dim floats, row-major.
   */
  embed(images: Float32Array, count: number): Promise<Float32Array>;
  dispose(): void;
}

/** Throws ValidationError unless `images` holds exactly `count` images of 784 floats. */
export function checkImageBatch(images: Float32Array, count: number): void {
  if (!Number.isInteger(count) || count < 0 || images.length !== count * IMAGE_PIXELS) {
    throw new ValidationError(
      `expected ${count} images of ${IMAGE_PIXELS} floats (${count * IMAGE_PIXELS} values), got ${images.length}`,
    );
  }
}
