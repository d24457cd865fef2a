import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import sharp from 'sharp';
import { IMAGE_PIXELS, IMAGE_SIZE } from '../data/classes.ts';
import { bytesToUnit } from '../data/pixels.ts';
import { DataFileError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import type { CatalogStore } from './store.ts';

const log = createLogger('catalog-embed');

export interface EmbedProgress {
  done: number;
  total: number;
}

export interface EmbedCatalogOptions {
  store: CatalogStore;
  embedder: Embedder;
  batchSize?: number;
  onProgress?: (p: EmbedProgress) => void;
}

/**
 * Decodes a stored catalog PNG back to the 784 floats the model takes. The
 * stored PNG already is the output of the one preprocessing (`preprocessImage`
 * for photos, the dataset pixels for Fashion-MNIST), and PNG is lossless, so
 * this yields exactly what training saw and what the live add path embeds.
 */
export async function decodeStoredImage(png: Uint8Array, label: number): Promise<Float32Array> {
  let data: Buffer;
  let width: number;
  let height: number;
  try {
    const out = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    data = out.data;
    ({ width, height } = out.info);
    if (out.info.channels !== 1) throw new Error(`${out.info.channels} channels after greyscale`);
  } catch (err) {
    throw new DataFileError(`stored image of item ${label} cannot be decoded: ${(err as Error).message}`);
  }
  if (width !== IMAGE_SIZE || height !== IMAGE_SIZE) {
    throw new DataFileError(`stored image of item ${label} is ${width}x${height}, expected 28x28`);
  }
  return bytesToUnit(data.subarray(0, IMAGE_PIXELS));
}

/**
 * Computes the embeddings `embedder.modelVersion` lacks, batch by batch, each
 * batch written in its own transaction: a kill loses at most one batch of
 * work and a re-run continues where it stopped.
 */
export async function embedCatalog(
  options: EmbedCatalogOptions,
): Promise<{ embedded: number; total: number }> {
  const { store, embedder } = options;
  const batchSize = options.batchSize ?? 256;
  const modelVersion = embedder.modelVersion;
  const total = Math.max(0, store.countItems() - store.countEmbeddings(modelVersion));
  let embedded = 0;
  options.onProgress?.({ done: 0, total });
  for (;;) {
    const pending = store.missingEmbeddings(modelVersion, batchSize);
    if (pending.length === 0) break;
    const images = new Float32Array(pending.length * IMAGE_PIXELS);
    const decoded = await Promise.all(pending.map((p) => decodeStoredImage(p.image, p.label)));
    for (let i = 0; i < decoded.length; i++) images.set(decoded[i], i * IMAGE_PIXELS);
    const vectors = await embedder.embed(images, pending.length);
    if (vectors.length !== pending.length * embedder.dim) {
      throw new DataFileError(`embedder returned ${vectors.length} floats for ${pending.length} images`);
    }
    store.putEmbeddings(
      modelVersion,
      pending.map((p, i) => ({
        label: p.label,
        vector: vectors.slice(i * embedder.dim, (i + 1) * embedder.dim),
      })),
    );
    embedded += pending.length;
    // Items added while embedding make the total grow; never report more than 100 %.
    options.onProgress?.({ done: embedded, total: Math.max(total, embedded) });
    await yieldToEventLoop();
  }
  log.info({ modelVersion, embedded }, 'catalog embeddings up to date');
  return { embedded, total: Math.max(total, embedded) };
}
