/**
 * The serving engine: a model directory's model.onnx run by ONNX Runtime (CPU). It never imports
 * tfjs, so a process that serves with it does not load tfjs. Its modelVersion is the tfjs embedder's
 * (`name@` + the model digest of weights.bin and the embedding head), and it refuses a model.onnx
 * exported from other weights or another head (MODEL_FILE_STALE) or a directory without one
 * (MODEL_FILE_MISSING): the caller falls back to tfjs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { DataFileError, ValidationError } from '../errors.ts';
import { checkImageBatch, type Embedder } from './embedder.contract.ts';
import { modelDigest } from './embeddingHead.ts';
import { formatModelVersion, hashWeightsFile, readModelIdentity } from './modelVersion.ts';
import { META_WEIGHTS_SHA256, ONNX_FILE, ONNX_INPUT, ONNX_OUTPUT } from './onnx/format.ts';
import { readModelInfo } from './onnx/onnxProto.ts';

/** Images per session run, as the tfjs embedder's chunks. */
export const ONNX_EMBED_CHUNK = 256;

export interface OnnxEmbedderOptions {
  /** ONNX Runtime intra-op threads (default 1). */
  threads?: number;
}

function corrupt(path: string, why: string): DataFileError {
  return new DataFileError(`${path}: ${why}`, 'MODEL_FILE_CORRUPT');
}

function tensorShape(
  meta: ort.InferenceSession.ValueMetadata | undefined,
): readonly (number | string)[] | null {
  return meta?.isTensor ? meta.shape : null;
}

/** Loads `modelDir/model.onnx` after checking it was exported from the directory's current weights and head. */
export async function loadOnnxEmbedder(
  modelDir: string,
  options: OnnxEmbedderOptions = {},
): Promise<Embedder> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new ValidationError(`threads must be a positive integer, got ${threads}`);
  const path = join(modelDir, ONNX_FILE);
  const [{ name, head }, weightsSha256, bytes] = await Promise.all([
    readModelIdentity(modelDir),
    hashWeightsFile(modelDir),
    readFile(path).catch((err: Error) => {
      throw new DataFileError(`cannot read model file ${path}: ${err.message}`, 'MODEL_FILE_MISSING');
    }),
  ]);
  let exportedFrom: string | undefined;
  try {
    exportedFrom = readModelInfo(bytes).metadata[META_WEIGHTS_SHA256];
  } catch (err) {
    throw corrupt(path, `not an ONNX model (${(err as Error).message})`);
  }
  const digest = modelDigest(weightsSha256, head);
  if (exportedFrom !== digest) {
    throw new DataFileError(
      `${path} is stale: exported from ${exportedFrom?.slice(0, 12) ?? '(unrecorded)'}, ` +
        `weights.bin and metadata.json's embedding head are now ${digest.slice(0, 12)}; ` +
        `re-run npm run export:onnx -- --model ${modelDir}`,
      'MODEL_FILE_STALE',
    );
  }

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
  } catch (err) {
    throw corrupt(path, `ONNX Runtime cannot load it: ${(err as Error).message}`);
  }
  const inShape = tensorShape(session.inputMetadata.find((m) => m.name === ONNX_INPUT));
  const outShape = tensorShape(session.outputMetadata.find((m) => m.name === ONNX_OUTPUT));
  const dim = outShape?.[1];
  if (
    session.inputNames.length !== 1 ||
    inShape?.length !== 4 ||
    inShape.slice(1).join() !== `1,${IMAGE_SIZE},${IMAGE_SIZE}` ||
    outShape?.length !== 2 ||
    typeof dim !== 'number'
  ) {
    await session.release();
    throw corrupt(
      path,
      `expected input '${ONNX_INPUT}' [N,1,${IMAGE_SIZE},${IMAGE_SIZE}] and output '${ONNX_OUTPUT}' [N,dim], ` +
        `got ${JSON.stringify(session.inputNames)} ${JSON.stringify(inShape)} → ${JSON.stringify(outShape)}`,
    );
  }

  let disposed = false;
  const running = new Set<Promise<unknown>>();
  const run = (feeds: Record<string, ort.Tensor>) => {
    const p = session.run(feeds);
    running.add(p);
    return p.finally(() => running.delete(p));
  };

  return {
    modelVersion: formatModelVersion(name, digest),
    dim,
    engine: 'onnxruntime',
    head,
    async embed(images: Float32Array, count: number): Promise<Float32Array> {
      if (disposed) throw new Error('embedder was disposed');
      checkImageBatch(images, count);
      const out = new Float32Array(count * dim);
      for (let start = 0; start < count; start += ONNX_EMBED_CHUNK) {
        if (disposed) throw new Error('embedder was disposed');
        const n = Math.min(ONNX_EMBED_CHUNK, count - start);
        const input = new ort.Tensor(
          'float32',
          images.subarray(start * IMAGE_PIXELS, (start + n) * IMAGE_PIXELS),
          [n, 1, IMAGE_SIZE, IMAGE_SIZE],
        );
        const result = (await run({ [ONNX_INPUT]: input }))[ONNX_OUTPUT];
        out.set(result.data as Float32Array, start * dim);
        result.dispose();
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      // Runs in flight finish first; the session is released after them.
      void Promise.allSettled([...running]).then(() => session.release().catch(() => undefined));
    },
  };
}
