import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '../errors.ts';

/**
 * One index file holding several hnswlib graphs (the whole catalog plus one
 * per category), so a build is one file with one checksum, published by one
 * rename. hnswlib reads and writes only by path, hence the temp files.
 *
 * Layout: MAGIC, u32 LE header length, header JSON, then the graphs' bytes
 * back to back in header order.
 */
const MAGIC = Buffer.from('FSHNSW1\n');

export interface GraphEntry {
  /** null for the graph of the whole catalog. */
  category: string | null;
  bytes: number;
}

interface Header {
  dim: number;
  graphs: GraphEntry[];
}

/** Concatenates graph files (hnswlib's own format) into one index file at `path`. */
export function writeIndexFile(
  path: string,
  dim: number,
  graphs: { category: string | null; file: string }[],
): void {
  const blobs = graphs.map((g) => readFileSync(g.file));
  const header: Header = {
    dim,
    graphs: graphs.map((g, i) => ({ category: g.category, bytes: blobs[i].length })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const fd = openSync(path, 'w');
  try {
    for (const part of [MAGIC, len, json, ...blobs]) writeSync(fd, part);
  } finally {
    closeSync(fd);
  }
}

/** A scratch directory for graph files, removed after `fn`. */
export async function withScratchDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hnsw-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Splits an index file and hands each graph to `load(tmpPath, entry)`.
 * Structural problems (bad magic, lengths not adding up, a graph whose
 * vectors are not `dim` float32s) are refused before hnswlib sees the bytes.
 */
export function readIndexFile(
  path: string,
  dim: number,
  load: (tmpPath: string, entry: GraphEntry) => void,
): void {
  const bytes = readFileSync(path);
  const corrupt = (why: string) =>
    new DataFileError(`index file ${path} is corrupt: ${why}`, 'INDEX_FILE_CORRUPT');
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt('not an index file (bad magic)');
  }
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  let header: Header;
  try {
    header = JSON.parse(
      bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength).toString(),
    ) as Header;
  } catch {
    throw corrupt('unreadable header');
  }
  if (header.dim !== dim) {
    throw new DataFileError(
      `index file ${path} has dimension ${header.dim}, expected ${dim}`,
      'INDEX_DIM_MISMATCH',
    );
  }
  let offset = MAGIC.length + 4 + headerLength;
  const total = header.graphs.reduce((s, g) => s + g.bytes, offset);
  if (total !== bytes.length) throw corrupt(`graphs add up to ${total} bytes, file has ${bytes.length}`);
  const dir = mkdtempSync(join(tmpdir(), 'hnsw-load-'));
  try {
    header.graphs.forEach((entry, i) => {
      const blob = bytes.subarray(offset, offset + entry.bytes);
      offset += entry.bytes;
      if (graphDimension(blob) !== dim) throw corrupt(`graph ${i} does not hold ${dim}-d vectors`);
      const p = join(dir, `${i}.bin`);
      writeFileSync(p, blob);
      load(p, entry);
      rmSync(p);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * hnswlib's graph file does not record the dimension and reads any file with
 * whatever dimension it is told; derive it from the header (little-endian
 * size_t fields: the vector sits between offsetData and labelOffset).
 */
function graphDimension(blob: Buffer): number {
  if (blob.length < 48) return -1;
  const labelOffset = Number(blob.readBigUInt64LE(32));
  const offsetData = Number(blob.readBigUInt64LE(40));
  return (labelOffset - offsetData) / Float32Array.BYTES_PER_ELEMENT;
}
