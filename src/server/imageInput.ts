/**
 * Reading an uploaded image: either the raw body (Content-Type image/png,
 * image/jpeg or image/webp) or the `image` file of a multipart form, plus the
 * form's text fields. Sizes are bounded while reading (body limit, multipart
 * file size), the declared type is checked against the bytes' magic number,
 * and the pixel count is checked on the header inside `preprocessImage`
 * before anything is decoded.
 */
import type { FastifyRequest } from 'fastify';
import { detectFormat, type ImageFormat } from '../data/preprocess.ts';
import { UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { parseMultipart } from './multipart.ts';

export const RAW_IMAGE_TYPES: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
};

/** Part types that say nothing about the format: the bytes decide. */
const GENERIC_TYPES = new Set(['', 'application/octet-stream']);

export interface ImageUpload {
  bytes: Buffer;
  /** Text fields of a multipart form (empty for a raw body). */
  fields: Record<string, string>;
}

export interface UploadLimits {
  maxBytes: number;
  /** Largest text field, bytes. */
  maxFieldBytes?: number;
  maxFields?: number;
}

/** Rejects a declared image type that the bytes contradict (415), and an empty image (400). */
export function checkDeclaredType(declared: string, bytes: Uint8Array): void {
  if (bytes.length === 0) throw new ValidationError('the image is empty', 'EMPTY_IMAGE');
  const type = declared.split(';')[0].trim().toLowerCase();
  if (GENERIC_TYPES.has(type)) return;
  const expected = RAW_IMAGE_TYPES[type] ?? (type === 'image/gif' ? 'gif' : undefined);
  if (!expected) {
    throw new UnsupportedMediaTypeError(
      `unsupported image type '${type}': send image/png, image/jpeg or image/webp`,
      'UNSUPPORTED_IMAGE_FORMAT',
    );
  }
  const actual = detectFormat(bytes);
  if (actual !== expected) {
    throw new UnsupportedMediaTypeError(
      `Content-Type says ${type} but the bytes are ${actual ? `a ${actual.toUpperCase()} image` : 'not a PNG, JPEG or WebP image'}`,
      'CONTENT_TYPE_MISMATCH',
    );
  }
}

/** Whether the request carries a multipart/form-data body (read into a Buffer by app.ts's parser). */
export function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\/form-data\b/i.test(request.headers['content-type'] ?? '');
}

function readMultipart(
  request: FastifyRequest,
  limits: UploadLimits,
  maxFiles: number,
): { images: Buffer[]; fields: Record<string, string> } {
  const body = request.body;
  if (!Buffer.isBuffer(body)) throw new ValidationError('the multipart body is missing', 'INVALID_MULTIPART');
  const form = parseMultipart(body, request.headers['content-type'] ?? '', {
    maxFiles,
    maxFileBytes: limits.maxBytes,
    maxFields: limits.maxFields ?? 10,
    maxFieldBytes: limits.maxFieldBytes ?? 4096,
  });
  const images = form.files.map((file) => {
    if (file.field !== 'image') {
      throw new ValidationError(
        `unexpected file field '${file.field}': send the image as field 'image'`,
        'INVALID_MULTIPART',
      );
    }
    checkDeclaredType(file.type, file.bytes);
    return file.bytes;
  });
  if (images.length === 0) throw new ValidationError("the form has no file field 'image'", 'MISSING_IMAGE');
  return { images, fields: form.fields };
}

/** The `image` files (1..maxFiles) of a multipart batch request; 413 past maxFiles. */
export function readImageUploads(request: FastifyRequest, limits: UploadLimits, maxFiles: number): Buffer[] {
  return readMultipart(request, limits, maxFiles).images;
}

/** Base64 (or `data:` URL) images of a JSON batch request, each checked like an upload. */
export function decodeBase64Images(images: readonly string[]): Buffer[] {
  return images.map((text, i) => {
    const payload = text.replace(/^data:[^,]*;base64,/, '');
    if (!/^[A-Za-z0-9+/=\s]*$/.test(payload)) {
      throw new ValidationError(`images[${i}] is not base64`, 'INVALID_IMAGE_ENCODING');
    }
    const bytes = Buffer.from(payload, 'base64');
    checkDeclaredType('', bytes);
    return bytes;
  });
}

/** preValidation of the JSON routes: Fastify also parses text/plain, which they do not take. */
export async function requireJson(request: FastifyRequest): Promise<void> {
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    throw new UnsupportedMediaTypeError('send the body as application/json');
  }
}

/** The uploaded image of a request to an image route (raw body or multipart). */
export function readImageUpload(request: FastifyRequest, limits: UploadLimits): ImageUpload {
  if (isMultipart(request)) {
    const { images, fields } = readMultipart(request, limits, 1);
    return { bytes: images[0], fields };
  }
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    checkDeclaredType(request.headers['content-type'] ?? '', body);
    return { bytes: body, fields: {} };
  }
  throw new UnsupportedMediaTypeError(
    'send the image as multipart/form-data field `image` or as a raw image/png, image/jpeg or image/webp body',
    'UNSUPPORTED_MEDIA_TYPE',
  );
}
