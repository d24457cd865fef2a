/**
 * Throughput of the one image preprocessing on a 512x512 JPEG, single-threaded (sharp concurrency 1,
 * one image in flight), against a full sharp decode of the same JPEG and the previous sharp-only pipeline
 * (metadata call, then a shrink-on-load decode), measured in the same run.
 * Usage: UV_THREADPOOL_SIZE=1 npx tsx bench/preprocess.ts [iterations]
 */
import sharp from 'sharp';
import { loadFashionMnistSplit } from '../src/data/fashionMnist.ts';
import { decodeJpegLuma } from '../src/data/jpeg/decode.ts';
import {
  decodeWithSharp,
  normalizeGarment,
  preprocessImage,
  readImageHeader,
} from '../src/data/preprocess.ts';

const iterations = Number(process.argv[2] ?? 500);
const ROUNDS = 5;
sharp.concurrency(1);

interface Rate {
  wall: number;
  cpu: number;
}

/**
 * Variants run interleaved in ROUNDS rounds and each reports its median round, so that load from other
 * processes on a shared machine hits all of them alike. Per wall second and per CPU second of the process
 * (all threads, so sharp's pool thread counts too): the CPU figure is the steadier one on a busy machine.
 */
async function rates(variants: Record<string, () => unknown>): Promise<Record<string, Rate>> {
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (const fn of Object.values(variants)) for (let i = 0; i < 20; i++) await fn();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const n = Math.ceil(iterations / ROUNDS);
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await fn();
      const used = process.cpuUsage(cpu0);
      wall[name] = [...(wall[name] ?? []), (n * 1000) / (performance.now() - start)];
      cpu[name] = [...(cpu[name] ?? []), (n * 1e6) / (used.user + used.system)];
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return Object.fromEntries(
    Object.keys(variants).map((name) => [name, { wall: median(wall[name]), cpu: median(cpu[name]) }]),
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

/** The pipeline before the JS decoder: sharp's metadata() for the header, then one sharp decode. */
async function previousPipeline(bytes: Uint8Array): Promise<Uint8Array> {
  await sharp(bytes, { limitInputPixels: false }).metadata();
  const header = readImageHeader(bytes);
  const { image } = await decodeWithSharp(bytes, header);
  return normalizeGarment(image.gray, image.width, image.height, true);
}

const results = await rates({
  fullDecodeColour: () => sharp(colourJpeg).raw().toBuffer(),
  previousPipelineColour: () => previousPipeline(colourJpeg),
  headerOnlyColour: () => readImageHeader(colourJpeg),
  jsDecodeOnlyColour: () => decodeJpegLuma(colourJpeg),
  preprocessColour: () => preprocessImage(colourJpeg),
  preprocessGray: () => preprocessImage(grayJpeg),
});

const round = (key: keyof Rate) =>
  Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v[key])]));
const ratio = (a: string, b: string, key: keyof Rate) =>
  Number((results[a][key] / results[b][key]).toFixed(3));

console.log(
  JSON.stringify(
    {
      bench: 'preprocess-512-jpeg',
      iterations,
      rounds: ROUNDS,
      imagesPerSecond: round('wall'),
      imagesPerCpuSecond: round('cpu'),
      ratioPreprocessToFullDecode: ratio('preprocessColour', 'fullDecodeColour', 'wall'),
      ratioPreprocessToPreviousPipeline: ratio('preprocessColour', 'previousPipelineColour', 'wall'),
      ratioPreprocessToFullDecodeCpu: ratio('preprocessColour', 'fullDecodeColour', 'cpu'),
      jpegBytes: { gray: grayJpeg.length, colour: colourJpeg.length },
    },
    null,
    2,
  ),
);
