import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DataFileError } from '../errors.ts';
// Register the custom layers saved models reference by class name: FastBatchNorm ('improved'),
// L2Normalize (--embedding-norm l2), CosineLogits (--loss cosface).
import './batchNorm.ts';
import './conv2d.ts';
import './cosineLogits.ts';
import './l2Normalize.ts';

/** A tensor with a name, as optimizers report their state. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** Writes via a temporary name and a rename, so a reader (or a crash) never sees half a file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/**
 * Saves in the tfjs layers format (`model.json` + one `weights.bin`), the layout `file://` would
 * write; that handler needs tfjs-node, so the bytes are written here. Returns sha256 of weights.bin.
 */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  let digest = '';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = toBytes(artifacts.weightData);
      digest = createHash('sha256').update(weights).digest('hex');
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      await writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return digest;
}

export interface LoadedModel {
  model: tfl.LayersModel;
  weightsSha256: string;
}

async function readOrExplain(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new DataFileError(
      `cannot read model file ${path}: ${(err as Error).message}`,
      'MODEL_FILE_MISSING',
    );
  }
}

/** Loads a directory written by saveModel (file:// needs tfjs-node, so this goes through fromMemory). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const jsonPath = join(dir, MODEL_JSON);
  const [jsonBytes, weights] = await Promise.all([
    readOrExplain(jsonPath),
    readOrExplain(join(dir, WEIGHTS_BIN)),
  ]);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(jsonBytes.toString('utf8')) as tf.io.ModelJSON;
  } catch (err) {
    throw new DataFileError(`${jsonPath} is not valid JSON: ${(err as Error).message}`, 'MODEL_FILE_CORRUPT');
  }
  const weightSpecs = modelJson.weightsManifest?.flatMap((group) => group.weights) ?? [];
  const expectedBytes = weightSpecs.reduce(
    (sum, spec) =>
      sum +
      spec.shape.reduce((a, b) => a * b, 1) * (spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : 1),
    0,
  );
  if (weights.byteLength !== expectedBytes) {
    throw new DataFileError(
      `${join(dir, WEIGHTS_BIN)} has ${weights.byteLength} bytes, model.json expects ${expectedBytes}`,
      'MODEL_FILE_CORRUPT',
    );
  }
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }),
  );
  return { model, weightsSha256: createHash('sha256').update(weights).digest('hex') };
}

/** Serialises named tensors (e.g. optimizer state) as a JSON spec plus raw bytes. */
export async function encodeTensors(
  tensors: NamedTensor[],
): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: Uint8Array }> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  return { specs, data: new Uint8Array(data) };
}

export function decodeTensors(specs: tf.io.WeightsManifestEntry[], data: Uint8Array): tf.NamedTensorMap {
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  return tf.io.decodeWeights(buffer, specs);
}
