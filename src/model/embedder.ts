import * as tf from '@tensorflow/tfjs-core';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { DataFileError } from '../errors.ts';
import { ensureBackend } from './backend.ts';
import { classProxies } from './cosineLogits.ts';
import { checkImageBatch, type Embedder } from './embedder.contract.ts';
import { applyEmbeddingHead, isPlainHead, mirrorImages } from './embeddingHead.ts';
import { loadModel } from './modelIo.ts';
import { modelVersionOf, readModelIdentity } from './modelVersion.ts';
import { embeddingModel, LOGITS_LAYER } from './network.ts';

/** Images per forward pass: large enough to keep the backend busy, small enough to bound memory. */
export const EMBED_CHUNK = 256;

/**
 * Loads a model directory written by the trainer (model.json, weights.bin, metadata.json). Uses the
 * backend chosen by initBackend(), or selects one now. A softmax model embeds with its 64-d layer.
 */
export async function loadEmbedder(modelDir: string): Promise<Embedder> {
  await ensureBackend();
  const identity = await readModelIdentity(modelDir);
  const { head } = identity;
  const { model, weightsSha256 } = await loadModel(modelDir);
  const net = embeddingModel(model);
  const dim = net.outputs[0].shape[1];
  if (typeof dim !== 'number')
    throw new DataFileError(`${modelDir}: the embedding has no fixed size`, 'MODEL_FILE_CORRUPT');
  const proxies = head.classPull ? classProxies(model, LOGITS_LAYER) : undefined;
  let disposed = false;
  const forward = async (images: Float32Array, n: number): Promise<Float32Array> => {
    const result = tf.tidy(
      () => net.predict(tf.tensor4d(images, [n, IMAGE_SIZE, IMAGE_SIZE, 1])) as tf.Tensor,
    );
    const vectors = (await result.data()) as Float32Array;
    result.dispose();
    return vectors;
  };

  return {
    modelVersion: modelVersionOf(identity, weightsSha256),
    dim,
    engine: `tfjs-${tf.getBackend()}`,
    head,
    async embed(images: Float32Array, count: number): Promise<Float32Array> {
      if (disposed) throw new Error('embedder was disposed');
      checkImageBatch(images, count);
      const out = new Float32Array(count * dim);
      for (let start = 0; start < count; start += EMBED_CHUNK) {
        const n = Math.min(EMBED_CHUNK, count - start);
        const chunk = images.subarray(start * IMAGE_PIXELS, (start + n) * IMAGE_PIXELS);
        const plain = await forward(chunk, n);
        const mirrored = head.flipAverage ? await forward(mirrorImages(chunk, n), n) : undefined;
        out.set(
          isPlainHead(head) ? plain : applyEmbeddingHead(head, dim, plain, mirrored, proxies),
          start * dim,
        );
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
