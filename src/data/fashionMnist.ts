import { DataFileError } from '../errors.ts';
import { projectPath } from '../paths.ts';
import { NUM_CLASSES } from './classes.ts';
import { parseIdxImages, parseIdxLabels } from './idx.ts';
import {
  type FashionMnistFileName,
  type LocatedFiles,
  type LocateOptions,
  locateFashionMnist,
  TEST_FILES,
  TRAIN_FILES,
} from './locate.ts';
import type { FashionMnist, ImageSet } from './types.ts';

export type Split = 'train' | 'test';

/** The official test split shipped in the repository, the last resort for `loadFashionMnistSplit('test')`. */
export const BUNDLED_DIR = projectPath('assets', 'fashion-mnist');

interface LoadedSplit {
  set: ImageSet;
  dir: string;
  checksums: Record<string, string>;
}

const cache = new Map<Split, Promise<LoadedSplit>>();

function toImageSet(
  located: LocatedFiles,
  imagesName: FashionMnistFileName,
  labelsName: FashionMnistFileName,
) {
  const images = located.files[imagesName]!;
  const labels = located.files[labelsName]!;
  const parsed = parseIdxImages(images.content, images.path);
  const parsedLabels = parseIdxLabels(labels.content, labels.path, NUM_CLASSES);
  if (parsed.count !== parsedLabels.length) {
    throw new DataFileError(
      `${images.path} has ${parsed.count} images but ${labels.path} has ${parsedLabels.length} labels`,
      'DATA_FILE_CORRUPT',
    );
  }
  return {
    set: { images: parsed.images, labels: parsedLabels, count: parsed.count },
    dir: located.dir,
    checksums: { [imagesName]: images.md5, [labelsName]: labels.md5 },
  };
}

async function loadSplit(split: Split, opts: LocateOptions): Promise<LoadedSplit> {
  const files = split === 'train' ? TRAIN_FILES : TEST_FILES;
  const located = await locateFashionMnist({
    ...opts,
    files,
    fallbackDirs: split === 'test' ? [...(opts.fallbackDirs ?? []), BUNDLED_DIR] : opts.fallbackDirs,
  });
  return toImageSet(located, files[0], files[1]);
}

/**
 * Loads one split. Parsed sets are cached in-process when called without options (the usual case),
 * so the many callers of a CLI or test file pay the ~1 s parse once.
 */
function loadSplitCached(split: Split, opts?: LocateOptions): Promise<LoadedSplit> {
  if (opts) return loadSplit(split, opts);
  let p = cache.get(split);
  if (!p) {
    p = loadSplit(split, {});
    cache.set(split, p);
    p.catch(() => cache.delete(split));
  }
  return p;
}

/** One split of Fashion-MNIST: 60,000 training or 10,000 test images. The test split falls back to the bundled copy. */
export async function loadFashionMnistSplit(split: Split, opts?: LocateOptions): Promise<ImageSet> {
  return (await loadSplitCached(split, opts)).set;
}

/** Both splits, located and verified (see locate.ts), with the decompressed-content MD5 of each file. */
export async function loadFashionMnist(opts?: LocateOptions): Promise<FashionMnist> {
  const [train, test] = await Promise.all([loadSplitCached('train', opts), loadSplitCached('test', opts)]);
  return {
    train: train.set,
    test: test.set,
    dir: train.dir,
    checksums: { ...train.checksums, ...test.checksums },
  };
}
