/**
 * Test fixtures for the server: a real (untrained) tfjs model saved in the
 * trainer's format with its ONNX export (what the server runs by default),
 * and a real catalog imported from the bundled test split.
 * An untrained network's embedding is still a deterministic function of the
 * image, which is all the HTTP tests need; model quality is tested elsewhere.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { AsyncCatalogStore } from '../../src/catalog/asyncStore.ts';
import { importFashionMnist } from '../../src/catalog/importFashionMnist.ts';
import { ensureBackend } from '../../src/model/backend.ts';
import { saveModel } from '../../src/model/modelIo.ts';
import { buildNetwork } from '../../src/model/network.ts';
import { exportOnnx } from '../../src/model/onnx/export.ts';

export async function makeFixtureModel(dir: string, name = 'fixture', seed = 7): Promise<string> {
  await ensureBackend();
  const model = buildNetwork({ arch: 'seed', head: 'embedding', seed });
  await saveModel(model, dir);
  model.dispose();
  const metadata = {
    name,
    arch: 'seed',
    loss: 'none (untrained test fixture)',
    embeddingDim: 64,
    hyperParameters: { seed },
    datasetChecksums: {},
    backend: 'any',
    epochs: 0,
    wallTimeSeconds: 0,
    finalMetrics: {},
    command: 'test/server/fixtures.ts',
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(metadata, null, 2));
  await exportOnnx(dir);
  return dir;
}

/** Imports the first `count` images of the bundled Fashion-MNIST test split. */
export async function importTestItems(store: AsyncCatalogStore, count: number): Promise<void> {
  await importFashionMnist({ store, split: 'test', limit: count });
}

/**
 * A "product photo" made from a 28x28 catalog PNG: upscaled to `size` px,
 * inverted to a dark garment on a white background, as a JPEG.
 */
export async function productPhoto(png: Uint8Array, size = 512): Promise<Buffer> {
  return sharp(png)
    .resize(size, size, { kernel: 'lanczos3' })
    .negate({ alpha: false })
    .toColourspace('srgb')
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A valid PNG whose header claims width x height (CRC fixed): a decompression bomb costs only its header. */
export async function bombPng(width: number, height: number): Promise<Buffer> {
  const small = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
    .png()
    .toBuffer();
  const out = Buffer.from(small);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}
