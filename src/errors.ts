/**
 * The one error hierarchy of the project. Every layer throws these; the HTTP
 * error plugin maps `status` and `code` to `{ error: { code, message } }`.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, code = 'VALIDATION_ERROR', details?: unknown) {
    super(400, code, message, details);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'missing or invalid bearer token', code = 'UNAUTHORIZED') {
    super(401, code, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string, code = 'FORBIDDEN') {
    super(403, code, message);
  }
}
export class NotFoundError extends AppError {
  constructor(message: string, code = 'NOT_FOUND') {
    super(404, code, message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, code = 'CONFLICT', details?: unknown) {
    super(409, code, message, details);
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(message: string, code = 'PAYLOAD_TOO_LARGE') {
    super(413, code, message);
  }
}
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, code = 'UNSUPPORTED_MEDIA_TYPE') {
    super(415, code, message);
  }
}
/** A decodable request whose content is not a usable image (corrupt, truncated, mismatched format). */
export class UnprocessableImageError extends AppError {
  constructor(message: string, code = 'INVALID_IMAGE') {
    super(422, code, message);
  }
}
export class NotReadyError extends AppError {
  constructor(message: string, code = 'NOT_READY') {
    super(503, code, message);
  }
}
/** A data file (dataset, model, index) that is missing, truncated or corrupt. */
export class DataFileError extends AppError {
  constructor(message: string, code = 'DATA_FILE_ERROR') {
    super(500, code, message);
  }
}
