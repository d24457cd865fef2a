import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFolderDataset } from '../../src/data/folderDataset.ts';
import { preprocessImage } from '../../src/data/preprocess.ts';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { useTrainFixture } from './fixture.ts';

const fx = useTrainFixture('folder-train-');

/** A shop's categories and the Fashion-MNIST class each one's photos come from. */
const CATEGORIES = { trousers: 1, sneakers: 7, bags: 8 } as const;
const PER_CATEGORY = 12;

interface Row {
  id: string;
  category: string;
  file: string;
}

/**
 * Real photo files made from Fashion-MNIST test images: upscaled, dark garment on a light background
 * (as product photos are), alternately PNG and JPEG, so the folder goes through the full preprocessing.
 */
async function makeShop(dir: string): Promise<Row[]> {
  await mkdir(join(dir, 'photos'), { recursive: true });
  const rows: Row[] = [];
  for (const [category, label] of Object.entries(CATEGORIES)) {
    let found = 0;
    for (let i = 0; i < fx.data.test.count && found < PER_CATEGORY; i++) {
      if (fx.data.test.labels[i] !== label) continue;
      const pixels = fx.data.test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
      const inverted = Buffer.from(pixels.map((v) => 255 - v));
      const image = sharp(inverted, { raw: { width: 28, height: 28, channels: 1 } }).resize(112, 112);
      const jpeg = found % 2 === 1;
      const file = `photos/${category}-${found}.${jpeg ? 'jpg' : 'png'}`;
      await writeFile(join(dir, file), await (jpeg ? image.jpeg({ quality: 90 }) : image.png()).toBuffer());
      rows.push({ id: `${category}-${found}`, category, file });
      found++;
    }
  }
  return rows;
}

function csv(rows: Row[], header = 'id,title,category,file,price'): string {
  return `${header}\n${rows.map((r) => `${r.id},"A ""${r.category}"" item",${r.category},${r.file},49.9`).join('\n')}\n`;
}

let shop: string;
let rows: Row[];
beforeAll(async () => {
  shop = join(fx.dir, 'shop');
  rows = await makeShop(shop);
  await writeFile(join(shop, 'items.csv'), csv(rows));
});

function config(out: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...DEFAULT_CONFIG,
    dataset: 'folder',
    dir: shop,
    metadata: 'items.csv',
    out: join(fx.dir, out),
    epochs: 2,
    batchSize: 12,
    pkClasses: 3,
    valFraction: 0.25,
    logEvery: 1,
    command: 'test',
    ...overrides,
  };
}

describe('a shop folder as a training set', () => {
  it('holds the serving preprocessing of every listed photo, labelled by its sorted category', async () => {
    const shopData = await loadFolderDataset({ dir: shop, metadata: 'items.csv' });
    expect(shopData.categories).toEqual(['bags', 'sneakers', 'trousers']);
    expect(shopData.set.count).toBe(rows.length);
    for (const [i, row] of rows.entries()) {
      const served = await preprocessImage(await readFile(join(shop, row.file)));
      const stored = shopData.set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
      // As the batch builder feeds them to the network: byte / 255 in float32.
      expect(Float32Array.from(stored, (v) => v / 255)).toEqual(served);
      expect(shopData.categories[shopData.set.labels[i]]).toBe(row.category);
    }
    expect(Object.keys(shopData.checksums)).toEqual(['items.csv', 'preprocessedImages']);
  });

  it('trains a tiny model on it, with validation and the usual metrics, and saves it', async () => {
    const result = await train(config('shop-model'));
    expect(result.interrupted).toBe(false);
    expect(result.history).toHaveLength(2);
    for (const record of result.history) {
      for (const summary of [record.train, record.validation]) {
        for (const key of [
          'loss',
          'fractionPositive',
          'meanNorm',
          'meanHardestPositive',
          'meanHardestNegative',
        ])
          expect(Number.isFinite(summary[key as keyof typeof summary]), key).toBe(true);
      }
    }
    await access(join(result.outDir, 'model.json'));
    await access(join(result.outDir, 'weights.bin'));
    const metadata = JSON.parse(await readFile(join(result.outDir, 'metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({
      dataset: 'folder',
      categories: ['bags', 'sneakers', 'trousers'],
      hyperParameters: { trainImages: 27, validationImages: 9 },
    });
    expect(Object.keys(metadata.datasetChecksums)).toEqual(['items.csv', 'preprocessedImages']);
    const lines = (await readFile(join(result.outDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['step', 'step', 'epoch', 'step', 'step', 'epoch']);
    result.model.dispose();
  }, 120_000);

  it('trains with a composed triplet loss: distance-weighted negatives on cosine distances', async () => {
    const result = await train(
      config('shop-dw', { loss: 'triplet', miner: 'distance-weighted', distance: 'cosine', epochs: 1 }),
    );
    expect(result.history).toHaveLength(1);
    expect(Number.isFinite(result.history[0].train.loss)).toBe(true);
    result.model.dispose();
  }, 120_000);
});

describe('a shop folder with bad input is refused before training', () => {
  async function metadataFile(name: string, text: string): Promise<string> {
    await writeFile(join(shop, name), text);
    return name;
  }

  it('a listed photo that is missing, naming the row and the file', async () => {
    const metadata = await metadataFile(
      'missing.csv',
      csv([...rows, { id: 'ghost', category: 'bags', file: 'photos/ghost.png' }]),
    );
    await expect(train(config('bad-missing', { metadata }))).rejects.toThrow(
      /1 of 37 images .* cannot be used for training: id 'ghost': file 'photos\/ghost.png' not found/,
    );
  });

  it('a photo that does not decode', async () => {
    await writeFile(join(shop, 'photos/broken.jpg'), 'not an image');
    const metadata = await metadataFile(
      'broken.csv',
      csv([...rows, { id: 'broken', category: 'bags', file: 'photos/broken.jpg' }]),
    );
    await expect(train(config('bad-broken', { metadata }))).rejects.toThrow(
      /id 'broken': file 'photos\/broken.jpg' cannot be decoded/,
    );
  });

  it('a header with an unknown column instead of a required one', async () => {
    const metadata = await metadataFile('typo.csv', csv(rows, 'id,title,categroy,file,price'));
    await expect(train(config('bad-column', { metadata }))).rejects.toThrow(
      /typo.csv: header lacks category/,
    );
  });

  it('fewer than 2 categories', async () => {
    const metadata = await metadataFile('one.csv', csv(rows.filter((r) => r.category === 'bags')));
    await expect(train(config('bad-one', { metadata }))).rejects.toThrow(
      /at least 2 categories; .*one.csv has 12 rows and only 'bags'/,
    );
  });

  it('more P x K classes than the shop has categories', async () => {
    await expect(train(config('bad-pk', { pkClasses: 4, batchSize: 16 }))).rejects.toThrow(
      /--pk-classes 4 <= the 3 classes/,
    );
  });
});
