import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '../errors.ts';

/**
 * One index file holding hnswlib graphs, so a build is one file with one
 * checksum, published by one rename. Builds write a single graph of the whole
 * catalog; files of older builds also hold one graph per category, which
 * loading skips. hnswlib reads and writes only by path, hence the temp files.
 *
 * Layout: MAGIC, u32 LE header length, header JSON, then the graphs' bytes
 * back to back in header order.
 */
const MAGIC = Buffer.from('FSHNSW1\n');
/** Graphs are copied in and out of index files in pieces of this size, never held whole. */
const COPY_CHUNK_BYTES = 1 << 20;
/** hnswlib's graph header fields up to offsetData (see graphDimension). */
const GRAPH_HEADER_BYTES = 48;

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
  const header: Header = {
    dim,
    graphs: graphs.map((g) => ({ category: g.category, bytes: statSync(g.file).size })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const fd = openSync(path, 'w');
  try {
    for (const part of [MAGIC, len, json]) writeSync(fd, part);
    const chunk = Buffer.alloc(COPY_CHUNK_BYTES);
    graphs.forEach((g, i) => {
      const input = openSync(g.file, 'r');
      try {
        copyRange(input, 0, header.graphs[i].bytes, fd, chunk);
      } finally {
        closeSync(input);
      }
    });
  } finally {
    closeSync(fd);
  }
}

/** Copies `length` bytes at `start` of `input` to the end of `output` through `chunk`. */
function copyRange(input: number, start: number, length: number, output: number, chunk: Buffer): void {
  for (let done = 0; done < length; ) {
    const n = readSync(input, chunk, 0, Math.min(chunk.length, length - done), start + done);
    if (n === 0)
      throw new DataFileError(`unexpected end of file copying ${length} bytes`, 'INDEX_FILE_CORRUPT');
    writeSync(output, chunk, 0, n);
    done += n;
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
 * Splits an index file and hands each graph that `want` selects to
 * `load(tmpPath, entry)`, copying it in chunks: the file is never held in
 * memory whole, which would double a large catalog's footprint while it loads.
 * Structural problems (bad magic, lengths not adding up, a graph whose
 * vectors are not `dim` float32s) are refused before hnswlib sees the bytes.
 */
export function readIndexFile(
  path: string,
  dim: number,
  load: (tmpPath: string, entry: GraphEntry) => void,
  want: (entry: GraphEntry) => boolean = () => true,
): void {
  const corrupt = (why: string) =>
    new DataFileError(`index file ${path} is corrupt: ${why}`, 'INDEX_FILE_CORRUPT');
  const fd = openSync(path, 'r');
  const dir = mkdtempSync(join(tmpdir(), 'hnsw-load-'));
  try {
    const size = fstatSync(fd).size;
    const start = Buffer.alloc(MAGIC.length + 4);
    if (
      readSync(fd, start, 0, start.length, 0) < start.length ||
      !start.subarray(0, MAGIC.length).equals(MAGIC)
    ) {
      throw corrupt('not an index file (bad magic)');
    }
    const headerLength = start.readUInt32LE(MAGIC.length);
    if (MAGIC.length + 4 + headerLength > size) throw corrupt('header longer than the file');
    const headerBytes = Buffer.alloc(headerLength);
    readSync(fd, headerBytes, 0, headerLength, MAGIC.length + 4);
    let header: Header;
    try {
      header = JSON.parse(headerBytes.toString()) as Header;
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
    if (total !== size) throw corrupt(`graphs add up to ${total} bytes, file has ${size}`);
    const chunk = Buffer.alloc(COPY_CHUNK_BYTES);
    header.graphs.forEach((entry, i) => {
      const graphStart = offset;
      offset += entry.bytes;
      if (!want(entry)) return;
      const head = chunk.subarray(0, Math.min(GRAPH_HEADER_BYTES, entry.bytes));
      readSync(fd, head, 0, head.length, graphStart);
      if (graphDimension(head) !== dim) throw corrupt(`graph ${i} does not hold ${dim}-d vectors`);
      const p = join(dir, `${i}.bin`);
      const out = openSync(p, 'w');
      try {
        copyRange(fd, graphStart, entry.bytes, out, chunk);
      } finally {
        closeSync(out);
      }
      load(p, entry);
      rmSync(p);
    });
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * hnswlib's graph file does not record the dimension and reads any file with
 * whatever dimension it is told; derive it from the header (little-endian
 * size_t fields: the vector sits between offsetData and labelOffset).
 */
function graphDimension(blob: Buffer): number {
  if (blob.length < GRAPH_HEADER_BYTES) return -1;
  const labelOffset = Number(blob.readBigUInt64LE(32));
  const offsetData = Number(blob.readBigUInt64LE(40));
  return (labelOffset - offsetData) / Float32Array.BYTES_PER_ELEMENT;
}
