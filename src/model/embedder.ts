import * as tf from '@tensorflow/tfjs-core';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { DataFileError } from '../errors.ts';
import { ensureBackend } from './backend.ts';
import { checkImageBatch, type Embedder } from './embedder.contract.ts';
import { loadModel } from './modelIo.ts';
import { formatModelVersion, readModelName } from './modelVersion.ts';
import { embeddingModel } from './network.ts';

/** Images per forward pass: large enough to keep the backend busy, small enough to bound memory. */
export const EMBED_CHUNK = 256;

/**
 * Loads a model directory written by the trainer (model.json, weights.bin, metadata.json). Uses the
 * backend chosen by initBackend(), or selects one now. A softmax model embeds with its 64-d layer.
 */
export async function loadEmbedder(modelDir: string): Promise<Embedder> {
  await ensureBackend();
  const name = await readModelName(modelDir);
  const { model, weightsSha256 } = await loadModel(modelDir);
  const net = embeddingModel(model);
  const dim = net.outputs[0].shape[1];
  if (typeof dim !== 'number')
    throw new DataFileError(`${modelDir}: the embedding has no fixed size`, 'MODEL_FILE_CORRUPT');
  let disposed = false;

  return {
    modelVersion: formatModelVersion(name, weightsSha256),
    dim,
    engine: `tfjs-${tf.getBackend()}`,
    async embed(images: Float32Array, count: number): Promise<Float32Array> {
      if (disposed) throw new Error('embedder was disposed');
      checkImageBatch(images, count);
      const out = new Float32Array(count * dim);
      for (let start = 0; start < count; start += EMBED_CHUNK) {
        const n = Math.min(EMBED_CHUNK, count - start);
        const result = tf.tidy(() => {
          const xs = tf.tensor4d(images.subarray(start * IMAGE_PIXELS, (start + n) * IMAGE_PIXELS), [
            n,
            IMAGE_SIZE,
            IMAGE_SIZE,
            1,
          ]);
          return net.predict(xs) as tf.Tensor;
        });
        out.set(await result.data(), start * dim);
        result.dispose();
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}
