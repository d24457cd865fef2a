import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { IMAGE_PIXELS } from '../data/classes.ts';
import { decodeStoredImage } from '../data/storedImage.ts';
import { DataFileError } from '../errors.ts';
import { createLogger } from '../log.ts';
import type { Embedder } from '../model/embedder.contract.ts';
import type { AsyncCatalogStore } from './asyncStore.ts';

const log = createLogger('catalog-embed');

export interface EmbedProgress {
  done: number;
  total: number;
}

export interface EmbedCatalogOptions {
  store: AsyncCatalogStore;
  embedder: Embedder;
  batchSize?: number;
  onProgress?: (p: EmbedProgress) => void;
}

/** Decodes a stored catalog PNG to the model's 784 floats (src/data/storedImage.ts; re-exported here). */
export { decodeStoredImage };

export interface EmbedCatalogResult {
  embedded: number;
  /** Items whose stored image cannot be decoded: left without an embedding (not served), logged. */
  skipped: number;
  total: number;
}

/**
 * Computes the embeddings `embedder.modelVersion` lacks, batch by batch, each
 * batch written in its own transaction: a kill loses at most one batch of
 * work and a re-run continues where it stopped. An item whose stored image
 * cannot be decoded is skipped with a warning rather than stopping the run
 * (and with it a server start) for the whole catalog.
 */
export async function embedCatalog(options: EmbedCatalogOptions): Promise<EmbedCatalogResult> {
  const { store, embedder } = options;
  const batchSize = options.batchSize ?? 256;
  const modelVersion = embedder.modelVersion;
  const total = Math.max(0, (await store.countItems()) - (await store.countEmbeddings(modelVersion)));
  let embedded = 0;
  let skipped = 0;
  // Labels ascend; skipped items stay missing, so the next batch starts after the last label seen.
  let after: number | undefined;
  options.onProgress?.({ done: 0, total });
  for (;;) {
    const batch = await store.missingEmbeddings(modelVersion, batchSize, after);
    if (batch.length === 0) break;
    after = batch[batch.length - 1].label;
    const decoded = await Promise.allSettled(batch.map((p) => decodeStoredImage(p.image, p.label)));
    const good = batch.filter((p, i) => {
      const d = decoded[i];
      if (d.status === 'fulfilled') return true;
      log.warn(
        { label: p.label, modelVersion, err: (d.reason as Error).message },
        'item skipped: no embedding',
      );
      return false;
    });
    skipped += batch.length - good.length;
    const images = new Float32Array(good.length * IMAGE_PIXELS);
    let n = 0;
    for (const d of decoded) if (d.status === 'fulfilled') images.set(d.value, IMAGE_PIXELS * n++);
    if (good.length > 0) {
      const vectors = await embedder.embed(images, good.length);
      if (vectors.length !== good.length * embedder.dim) {
        throw new DataFileError(`embedder returned ${vectors.length} floats for ${good.length} images`);
      }
      await store.putEmbeddings(
        modelVersion,
        good.map((p, i) => ({
          label: p.label,
          vector: vectors.slice(i * embedder.dim, (i + 1) * embedder.dim),
        })),
      );
    }
    embedded += good.length;
    // Items added while embedding make the total grow; never report more than 100 %.
    options.onProgress?.({ done: embedded + skipped, total: Math.max(total, embedded + skipped) });
    await yieldToEventLoop();
  }
  log.info({ modelVersion, embedded, skipped }, 'catalog embeddings up to date');
  return { embedded, skipped, total: Math.max(total, embedded + skipped) };
}
