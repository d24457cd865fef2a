/**
 * A shop's metadata file (items.csv or items.jsonl: id, title, category, file, then any attributes),
 * shared by the catalog's folder import and training on a shop's photos.
 */
import { extname } from 'node:path';
import { ValidationError } from '../errors.ts';
import { type Attributes, type AttributeValue, parseAttributes } from '../search/attributes.ts';

/** One row of a shop's metadata file. */
export interface FolderRow {
  id: string;
  title: string;
  category: string;
  /** Image path relative to the import directory. */
  file: string;
  /** Every other field (column) of the row. */
  attributes: Attributes;
}

const COLUMNS = ['id', 'title', 'category', 'file'] as const;

/** RFC 4180 fields: quoted fields may hold commas, newlines and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new ValidationError('CSV ends inside a quoted field');
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/**
 * A CSV cell as an attribute value: JSON numbers (`49.9`, not `00123`), `true`
 * and `false`, and JSON arrays of strings (`["S","M"]`) keep their type;
 * anything else is a string; an empty cell is no attribute.
 */
export function csvAttribute(cell: string): AttributeValue | undefined {
  const text = cell.trim();
  if (text === '') return undefined;
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (text.startsWith('[')) {
    try {
      const list: unknown = JSON.parse(text);
      if (Array.isArray(list) && list.every((v) => typeof v === 'string')) return list;
    } catch {
      // Not JSON: a string that happens to start with '['.
    }
  }
  return text;
}

/** `attributes` of a JSONL row and its other fields, merged (the fields win). */
function rowAttributes(r: Record<string, unknown>, where: string): Attributes {
  const extra = Object.fromEntries(
    Object.entries(r).filter(
      ([key, v]) => key !== 'attributes' && !(COLUMNS as readonly string[]).includes(key) && v !== undefined,
    ),
  );
  const nested = r.attributes === undefined ? {} : parseAttributes(r.attributes, `${where}: attributes`);
  return parseAttributes({ ...nested, ...extra }, `${where}: attributes`);
}

function checkRow(value: unknown, where: string): FolderRow {
  const r = value as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) throw new ValidationError(`${where}: expected an object`);
  for (const c of COLUMNS) {
    if (typeof r[c] !== 'string' || (c !== 'title' && (r[c] as string).trim() === '')) {
      throw new ValidationError(`${where}: '${c}' must be a${c === 'title' ? '' : ' non-empty'} string`);
    }
  }
  return {
    id: String(r.id).trim(),
    title: String(r.title),
    category: String(r.category).trim(),
    file: String(r.file),
    attributes: rowAttributes(r, where),
  };
}

/** Parses `items.jsonl` or `items.csv`; a malformed row fails the whole file, naming the line. */
export function parseMetadata(text: string, fileName: string): FolderRow[] {
  const ext = extname(fileName).toLowerCase();
  let rows: FolderRow[];
  if (ext === '.jsonl' || ext === '.ndjson') {
    rows = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new ValidationError(`${fileName}:${i + 1}: invalid JSON (${(err as Error).message})`);
      }
      rows.push(checkRow(value, `${fileName}:${i + 1}`));
    });
  } else if (ext === '.csv') {
    const [header, ...body] = parseCsv(text);
    if (!header) return [];
    const cols = header.map((h) => h.trim().toLowerCase());
    const missing = COLUMNS.filter((c) => !cols.includes(c));
    if (missing.length > 0) throw new ValidationError(`${fileName}: header lacks ${missing.join(', ')}`);
    const isColumn = (c: string) => (COLUMNS as readonly string[]).includes(c);
    rows = body.map((fields, i) =>
      checkRow(
        Object.fromEntries(
          cols.map((c, j) => [c, isColumn(c) ? (fields[j] ?? '') : csvAttribute(fields[j] ?? '')]),
        ),
        `${fileName}:${i + 2}`,
      ),
    );
  } else {
    throw new ValidationError(`metadata must be .jsonl or .csv, got '${fileName}'`);
  }
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.id)) throw new ValidationError(`${fileName}: id '${r.id}' appears twice`);
    seen.add(r.id);
  }
  return rows;
}
