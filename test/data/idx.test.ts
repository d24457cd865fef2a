import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  gunzipIfNeeded,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  parseIdxImages,
  parseIdxLabels,
} from '../../src/data/idx.ts';
import { DataFileError } from '../../src/errors.ts';

const DIR = '/usr/share/datasets/fashion-mnist';
const testImagesGz = readFileSync(`${DIR}/t10k-images-idx3-ubyte.gz`);
const testLabelsGz = readFileSync(`${DIR}/t10k-labels-idx1-ubyte.gz`);

function header(magic: number, dims: number[]): Uint8Array {
  const buf = Buffer.alloc(4 + 4 * dims.length);
  buf.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => {
    buf.writeUInt32BE(d, 4 + 4 * i);
  });
  return buf;
}

function expectDataError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a DataFileError');
}

describe('IDX parser on the real Fashion-MNIST test split', () => {
  it('parses the gzip images: 10,000 28x28 images', () => {
    const { images, count, rows, cols } = parseIdxImages(testImagesGz, 't10k-images');
    expect([count, rows, cols]).toEqual([10000, 28, 28]);
    expect(images.length).toBe(10000 * 784);
    // The first test image is an ankle boot: a dark border and some bright pixels.
    expect(images[0]).toBe(0);
    expect(Math.max(...images.subarray(0, 784))).toBeGreaterThan(200);
  });

  it('parses the labels, and the raw (decompressed) file gives the same result as the gzip', () => {
    const labels = parseIdxLabels(testLabelsGz, 't10k-labels');
    expect(labels.length).toBe(10000);
    expect(Array.from(labels.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
    const counts = new Array(10).fill(0);
    for (const l of labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
    const raw = gunzipIfNeeded(testLabelsGz, 'x');
    expect(raw[0]).toBe(0);
    expect(parseIdxLabels(raw, 'raw')).toEqual(labels);
  });
});

describe('IDX parser rejects bad files with a DataFileError naming the file', () => {
  const labelsRaw = Buffer.from(gunzipIfNeeded(testLabelsGz, 'x'));
  const imagesRaw = Buffer.from(gunzipIfNeeded(testImagesGz, 'x'));

  it('truncated gzip', () => {
    const cut = testLabelsGz.subarray(0, testLabelsGz.length - 100);
    expectDataError(() => parseIdxLabels(cut, 'labels.gz'), /^labels\.gz: gzip data is truncated or corrupt/);
  });

  it('corrupt gzip (flipped byte → CRC or inflate error)', () => {
    const bad = Buffer.from(testLabelsGz);
    bad[bad.length >> 1] ^= 0xff;
    expectDataError(() => parseIdxLabels(bad, 'labels.gz'), /labels\.gz: gzip data is truncated or corrupt/);
  });

  it('truncated raw content (fewer bytes than the header declares)', () => {
    expectDataError(
      () => parseIdxImages(imagesRaw.subarray(0, imagesRaw.length - 1), 'img'),
      /img: file is truncated: 7840015 bytes, the header declares 7840016/,
    );
    expectDataError(
      () => parseIdxLabels(gzipSync(labelsRaw.subarray(0, 5000)), 'lab'),
      /lab: file is truncated: 5000 bytes, the header declares 10008/,
    );
  });

  it('shorter than the header', () => {
    expectDataError(
      () => parseIdxImages(new Uint8Array(10), 'tiny'),
      /tiny: .*shorter than the 16-byte IDX header/,
    );
    expectDataError(() => parseIdxLabels(new Uint8Array(0), 'empty'), /empty: .*shorter than the 8-byte/);
  });

  it('trailing bytes', () => {
    const longer = Buffer.concat([labelsRaw, Buffer.alloc(3)]);
    expectDataError(() => parseIdxLabels(longer, 'lab'), /lab: file has 3 unexpected trailing bytes/);
  });

  it('wrong magic: labels given as images and vice versa, or random bytes', () => {
    expectDataError(
      () => parseIdxImages(labelsRaw, 'lab'),
      /lab: not an IDX image file: magic 0x00000801, expected 0x00000803/,
    );
    expectDataError(() => parseIdxLabels(imagesRaw, 'img'), /img: not an IDX label file: magic 0x00000803/);
    expectDataError(
      () => parseIdxLabels(Buffer.from('hello world, not IDX'), 'txt'),
      /txt: not an IDX label file/,
    );
  });

  it('images that are not 28x28', () => {
    const buf = Buffer.concat([header(IDX_IMAGES_MAGIC, [1, 32, 32]), Buffer.alloc(1024)]);
    expectDataError(() => parseIdxImages(buf, 'big'), /big: images are 32x32, expected 28x28/);
  });

  it('labels outside 0..9', () => {
    const buf = Buffer.concat([header(IDX_LABELS_MAGIC, [3]), Buffer.from([1, 2, 12])]);
    expectDataError(() => parseIdxLabels(buf, 'lab'), /lab: label 12 at index 2 is outside 0\.\.9/);
  });

  it('accepts a tiny well-formed hand-made file', () => {
    const buf = Buffer.concat([header(IDX_IMAGES_MAGIC, [2, 28, 28]), Buffer.alloc(2 * 784, 7)]);
    const parsed = parseIdxImages(gzipSync(buf), 'ok');
    expect(parsed.count).toBe(2);
    expect(parsed.images.every((v) => v === 7)).toBe(true);
  });
});
