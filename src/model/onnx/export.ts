import { join } from 'node:path';
import { ensureBackend } from '../backend.ts';
import { classProxies } from '../cosineLogits.ts';
import { type EmbeddingHead, modelDigest } from '../embeddingHead.ts';
import { loadModel, writeFileAtomic } from '../modelIo.ts';
import { modelVersionOf, readModelIdentity } from '../modelVersion.ts';
import { embeddingModel, LOGITS_LAYER } from '../network.ts';
import { convertToOnnx } from './convert.ts';
import { ONNX_FILE } from './format.ts';

export interface ExportResult {
  path: string;
  bytes: number;
  modelVersion: string;
  weightsSha256: string;
}

/**
 * The `model.onnx` bytes of a saved model directory (model.json, weights.bin, metadata.json): the
 * embedding output (a softmax model's 64-d layer) and the embedding head of metadata.json, with the
 * model digest (the weights' sha256, with the head's when it has one) in its metadata. `headOverride`
 * exports another head than the one metadata.json records (to check it before recording it).
 */
export async function onnxBytesOf(
  modelDir: string,
  headOverride?: EmbeddingHead,
): Promise<{ bytes: Uint8Array; modelVersion: string; weightsSha256: string }> {
  await ensureBackend();
  const stored = await readModelIdentity(modelDir);
  const identity = { ...stored, head: headOverride ?? stored.head };
  const { name, head } = identity;
  const { model, weightsSha256 } = await loadModel(modelDir);
  try {
    const bytes = convertToOnnx(embeddingModel(model), {
      name,
      digest: modelDigest(weightsSha256, head),
      head,
      proxies: head.classPull ? classProxies(model, LOGITS_LAYER) : undefined,
    });
    return { bytes, modelVersion: modelVersionOf(identity, weightsSha256), weightsSha256 };
  } finally {
    model.dispose();
  }
}

/** Writes onnxBytesOf(modelDir) as the directory's model.onnx. Atomic: a reader sees the old file or the new one. */
export async function exportOnnx(modelDir: string): Promise<ExportResult> {
  const { bytes, modelVersion, weightsSha256 } = await onnxBytesOf(modelDir);
  const path = join(modelDir, ONNX_FILE);
  await writeFileAtomic(path, bytes);
  return { path, bytes: bytes.length, modelVersion, weightsSha256 };
}
