/**
 * Prometheus metrics on a registry of the app's own (so several apps in one
 * process, as in tests, do not collide): request durations per route, model
 * and search time, index size, model version, build info.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { projectPath } from '../../paths.ts';

const VERSION = (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string })
  .version;

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  embedDuration: Histogram;
  embedBatchSize: Histogram;
  searchDuration: Histogram;
  preprocessDuration: Histogram;
  indexSize: Gauge;
  modelInfo: Gauge<'model_version'>;
  rebuilds: Counter<'status'>;
}

export interface MetricsSource {
  /** Live index size and model version, read at scrape time. */
  snapshot(): { indexSize: number | null; modelVersion: string | null };
}

export function createMetrics(source: MetricsSource): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ms = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  new Gauge({
    name: 'build_info',
    help: 'Version of this service and of Node.js (always 1).',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: VERSION, node_version: process.version }, 1);
  const modelInfo = new Gauge({
    name: 'model_info',
    help: 'Model version being served (1 for the active one).',
    labelNames: ['model_version'],
    registers: [registry],
    collect() {
      this.reset();
      const { modelVersion } = source.snapshot();
      if (modelVersion) this.set({ model_version: modelVersion }, 1);
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: ms,
      registers: [registry],
    }),
    embedDuration: new Histogram({
      name: 'embedding_duration_seconds',
      help: 'Duration of one model call (a micro-batch of query images).',
      buckets: ms,
      registers: [registry],
    }),
    embedBatchSize: new Histogram({
      name: 'embedding_batch_size',
      help: 'Images per model call (micro-batching).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    searchDuration: new Histogram({
      name: 'search_duration_seconds',
      help: 'Duration of one vector index search.',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers: [registry],
    }),
    preprocessDuration: new Histogram({
      name: 'image_preprocess_duration_seconds',
      help: 'Duration of decoding and normalizing one uploaded image.',
      buckets: ms,
      registers: [registry],
    }),
    indexSize: new Gauge({
      name: 'index_size',
      help: 'Live items in the served vector index.',
      registers: [registry],
      collect() {
        const { indexSize } = source.snapshot();
        if (indexSize !== null) this.set(indexSize);
      },
    }),
    modelInfo,
    rebuilds: new Counter({
      name: 'index_rebuilds_total',
      help: 'Finished index rebuild jobs by outcome.',
      labelNames: ['status'],
      registers: [registry],
    }),
  };
}

export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { source: MetricsSource }) => {
    const metrics = createMetrics(opts.source);
    app.decorate('metrics', metrics);
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpDuration.observe(
        {
          method: request.method,
          // The template (`/items/:id`), never the raw URL: one series per route, not per id.
          route: request.routeOptions.url ?? 'unmatched',
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'metrics' },
);
