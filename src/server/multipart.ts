/**
 * multipart/form-data (RFC 7578) over a body already read into memory, within the route's body limit.
 * The forms this service takes are small (one to MAX_BATCH images and a few text fields), so one pass of
 * Buffer.indexOf over the whole body replaces a streaming parser's per-request machinery.
 */
import { PayloadTooLargeError, ValidationError } from '../errors.ts';

export interface MultipartLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxFields: number;
  maxFieldBytes: number;
}

export interface FilePart {
  field: string;
  filename: string;
  /** The part's Content-Type, '' when it has none. */
  type: string;
  bytes: Buffer;
}

export interface MultipartForm {
  /** In the order of the body. */
  files: FilePart[];
  fields: Record<string, string>;
}

/**
 * What a form may add to its files' bytes (boundaries, part headers, text fields): a form's body limit is
 * the image limit plus this, so an image as large as a raw upload may be sent as a form too.
 */
export const MULTIPART_FRAMING_BYTES = 64 * 1024;
/** A part's header block larger than this is not a form a client of this service sends. */
const MAX_PART_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const DASH = 0x2d;

function malformed(message: string): ValidationError {
  return new ValidationError(`malformed multipart body: ${message}`, 'INVALID_MULTIPART');
}

/** The boundary parameter of a multipart Content-Type (RFC 2046: 1-70 characters, maybe quoted). */
export function multipartBoundary(contentType: string): string {
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw malformed('the Content-Type has no boundary');
  return boundary;
}

/** The parameters of a header value such as `form-data; name="image"; filename="a.png"`. */
function headerParameters(value: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = m[1].toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    if (key.endsWith('*')) {
      // RFC 5987 extended value: charset'language'percent-encoded (browsers send UTF-8).
      const ext = /^[^']*'[^']*'(.*)$/.exec(raw);
      try {
        params.set(key.slice(0, -1), decodeURIComponent(ext ? ext[1] : raw));
      } catch {
        throw malformed(`undecodable parameter ${key}`);
      }
    } else if (!params.has(key)) params.set(key, raw);
  }
  return params;
}

interface PartHeaders {
  name: string;
  filename?: string;
  type: string;
}

function parsePartHeaders(block: string): PartHeaders {
  let disposition: string | undefined;
  let type = '';
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('a part header line has no name');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') type = value;
  }
  if (!disposition || !/^form-data\s*(;|$)/i.test(disposition))
    throw malformed('a part has no Content-Disposition: form-data');
  const params = headerParameters(disposition);
  const name = params.get('name');
  if (name === undefined) throw malformed('a part has no field name');
  return { name, filename: params.get('filename'), type };
}

/**
 * The file and text parts of `body`. Limits are checked part by part as the body is read: more files or
 * fields than allowed and a file over its size are 413, a text field over its size is 400, and a body
 * that does not follow the format (no opening or closing boundary, a broken part header) is 400.
 */
export function parseMultipart(body: Buffer, contentType: string, limits: MultipartLimits): MultipartForm {
  const delimiter = Buffer.from(`--${multipartBoundary(contentType)}`);
  const form: MultipartForm = { files: [], fields: Object.create(null) };
  let fieldCount = 0;
  // The first delimiter may follow a preamble, which is ignored; every later one follows a CRLF.
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw malformed('the boundary of the Content-Type is not in the body');
  const nextDelimiter = Buffer.concat([CRLF, delimiter]);
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === DASH && body[pos + 1] === DASH) return form;
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++; // transport padding
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw malformed('a boundary is not followed by CRLF');
    pos += 2;
    const headersEnd = body.indexOf(HEADER_END, pos);
    if (headersEnd < 0 || headersEnd - pos > MAX_PART_HEADER_BYTES)
      throw malformed('a part header does not end');
    const headers = parsePartHeaders(body.toString('utf8', pos, headersEnd));
    const contentStart = headersEnd + HEADER_END.length;
    const contentEnd = body.indexOf(nextDelimiter, contentStart);
    if (contentEnd < 0) throw malformed('the body ends inside a part (no closing boundary)');
    const content = body.subarray(contentStart, contentEnd);
    if (headers.filename !== undefined) {
      if (form.files.length >= limits.maxFiles)
        throw new PayloadTooLargeError(`at most ${limits.maxFiles} file part(s) per request`);
      if (content.length > limits.maxFileBytes)
        throw new PayloadTooLargeError(
          `file '${headers.filename}' is larger than ${limits.maxFileBytes} bytes`,
        );
      form.files.push({
        field: headers.name,
        filename: headers.filename,
        type: headers.type,
        bytes: content,
      });
    } else {
      if (++fieldCount > limits.maxFields)
        throw new PayloadTooLargeError(`at most ${limits.maxFields} text fields per request`);
      if (content.length > limits.maxFieldBytes)
        throw new ValidationError(`field '${headers.name}' is too long`, 'VALIDATION_ERROR');
      form.fields[headers.name] = content.toString('utf8');
    }
    pos = contentEnd + CRLF.length;
  }
}
