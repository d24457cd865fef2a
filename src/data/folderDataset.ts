/**
 * A shop's own photos as a training set: the rows of its metadata file (the catalog import's format),
 * each image through the one preprocessing that serving and the catalog use, its category as the label.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { ValidationError } from '../errors.ts';
import { IMAGE_PIXELS } from './classes.ts';
import { type FolderRow, parseMetadata } from './folderMetadata.ts';
import { preprocessImageToBytes } from './preprocess.ts';
import type { ImageSet } from './types.ts';

export interface FolderDataset {
  /** Preprocessed 28x28 images, in the metadata file's order; labels index `categories`. */
  set: ImageSet;
  /** Label i → category, sorted, so the same shop data gives the same labels. */
  categories: string[];
  /** sha256 of the metadata file and of the preprocessed pixels, for the model's metadata.json. */
  checksums: Record<string, string>;
}

export interface FolderDatasetOptions {
  dir: string;
  /** Relative paths are taken from `dir`, as the catalog import does. */
  metadata: string;
  /** Images decoded at once. */
  concurrency?: number;
}

/** Labels are bytes (ImageSet), and the sampler and metrics assume few classes per batch anyway. */
const MAX_CATEGORIES = 256;
/** How many unusable rows an error message lists before summarising the rest. */
const LISTED_FAILURES = 5;

interface Failure {
  row: FolderRow;
  error: string;
}

async function preprocessRow(dir: string, row: FolderRow): Promise<Uint8Array | Failure> {
  const path = resolve(dir, row.file);
  if (relative(dir, path).startsWith('..')) return { row, error: 'is outside the directory' };
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { row, error: code === 'ENOENT' ? 'not found' : (err as Error).message };
  }
  try {
    return await preprocessImageToBytes(bytes);
  } catch (err) {
    return { row, error: `cannot be decoded (${(err as Error).message})` };
  }
}

function describeFailures(failures: Failure[], total: number, metadataPath: string): string {
  const listed = failures
    .slice(0, LISTED_FAILURES)
    .map((f) => `id '${f.row.id}': file '${f.row.file}' ${f.error}`)
    .join('; ');
  const more = failures.length > LISTED_FAILURES ? `; and ${failures.length - LISTED_FAILURES} more` : '';
  return `${failures.length} of ${total} images listed in ${metadataPath} cannot be used for training: ${listed}${more}`;
}

/**
 * Loads every image of the metadata file. Unlike the catalog import, which skips an unreadable image
 * with a warning, training refuses the whole set: a model silently trained on fewer photos than the
 * shop listed is worse than an error naming the rows to fix.
 */
export async function loadFolderDataset(options: FolderDatasetOptions): Promise<FolderDataset> {
  const dir = resolve(options.dir);
  const metadataPath = isAbsolute(options.metadata) ? options.metadata : resolve(dir, options.metadata);
  let text: string;
  try {
    text = await readFile(metadataPath, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read the metadata file ${metadataPath}: ${(err as Error).message}`);
  }
  const rows = parseMetadata(text, metadataPath);
  const categories = [...new Set(rows.map((r) => r.category))].sort();
  if (categories.length < 2) {
    const found = categories.length === 0 ? 'none' : `only '${categories[0]}'`;
    throw new ValidationError(
      `training needs images of at least 2 categories; ${metadataPath} has ${rows.length} rows and ${found}`,
    );
  }
  if (categories.length > MAX_CATEGORIES) {
    throw new ValidationError(
      `${metadataPath} has ${categories.length} categories; training takes at most ${MAX_CATEGORIES}`,
    );
  }

  const images = new Uint8Array(rows.length * IMAGE_PIXELS);
  const failures: Failure[] = [];
  const concurrency = options.concurrency ?? 32;
  for (let start = 0; start < rows.length; start += concurrency) {
    const slice = rows.slice(start, start + concurrency);
    const results = await Promise.all(slice.map((row) => preprocessRow(dir, row)));
    results.forEach((r, i) => {
      if (r instanceof Uint8Array) images.set(r, (start + i) * IMAGE_PIXELS);
      else failures.push(r);
    });
  }
  if (failures.length > 0) throw new ValidationError(describeFailures(failures, rows.length, metadataPath));

  const labelOf = new Map(categories.map((c, i) => [c, i]));
  const labels = Uint8Array.from(rows, (r) => labelOf.get(r.category) ?? 0);
  const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
  return {
    set: { images, labels, count: rows.length },
    categories,
    checksums: { [basename(metadataPath)]: sha256(text), preprocessedImages: sha256(images) },
  };
}
