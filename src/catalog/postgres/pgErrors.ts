import { AppError, ConflictError, NotReadyError, ValidationError } from '../../errors.ts';

/** The fields of a PostgreSQL error report that node-postgres copies onto its errors. */
interface PgErrorFields {
  code?: string;
  constraint?: string;
  message?: string;
}

/** Socket-level failures of node-postgres (no SQLSTATE): the server is down or the link broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * Connection exceptions (class 08), shutdown and start-up (57P01-57P03) and
 * too many connections (53300): all mean "try again later", not a bad request.
 */
function isUnavailable(e: PgErrorFields): boolean {
  const code = e.code ?? '';
  if (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300')
    return true;
  // pg's own messages when the socket closes under a query or the pool cannot connect in time.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}

/**
 * A unique-constraint violation on `constraint` (SQLSTATE 23505), raw or
 * already mapped by `toDomainError`, for the caller to turn into its own
 * ConflictError or to retry.
 */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  if (err instanceof ConflictError)
    return (err.details as PgErrorFields | undefined)?.constraint === constraint;
  const e = err as PgErrorFields;
  return e?.code === '23505' && e.constraint === constraint;
}

/** Two transactions locked each other's rows (40P01) or a serialisation failure (40001): running again succeeds. */
export function isRetryable(err: unknown): boolean {
  const code = (err as PgErrorFields)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Maps a driver error to the domain errors of `src/errors.ts`, so that layers
 * above the store see the same errors from both stores: an unreachable
 * database is 503 (writes fail clearly while replicas keep serving from
 * memory), a remaining constraint violation 409, text PostgreSQL cannot store
 * (a NUL character) 400. Anything else is a bug and passes through unchanged.
 */
export function toDomainError(err: unknown): unknown {
  if (err instanceof AppError || typeof err !== 'object' || err === null) return err;
  const e = err as PgErrorFields;
  if (isUnavailable(e)) {
    return new NotReadyError(`the PostgreSQL catalog is unavailable: ${e.message}`, 'CATALOG_UNAVAILABLE');
  }
  if (e.code === '23505') {
    return new ConflictError(e.message ?? 'unique constraint violated', 'CONFLICT', {
      constraint: e.constraint,
    });
  }
  if (e.code === '22021' || e.code === '22P05') {
    return new ValidationError(`text the catalog cannot store: ${e.message}`, 'INVALID_ITEM');
  }
  return err;
}
