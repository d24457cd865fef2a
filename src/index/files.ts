import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** sha256 hex of a file's bytes. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
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
