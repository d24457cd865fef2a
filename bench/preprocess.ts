/**
 * Throughput of the one image preprocessing on a 512x512 JPEG, single-threaded (sharp concurrency 1,
 * one image in flight), against a full sharp decode of the same JPEG measured in the same run.
 * Usage: UV_THREADPOOL_SIZE=1 npx tsx bench/preprocess.ts [iterations]
 */
import sharp from 'sharp';
import { loadFashionMnistSplit } from '../src/data/fashionMnist.ts';
import { checkImageHeader, preprocessImage } from '../src/data/preprocess.ts';

const iterations = Number(process.argv[2] ?? 500);
const ROUNDS = 5;
sharp.concurrency(1);

/**
 * Variants run interleaved in ROUNDS rounds and each reports its median round, so that load from other
 * processes on a shared machine hits all of them alike.
 */
async function rates(variants: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const perRound: Record<string, number[]> = {};
  for (const fn of Object.values(variants)) for (let i = 0; i < 20; i++) await fn();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const n = Math.ceil(iterations / ROUNDS);
      const start = performance.now();
      for (let i = 0; i < n; i++) await fn();
      perRound[name] = [...(perRound[name] ?? []), (n * 1000) / (performance.now() - start)];
    }
  }
  return Object.fromEntries(
    Object.entries(perRound).map(([name, xs]) => [name, xs.sort((a, b) => a - b)[xs.length >> 1]]),
  );
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

const results = await rates({
  fullDecodeColour: () => sharp(colourJpeg).raw().toBuffer(),
  headerOnlyColour: () => checkImageHeader(colourJpeg),
  preprocessColour: () => preprocessImage(colourJpeg),
  preprocessGray: () => preprocessImage(grayJpeg),
});

console.log(
  JSON.stringify(
    {
      bench: 'preprocess-512-jpeg',
      iterations,
      rounds: ROUNDS,
      imagesPerSecond: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)])),
      ratioPreprocessToFullDecode: Number((results.preprocessColour / results.fullDecodeColour).toFixed(3)),
      jpegBytes: { gray: grayJpeg.length, colour: colourJpeg.length },
    },
    null,
    2,
  ),
);
