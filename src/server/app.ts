/**
 * The app factory used by `npm start` (src/cli/serve.ts), the OpenAPI
 * generator and the tests. Plugins (config, errors, catalog, metrics, the
 * serving layer, auth) are registered first, then one plugin per route group.
 *
 * The app can listen before a model and index are loaded (`/healthz` answers,
 * `/readyz` and the query routes answer 503); whoever loads them calls
 * `app.serving.activate(...)`.
 */
import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { CatalogStore } from '../catalog/store.ts';
import type { Config } from '../config/env.ts';
import type { ImageLimits } from '../data/preprocess.ts';
import { NotReadyError } from '../errors.ts';
import type { CatalogService } from '../serving/catalogService.ts';
import type { EmbeddingMaps } from '../serving/embeddingMap.ts';
import type { RebuildJobs } from '../serving/jobs.ts';
import type { ResidentCatalog } from '../serving/residentCatalog.ts';
import type { SearchService } from '../serving/search.ts';
import type { Serving } from '../serving/servedSet.ts';
import { RAW_IMAGE_TYPES } from './imageInput.ts';
import type { AdminGuard } from './plugins/auth.ts';
import { authPlugin } from './plugins/auth.ts';
import { catalogPlugin } from './plugins/catalog.ts';
import { configPlugin } from './plugins/config.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { type Metrics, metricsPlugin } from './plugins/metrics.ts';
import { type ServingPluginOptions, servingPlugin } from './plugins/serving.ts';
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
    store: CatalogStore;
    items: ResidentCatalog;
    serving: Serving;
    catalog: CatalogService;
    similar: SearchService;
    maps: EmbeddingMaps;
    metrics: Metrics;
    requireAdmin: AdminGuard;
    jobs: RebuildJobs;
  }
}

export interface AppDeps extends ServingPluginOptions {
  /** An open catalog (the caller closes it); default: DATA_DIR/catalog.sqlite, closed with the app. */
  store?: CatalogStore;
}

export type App = FastifyInstance;

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

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<App> {
  const app = Fastify({
    logger: { level: config.LOG_LEVEL, name: 'http' },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // An unknown body field is a client mistake to report, not to drop silently (Fastify's default).
    ajv: { customOptions: { removeAdditional: false } },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    logController: new RequestLog(),
    // Requests arriving while closing get our own 503 body (see the onRequest hook below).
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(configPlugin, { config });
  await app.register(errorsPlugin);
  await app.register(catalogPlugin, { dataDir: config.DATA_DIR, store: deps.store });
  await app.register(metricsPlugin, {
    source: {
      snapshot: () => {
        const set = app.serving.current;
        return { indexSize: set?.index.size ?? null, modelVersion: set?.modelVersion ?? null };
      },
    },
  });
  await app.register(servingPlugin, { serving: deps.serving, rebuild: deps.rebuild });
  await app.register(authPlugin, { token: config.ADMIN_TOKEN });

  app.addContentTypeParser(Object.keys(RAW_IMAGE_TYPES), { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  await app.register(multipart, { throwFileSizeLimit: true });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) {
      reply.header('connection', 'close');
      throw new NotReadyError('the server is shutting down', 'SHUTTING_DOWN');
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
