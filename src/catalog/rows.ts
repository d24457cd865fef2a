/**
 * How both catalog stores turn domain values into stored ones and back: the
 * same checks and defaults for a new item (so SQLite and PostgreSQL refuse
 * the same items), attributes as canonical JSON text, vectors as float32
 * bytes, and the opaque paging cursor.
 */
import { ValidationError } from '../errors.ts';
import type { Attributes } from '../search/attributes.ts';
import type { CatalogItem, NewItem } from './store.ts';

/** An item as written: validated, defaults filled in, attributes as canonical JSON text. */
export type ItemValues = Pick<
  CatalogItem,
  'id' | 'title' | 'category' | 'source' | 'split' | 'originalPath'
> & {
  attributes: string;
  image: Uint8Array;
};

export function itemValues(item: NewItem): ItemValues {
  if (typeof item.id !== 'string' || item.id.length === 0 || item.id.length > 200) {
    throw new ValidationError('item id must be a non-empty string of at most 200 characters', 'INVALID_ITEM');
  }
  if (typeof item.category !== 'string' || item.category.length === 0) {
    throw new ValidationError(`item '${item.id}' needs a category`, 'INVALID_ITEM');
  }
  return {
    id: item.id,
    title: item.title ?? '',
    category: item.category,
    source: item.source ?? 'api',
    split: item.split ?? null,
    originalPath: item.originalPath ?? null,
    attributes: canonicalJson(item.attributes ?? {}),
    image: item.image,
  };
}

/** Keys sorted, so that equal attributes are equal objects and equal text. */
export function sortedAttributes(attributes: Attributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Canonical text (keys sorted) so that an unchanged re-import compares equal. */
export function canonicalJson(attributes: Attributes): string {
  return JSON.stringify(sortedAttributes(attributes));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** float32 little-endian bytes; copies so the blob does not alias a pooled Buffer. */
export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

export function blobToVector(b: Uint8Array): Float32Array {
  // Driver Buffers may start at an unaligned offset: copy into a fresh buffer.
  return new Float32Array(Uint8Array.from(b).buffer);
}

export function encodeCursor(label: number): string {
  return Buffer.from(`l${label}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString();
  const m = /^l(\d{1,15})$/.exec(text);
  if (!m) throw new ValidationError(`invalid cursor '${cursor}'`, 'INVALID_CURSOR');
  return Number(m[1]);
}
