/**
 * A model directory's identity without tfjs: its name (metadata.json) and the sha256 of its weights
 * file. `modelVersion` = `name@` + the first 12 hex digits, whichever engine (tfjs, ONNX Runtime) runs
 * the model, so embeddings stored under a version stay valid across engines.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFileError } from '../errors.ts';

/** The tfjs weights file of a model directory (as modelIo.ts's WEIGHTS_BIN, which imports tfjs). */
export const WEIGHTS_FILE = 'weights.bin';
export const METADATA_FILE = 'metadata.json';

export function formatModelVersion(name: string, weightsSha256: string): string {
  return `${name}@${weightsSha256.slice(0, 12)}`;
}

/** The `name` of a model directory's metadata.json. */
export async function readModelName(modelDir: string): Promise<string> {
  const path = join(modelDir, METADATA_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataFileError(`cannot read ${path}: ${(err as Error).message}`, 'MODEL_FILE_MISSING');
  }
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    if (typeof name !== 'string' || name === '') throw new Error('no "name" field');
    return name;
  } catch (err) {
    throw new DataFileError(
      `${path} is not valid model metadata: ${(err as Error).message}`,
      'MODEL_FILE_CORRUPT',
    );
  }
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
