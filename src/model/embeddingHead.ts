/**
 * What a model directory's `metadata.json` may add after the network's unit embedding, applied the
 * same way by every engine (tfjs here in JS, ONNX Runtime as nodes of the exported graph):
 *
 * - `flipAverage`: the image and its mirror image are embedded and their unit embeddings averaged
 *   (test-time augmentation; the networks train with mirrored images, so both are views of one item);
 * - `classPull`: the embedding e moves toward the class weight vectors of the model's cosine head
 *   (the CosFace proxies it was trained with), by `weight` times their softmax(`scale` · cos)-weighted
 *   mean, then back onto the unit sphere. An item the head places firmly in one class is drawn to that
 *   class's proxy; distances within a class shrink alike, so the order within it changes little, while
 *   whole classes separate: the order of a long result list follows the category more closely.
 *
 * Both change the embedding without changing weights.bin, so they are part of the model version.
 */
import { createHash } from 'node:crypto';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { DataFileError } from '../errors.ts';

export interface ClassPull {
  /** How far toward the proxies: 0 = not at all. */
  weight: number;
  /** Softmax scale of the cosines; the CosFace scale the model trained with is the natural one. */
  scale: number;
}

export interface EmbeddingHead {
  flipAverage: boolean;
  classPull: ClassPull | null;
}

export const PLAIN_HEAD: EmbeddingHead = { flipAverage: false, classPull: null };

/** The metadata.json key. */
export const EMBEDDING_HEAD_KEY = 'embeddingHead';

/**
 * Floor of the squared norm: a zero row stays finite (it maps to zero) and the gradient near it is
 * bounded. tf.math.l2_normalize's default; the L2Normalize layer, this head and the ONNX export all
 * use it.
 */
export const L2_EPSILON = 1e-12;

export function isPlainHead(head: EmbeddingHead): boolean {
  return !head.flipAverage && head.classPull === null;
}

/** The head recorded in a parsed metadata.json (absent: the plain embedding); `where` names the file. */
export function parseEmbeddingHead(metadata: unknown, where: string): EmbeddingHead {
  const raw = (metadata as Record<string, unknown> | null)?.[EMBEDDING_HEAD_KEY];
  if (raw === undefined) return PLAIN_HEAD;
  const bad = (why: string) =>
    new DataFileError(`${where}: ${EMBEDDING_HEAD_KEY} ${why}: ${JSON.stringify(raw)}`, 'MODEL_FILE_CORRUPT');
  if (typeof raw !== 'object' || raw === null) throw bad('must be an object');
  const { flipAverage = false, classPull = null } = raw as Record<string, unknown>;
  if (typeof flipAverage !== 'boolean') throw bad('flipAverage must be a boolean');
  if (classPull === null) return { flipAverage, classPull: null };
  const { weight, scale } = (classPull ?? {}) as Record<string, unknown>;
  if (typeof weight !== 'number' || !(weight > 0) || typeof scale !== 'number' || !(scale > 0))
    throw bad('classPull needs a positive weight and scale');
  return { flipAverage, classPull: { weight, scale } };
}

/**
 * The head a command line asks for (`--flip-average`, `--class-pull W` with its softmax scale), checked
 * as a load checks metadata.json's, so that a bad weight is refused before anything is written.
 */
export function headFromOptions(
  flipAverage: boolean,
  classPull: { weight: unknown; scale: unknown } | null,
  where: string,
): EmbeddingHead {
  return parseEmbeddingHead({ [EMBEDDING_HEAD_KEY]: { flipAverage, classPull } }, where);
}

/**
 * The model version's digest: the weights' sha256 for the plain head (versions of models without a
 * head are unchanged), else the sha256 of the weights' digest and the head.
 */
export function modelDigest(weightsSha256: string, head: EmbeddingHead): string {
  if (isPlainHead(head)) return weightsSha256;
  return createHash('sha256')
    .update(
      `${weightsSha256}:${JSON.stringify({ flipAverage: head.flipAverage, classPull: head.classPull })}`,
    )
    .digest('hex');
}

/** Each 28x28 image mirrored left to right (the second view of flipAverage). */
export function mirrorImages(images: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * IMAGE_PIXELS);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < IMAGE_SIZE; y++) {
      const row = i * IMAGE_PIXELS + y * IMAGE_SIZE;
      for (let x = 0; x < IMAGE_SIZE; x++) out[row + x] = images[row + IMAGE_SIZE - 1 - x];
    }
  }
  return out;
}

/**
 * Unit class proxies [classes, dim] from a cosine head's kernel [dim, classes] (its columns), as
 * CosineLogits normalises them.
 */
export function unitProxies(kernel: Float32Array, dim: number, classes: number): Float32Array {
  const proxies = new Float32Array(classes * dim);
  for (let c = 0; c < classes; c++) {
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += kernel[d * classes + c] ** 2;
    const norm = Math.sqrt(Math.max(sum, L2_EPSILON));
    for (let d = 0; d < dim; d++) proxies[c * dim + d] = kernel[d * classes + c] / norm;
  }
  return proxies;
}

function normalizeRow(row: Float32Array): void {
  let sum = 0;
  for (let d = 0; d < row.length; d++) sum += row[d] * row[d];
  const norm = Math.sqrt(Math.max(sum, L2_EPSILON));
  for (let d = 0; d < row.length; d++) row[d] /= norm;
}

/**
 * The head over the network's embeddings of the images (`plain`) and, with flipAverage, of their
 * mirror images (`mirrored`), both [count, dim]; `proxies` [classes, dim] from unitProxies when the
 * head pulls.
 */
export function applyEmbeddingHead(
  head: EmbeddingHead,
  dim: number,
  plain: Float32Array,
  mirrored?: Float32Array,
  proxies?: Float32Array,
): Float32Array {
  const out = Float32Array.from(plain);
  const count = plain.length / dim;
  if (head.flipAverage) {
    if (!mirrored) throw new Error('flipAverage needs the mirror images’ embeddings');
    for (let i = 0; i < out.length; i++) out[i] = (out[i] + mirrored[i]) / 2;
  }
  const pull = head.classPull;
  if (pull && !proxies) throw new Error('classPull needs the class proxies');
  const classes = proxies ? proxies.length / dim : 0;
  const probabilities = new Float64Array(classes);
  for (let r = 0; r < count; r++) {
    const row = out.subarray(r * dim, (r + 1) * dim);
    if (head.flipAverage) normalizeRow(row);
    if (!pull || !proxies) continue;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      let cos = 0;
      for (let d = 0; d < dim; d++) cos += row[d] * proxies[c * dim + d];
      probabilities[c] = pull.scale * cos;
      max = Math.max(max, probabilities[c]);
    }
    let total = 0;
    for (let c = 0; c < classes; c++) {
      probabilities[c] = Math.exp(probabilities[c] - max);
      total += probabilities[c];
    }
    for (let d = 0; d < dim; d++) {
      let toward = 0;
      for (let c = 0; c < classes; c++) toward += probabilities[c] * proxies[c * dim + d];
      row[d] += (pull.weight * toward) / total;
    }
    normalizeRow(row);
  }
  return out;
}
