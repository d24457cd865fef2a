/**
 * The one place where errors become HTTP responses. AppErrors keep their
 * status and code; Fastify's and @fastify/multipart's own errors (validation,
 * body too large, bad JSON, wrong content type, broken multipart) are mapped
 * to the same `{ error: { code, message } }` body with a 4xx. Anything else is
 * a bug: logged with its stack and answered 500 without internals.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors.ts';

export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
}

/** Fastify/multipart error codes → our codes; their statusCode is kept unless given here. */
const FRAMEWORK_CODES: Record<string, { code: string; status?: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_REQ_FILE_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_PARTS_LIMIT: { code: 'PAYLOAD_TOO_LARGE' },
  FST_FILES_LIMIT: { code: 'PAYLOAD_TOO_LARGE' },
  FST_FIELDS_LIMIT: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON' },
  FST_PROTO_VIOLATION: { code: 'INVALID_MULTIPART' },
  FST_MP_PREMATURE_CLOSE: { code: 'INVALID_MULTIPART' },
  // @fastify/multipart answers 406 to a non-multipart body on a multipart-only route: it is a 415.
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_INVALID_JSON_FIELD_ERROR: { code: 'INVALID_MULTIPART', status: 400 },
};

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ('statusCode' in err || 'code' in err || 'validation' in err);
}

/** Maps any thrown value to status, code and a message safe to show the client. */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof AppError) return { status: err.status, code: err.code, message: err.message };
  if (isFastifyError(err)) {
    if (err.validation) {
      // Fastify's message already names the part and field, e.g. "querystring/k must be <= 100".
      return { status: 400, code: 'VALIDATION_ERROR', message: err.message };
    }
    const known = err.code ? FRAMEWORK_CODES[err.code] : undefined;
    const status = known?.status ?? err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return { status, code: known?.code ?? 'BAD_REQUEST', message: err.message };
    }
    // A JSON body the parser rejected arrives as a SyntaxError with statusCode 400 (handled above);
    // anything else here is a 5xx.
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal server error' };
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err, request, reply) => {
      const response = toErrorResponse(err);
      if (response.status >= 500) {
        request.log.error({ err }, 'request failed');
      } else {
        request.log.debug({ code: response.code, reason: response.message }, 'request rejected');
      }
      if (response.status === 401) reply.header('www-authenticate', 'Bearer');
      reply.status(response.status).send({ error: { code: response.code, message: response.message } });
    });

    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send({
        error: {
          code: 'ROUTE_NOT_FOUND',
          message: `no route ${request.method} ${request.url.split('?')[0]}`,
        },
      });
    });
  },
  { name: 'errors' },
);
