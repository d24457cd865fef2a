import { join } from 'node:path';
import { ensureBackend } from '../backend.ts';
import { loadModel, writeFileAtomic } from '../modelIo.ts';
import { formatModelVersion, readModelName } from '../modelVersion.ts';
import { embeddingModel } from '../network.ts';
import { convertToOnnx } from './convert.ts';
import { ONNX_FILE } from './format.ts';

export interface ExportResult {
  path: string;
  bytes: number;
  modelVersion: string;
  weightsSha256: string;
}

/**
 * Writes `model.onnx` for a saved model directory (model.json, weights.bin, metadata.json): the
 * embedding output (a softmax model's 64-d layer), with the weights' sha256 in its metadata. Atomic:
 * a reader sees the old file or the new one.
 */
export async function exportOnnx(modelDir: string): Promise<ExportResult> {
  await ensureBackend();
  const name = await readModelName(modelDir);
  const { model, weightsSha256 } = await loadModel(modelDir);
  try {
    const bytes = convertToOnnx(embeddingModel(model), { name, weightsSha256 });
    const path = join(modelDir, ONNX_FILE);
    await writeFileAtomic(path, bytes);
    return {
      path,
      bytes: bytes.length,
      modelVersion: formatModelVersion(name, weightsSha256),
      weightsSha256,
    };
  } finally {
    model.dispose();
  }
}
