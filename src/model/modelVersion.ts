/**
 * A model directory's identity without tfjs: its name and embedding head (metadata.json) and the
 * sha256 of its weights file. `modelVersion` = `name@` + the first 12 hex digits of their digest,
 * whichever engine (tfjs, ONNX Runtime) runs the model, so embeddings stored under a version stay
 * valid across engines.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFileError } from '../errors.ts';
import { type EmbeddingHead, modelDigest, parseEmbeddingHead } from './embeddingHead.ts';

/** The tfjs weights file of a model directory (as modelIo.ts's WEIGHTS_BIN, which imports tfjs). */
export const WEIGHTS_FILE = 'weights.bin';
export const METADATA_FILE = 'metadata.json';

export function formatModelVersion(name: string, digest: string): string {
  return `${name}@${digest.slice(0, 12)}`;
}

export interface ModelIdentity {
  /** metadata.json's `name`. */
  name: string;
  /** What follows the network's embedding (metadata.json's `embeddingHead`). */
  head: EmbeddingHead;
}

/** The `name` and embedding head of a model directory's metadata.json. */
export async function readModelIdentity(modelDir: string): Promise<ModelIdentity> {
  const path = join(modelDir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataFileError(`cannot read ${path}: ${(err as Error).message}`, 'MODEL_FILE_MISSING');
  }
  try {
    const metadata: unknown = JSON.parse(text);
    const name = (metadata as { name?: unknown }).name;
    if (typeof name !== 'string' || name === '') throw new Error('no "name" field');
    return { name, head: parseEmbeddingHead(metadata, path) };
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(
      `${path} is not valid model metadata: ${(err as Error).message}`,
      'MODEL_FILE_CORRUPT',
    );
  }
}

/** The version of a model with this identity and weights' sha256 (see modelDigest). */
export function modelVersionOf(identity: ModelIdentity, weightsSha256: string): string {
  return formatModelVersion(identity.name, modelDigest(weightsSha256, identity.head));
}

/** sha256 hex of the directory's weights.bin. */
export async function hashWeightsFile(modelDir: string): Promise<string> {
  const path = join(modelDir, WEIGHTS_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataFileError(
      `cannot read model file ${path}: ${(err as Error).message}`,
      'MODEL_FILE_MISSING',
    );
  }
  return createHash('sha256').update(bytes).digest('hex');
}
