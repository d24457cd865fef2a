/**
 * The one place where errors become HTTP responses. AppErrors keep their
 * status and code; Fastify's own errors (validation, body too large, bad
 * JSON, wrong content type) are mapped
 * to the same `{ error: { code, message } }` body with a 4xx. Anything else is
 * a bug: logged with its stack and answered 500 without internals. 429 and
 * 503 answers carry `Retry-After`.
 *
 * Refusals that never reach a route get the same body: the router's
 * (`frameworkErrors`: bad percent-encoding, a path parameter past
 * `maxParamLength`), Node's HTTP parser's (`clientErrorHandler`: garbage
 * request line, unknown method, bad HTTP version, header too large, bad
 * Content-Length or chunk, slow request) and an unmet `Expect` header.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../errors.ts';

export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
}

/** Fastify's error codes → our codes; their statusCode is kept unless given here. */
const FRAMEWORK_CODES: Record<string, { code: string; status?: number; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON' },
  // Their messages echo the whole path: ours do not.
  FST_ERR_BAD_URL: {
    code: 'INVALID_URL',
    status: 400,
    message: 'malformed percent-encoding in the URL path',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    code: 'URI_TOO_LONG',
    status: 414,
    message: 'a path segment (item or job id) is too long',
  },
};

/** Seconds a client should wait before retrying a 429 or 503, by code (default 5 for 503, 60 for 429). */
const RETRY_AFTER: Record<string, number> = { OVERLOADED: 1, MAP_NOT_READY: 2, SHUTTING_DOWN: 10 };

export function retryAfterSeconds(response: ErrorResponse): number | null {
  if (response.status === 503) return RETRY_AFTER[response.code] ?? 5;
  if (response.status === 429) return RETRY_AFTER[response.code] ?? 60;
  return null;
}

/** Node HTTP parser (llhttp) and server error codes → status and our code; anything else is 400 MALFORMED_REQUEST. */
const PARSER_ERRORS: Record<string, { status: number; code: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'HEADERS_TOO_LARGE' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT' },
  HPE_INVALID_METHOD: { status: 400, code: 'INVALID_METHOD' },
  HPE_INVALID_VERSION: { status: 400, code: 'INVALID_HTTP_VERSION' },
  HPE_INVALID_URL: { status: 400, code: 'INVALID_URL' },
  HPE_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  HPE_INVALID_TRANSFER_ENCODING: { status: 400, code: 'INVALID_TRANSFER_ENCODING' },
  HPE_INVALID_CHUNK_SIZE: { status: 400, code: 'INVALID_CHUNK' },
  HPE_INVALID_HEADER_TOKEN: { status: 400, code: 'INVALID_HEADER' },
};

const PARSER_MESSAGES: Record<number, string> = {
  408: 'the request took too long to arrive',
  431: 'request line or headers too large',
};

/**
 * The status and envelope of an error Node's HTTP server reports before any
 * request exists. The message is llhttp's `reason` (a fixed text such as
 * "Duplicate Content-Length", never the client's bytes).
 */
export function clientErrorResponse(err: NodeJS.ErrnoException & { reason?: unknown }): ErrorResponse {
  const known = (err.code ? PARSER_ERRORS[err.code] : undefined) ?? {
    status: 400,
    code: 'MALFORMED_REQUEST',
  };
  const reason = typeof err.reason === 'string' && err.reason.length < 200 ? err.reason : null;
  const message = PARSER_MESSAGES[known.status] ?? `malformed HTTP request${reason ? `: ${reason}` : ''}`;
  return { ...known, message };
}

/** A complete HTTP/1.1 response with the envelope, for writing straight to a socket. */
export function rawErrorResponse(response: ErrorResponse): string {
  const body = JSON.stringify({ error: { code: response.code, message: response.message } });
  return [
    `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Fastify's `clientErrorHandler`: answers what Node's HTTP parser refused with
 * the envelope and closes the connection. When an earlier request pipelined on
 * the same connection is still being answered, the refusal follows its
 * response; when the refused request's own response has started (or the
 * socket is gone), the connection is just closed.
 */
export function clientErrorHandler(
  this: FastifyInstance | undefined,
  err: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  this?.log.debug({ code: err.code, reason: err.message }, 'malformed request refused');
  let done = false;
  const respond = () => {
    if (done) return;
    done = true;
    if (socket.destroyed || !socket.writable) return void socket.destroy();
    socket.end(rawErrorResponse(clientErrorResponse(err)));
    // A client that never reads must not keep the socket open.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished && inFlight.req?.complete && !inFlight.headersSent) {
    inFlight.once('finish', respond);
    inFlight.once('close', respond);
    setTimeout(() => socket.destroy(), 30_000).unref();
    return;
  }
  if (inFlight?.headersSent && !inFlight.writableFinished) return void socket.destroy();
  respond();
}

/** `checkExpectation` listener: any Expect other than 100-continue gets 417 with the envelope. */
export function expectationFailed(_request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify({
    error: { code: 'EXPECTATION_FAILED', message: 'only `Expect: 100-continue` is supported' },
  });
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}

/** `connect` listener: this is no proxy; a CONNECT request gets 405 with the envelope (Node would just close). */
export function connectRefused(_request: IncomingMessage, socket: Duplex): void {
  socket.end(
    rawErrorResponse({
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: 'CONNECT is not supported: this server is no proxy',
    }),
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Fastify's `frameworkErrors`: router refusals (bad URL encoding, 414) with the envelope. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const response = toErrorResponse(err);
  reply.status(response.status).send({ error: { code: response.code, message: response.message } });
}

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
      return { status, code: known?.code ?? 'BAD_REQUEST', message: known?.message ?? err.message };
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
      const retryAfter = retryAfterSeconds(response);
      if (retryAfter !== null && !reply.hasHeader('retry-after')) reply.header('retry-after', retryAfter);
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
