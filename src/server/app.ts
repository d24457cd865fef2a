/**
 * The app factory used by `npm start` (src/cli/serve.ts), the OpenAPI
 * generator and the tests. Plugins (config, errors, strict input, security
 * headers/CORS/rate limits, catalog, metrics, the serving layer, auth) are
 * registered first, then one plugin per route group.
 *
 * The app can listen before a model and index are loaded (`/healthz` answers,
 * `/readyz` and the query routes answer 503); whoever loads them calls
 * `app.serving.activate(...)`.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import type { Config } from '../config/env.ts';
import type { ImageLimits } from '../data/preprocess.ts';
import { NotReadyError, ValidationError } from '../errors.ts';
import type { CatalogService } from '../serving/catalogService.ts';
import type { ChangeFeed } from '../serving/changeFeed.ts';
import type { EmbeddingMaps } from '../serving/embeddingMap.ts';
import type { RebuildJobs } from '../serving/jobs.ts';
import type { ResidentCatalog } from '../serving/residentCatalog.ts';
import type { SearchService } from '../serving/search.ts';
import type { Serving } from '../serving/servedSet.ts';
import { RAW_IMAGE_TYPES } from './imageInput.ts';
import type { ImageWork } from './imageWork.ts';
import { MULTIPART_FRAMING_BYTES } from './multipart.ts';
import type { AdminGuard } from './plugins/auth.ts';
import { authPlugin } from './plugins/auth.ts';
import { catalogPlugin } from './plugins/catalog.ts';
import { changeFeedPlugin } from './plugins/changeFeed.ts';
import { configPlugin } from './plugins/config.ts';
import {
  clientErrorHandler,
  connectRefused,
  errorsPlugin,
  expectationFailed,
  frameworkErrors,
} from './plugins/errors.ts';
import { type Metrics, metricsPlugin } from './plugins/metrics.ts';
import { securityPlugin } from './plugins/security.ts';
import { type ServingPluginOptions, servingPlugin } from './plugins/serving.ts';
import { strictInputPlugin } from './plugins/strictInput.ts';
import { adminRoutes } from './routes/admin.ts';
import { batchRoutes } from './routes/batch.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { itemRoutes } from './routes/items.ts';
import { recommendationRoutes } from './routes/recommendations.ts';
import { similarRoutes } from './routes/similar.ts';
import { statusRoutes } from './routes/status.ts';
import { webRoutes } from './routes/web.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    imageLimits: ImageLimits;
    store: AsyncCatalogStore;
    items: ResidentCatalog;
    serving: Serving;
    catalog: CatalogService;
    similar: SearchService;
    maps: EmbeddingMaps;
    feed: ChangeFeed;
    metrics: Metrics;
    requireAdmin: AdminGuard;
    jobs: RebuildJobs;
    imageWork: ImageWork;
  }
}

export interface AppDeps extends ServingPluginOptions {
  /** Told after each of this app's catalog writes (wakes the other processes' change feeds). */
  notifyWrite?: () => void;
  /** An open catalog (the caller closes it); default: `openStore(config)`, closed with the app. */
  store?: AsyncCatalogStore;
}

export type App = FastifyInstance;

const SERVED_BY = String(process.pid);

const API_DESCRIPTION =
  'Find clothing items that look alike. A small CNN trained with a triplet loss embeds 28x28 grayscale ' +
  'images (Fashion-MNIST style) into 64 dimensions; an HNSW index finds the nearest catalog items. Every ' +
  'error is `{ "error": { "code", "message" } }` with a 4xx status (503 while loading).';

/** One compact line per request (Fastify's default is two, with full req/res objects): cheap at 10k req/s. */
class RequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const fields = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) request.log.error({ ...fields, err: error }, 'request errored');
    else request.log.info(fields, 'request completed');
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Longest path parameter; longer gets 414. */
const MAX_PARAM_LENGTH = 256;
/** Most time for the request line and headers (never more than REQUEST_TIMEOUT_MS). */
const HEADERS_TIMEOUT_MS = 20_000;

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const app = Fastify({
    logger: { level: config.LOG_LEVEL, name: 'http' },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // An unknown body field is a client mistake to report, not to drop silently (Fastify's default).
    // No type coercion: query strings and path parameters are converted strictly by plugins/strictInput.ts.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // Item ids are up to 200 characters (schemas.ts); longer path segments get 414 URI_TOO_LONG.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    // The client address is the one TRUST_PROXY hops back along X-Forwarded-For (proxy-addr's hop count).
    trustProxy: config.TRUST_PROXY > 0 ? (_address: string, hop: number) => hop < config.TRUST_PROXY : false,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: {
      // A request without Host is refused by the onRequest hook below, with the envelope.
      requireHostHeader: false,
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(config.REQUEST_TIMEOUT_MS || HEADERS_TIMEOUT_MS, HEADERS_TIMEOUT_MS),
      // How often Node checks those two timeouts (its default is 30 s).
      connectionsCheckingInterval: 2_000,
    },
    // A client's X-Request-Id is kept when it is a plausible id, else replaced (it goes into logs and headers).
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new RequestLog(),
    // Requests arriving while closing get our own 503 body (see the onRequest hook below).
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Parser-level refusals: see plugins/errors.ts.
  app.server.on('checkExpectation', expectationFailed);
  app.server.on('connect', connectRefused);

  await app.register(configPlugin, { config });
  await app.register(errorsPlugin);
  await app.register(strictInputPlugin);
  await app.register(securityPlugin);
  await app.register(catalogPlugin, { store: deps.store });
  await app.register(metricsPlugin, {
    source: {
      snapshot: () => {
        const set = app.serving.current;
        return { indexSize: set?.index.size ?? null, modelVersion: set?.modelVersion ?? null };
      },
    },
  });
  await app.register(servingPlugin, { serving: deps.serving, rebuild: deps.rebuild });
  await app.register(changeFeedPlugin, { notify: deps.notifyWrite });
  await app.register(authPlugin, { token: config.ADMIN_TOKEN, apiToken: config.API_TOKEN });

  app.addContentTypeParser(Object.keys(RAW_IMAGE_TYPES), { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  // A form is read whole, like a raw image, and parsed by multipart.ts: one image and its framing.
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: config.BODY_LIMIT_BYTES + MULTIPART_FRAMING_BYTES },
    (_request, body, done) => done(null, body),
  );

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Which serving process answered (with WORKERS or several replicas behind one address).
    reply.header('x-served-by', SERVED_BY);
    if (closing) {
      reply.header('connection', 'close');
      throw new NotReadyError('the server is shutting down', 'SHUTTING_DOWN');
    }
    if (!request.headers.host && request.raw.httpVersion === '1.1') {
      reply.header('connection', 'close');
      throw new ValidationError('an HTTP/1.1 request needs a Host header', 'MISSING_HOST');
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'fashion-similar', version: '1.0.0', description: API_DESCRIPTION },
      tags: [
        { name: 'search', description: 'Similar items and recommendations' },
        { name: 'items', description: 'The catalog' },
        { name: 'admin', description: 'Catalog and index management (bearer token)' },
        { name: 'health', description: 'Liveness, readiness, metrics' },
        { name: 'docs', description: 'This document' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: "The server's ADMIN_TOKEN" },
          apiToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              "The server's API_TOKEN (or ADMIN_TOKEN), needed only when the server sets API_TOKEN",
          },
        },
      },
    },
  });

  await app.register(healthRoutes);
  await app.register(similarRoutes);
  await app.register(itemRoutes);
  await app.register(recommendationRoutes);
  await app.register(batchRoutes);
  await app.register(statusRoutes);
  await app.register(adminRoutes);
  await app.register(docsRoutes);
  await app.register(webRoutes);
  return app;
}
