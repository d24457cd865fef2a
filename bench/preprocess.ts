/**
 * Throughput of the one image preprocessing on a 512x512 JPEG, single-threaded (sharp concurrency 1,
 * one image in flight), against a full sharp decode of the same JPEG measured in the same run.
 * Usage: UV_THREADPOOL_SIZE=1 npx tsx bench/preprocess.ts [iterations]
 */
import sharp from 'sharp';
import { loadFashionMnistSplit } from '../src/data/fashionMnist.ts';
import { checkImageHeader, preprocessImage } from '../src/data/preprocess.ts';

const iterations = Number(process.argv[2] ?? 500);
sharp.concurrency(1);

async function rate(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return (iterations * 1000) / (performance.now() - start);
}

const test = await loadFashionMnistSplit('test');
const garment = Buffer.from(test.images.subarray(0, 784).map((v) => 255 - v));
const raw = { raw: { width: 28, height: 28, channels: 1 as const } };
const grayJpeg = await sharp(garment, raw).resize(512, 512).jpeg({ quality: 90 }).toBuffer();
// A colour JPEG (3 channels, 4:2:0) is what phones and shops produce.
const tinted = Buffer.from(Array.from(garment).flatMap((v) => [v, Math.round(v * 0.8), Math.round(v * 0.6)]));
const colourJpeg = await sharp(tinted, { raw: { width: 28, height: 28, channels: 3 } })
  .resize(512, 512)
  .jpeg({ quality: 90 })
  .toBuffer();

const results: Record<string, number> = {};
results.fullDecodeColour = await rate(() => sharp(colourJpeg).raw().toBuffer());
results.headerOnlyColour = await rate(() => checkImageHeader(colourJpeg));
results.preprocessColour = await rate(() => preprocessImage(colourJpeg));
results.preprocessGray = await rate(() => preprocessImage(grayJpeg));

console.log(
  JSON.stringify(
    {
      bench: 'preprocess-512-jpeg',
      iterations,
      imagesPerSecond: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)])),
      ratioPreprocessToFullDecode: Number((results.preprocessColour / results.fullDecodeColour).toFixed(3)),
      jpegBytes: { gray: grayJpeg.length, colour: colourJpeg.length },
    },
    null,
    2,
  ),
);
