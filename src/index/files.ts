import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** sha256 hex of a file's bytes. */
/** Read in pieces: an index file can be as large as the catalog's graph. */
const HASH_CHUNK_BYTES = 1 << 20;

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(HASH_CHUNK_BYTES);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes a fully written temp file durable, then moves it into place, so a
 * reader (or a restart after a kill) sees either no file or the whole file.
 */
export function publishFile(tmpPath: string, finalPath: string): void {
  fsyncPath(tmpPath);
  renameSync(tmpPath, finalPath);
  // The rename itself lives in the directory entry: sync the directory too.
  fsyncPath(dirname(finalPath));
}

export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  publishFile(tmp, path);
}
