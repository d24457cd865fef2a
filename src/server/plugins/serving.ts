/**
 * The serving layer as app decorators: the served model + index (one
 * `Serving` reference, swapped together), the catalog writes, the query path
 * the rebuild jobs and the bound on query-image work, with their timings
 * going to the metrics. Disposed on close.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { CatalogService } from '../../serving/catalogService.ts';
import { EmbeddingMaps } from '../../serving/embeddingMap.ts';
import { type RebuildFn, RebuildJobs } from '../../serving/jobs.ts';
import { SearchService } from '../../serving/search.ts';
import { Serving, type ServingInput } from '../../serving/servedSet.ts';
import { catalogRebuild } from '../../serving/startup.ts';
import { ImageWork } from '../imageWork.ts';

export interface ServingPluginOptions {
  /** Model and index to serve at once; default: not ready until `app.serving.activate` is called. */
  serving?: ServingInput;
  /** How POST /admin/index/rebuild rebuilds; default: the catalog's `rebuildIndex`. */
  rebuild?: RebuildFn;
}

export const servingPlugin = fp(
  async (app: FastifyInstance, opts: ServingPluginOptions) => {
    const { metrics } = app;
    const imageWork = new ImageWork(app.config.EMBED_QUEUE_MAX);
    const serving = new Serving(
      {
        maxBatch: app.config.EMBED_BATCH_MAX,
        waitMs: app.config.EMBED_BATCH_WAIT_MS,
        admitted: () => imageWork.inProgress,
        maxPending: app.config.EMBED_QUEUE_MAX,
        onBatch: (size, seconds) => {
          metrics.embedDuration.observe(seconds);
          metrics.embedBatchSize.observe(size);
        },
      },
      app.log,
    );
    const catalog = new CatalogService({
      store: app.store,
      serving,
      items: app.items,
      imageLimits: app.imageLimits,
      log: app.log,
    });
    app.decorate('serving', serving);
    app.decorate('catalog', catalog);
    app.decorate(
      'similar',
      new SearchService({
        serving,
        items: app.items,
        catalog,
        imageLimits: app.imageLimits,
        timings: {
          preprocess: (s) => metrics.preprocessDuration.observe(s),
          search: (s) => metrics.searchDuration.observe(s),
        },
      }),
    );
    const jobs = new RebuildJobs(
      app.store,
      opts.rebuild ?? catalogRebuild(app.store, app.config, app.log),
      serving,
      (job) => {
        metrics.rebuilds.inc({ status: job.status });
        app.log.info({ job }, 'index rebuild finished');
      },
    );
    const interrupted = await jobs.recoverInterrupted();
    if (interrupted > 0)
      app.log.warn({ interrupted }, 'jobs left unfinished by a stopped server marked failed');
    app.decorate('jobs', jobs);
    app.decorate('maps', new EmbeddingMaps(app.log));
    app.decorate('imageWork', imageWork);
    if (opts.serving) serving.activate(opts.serving);
    app.addHook('onClose', async () => serving.close());
  },
  { name: 'serving', dependencies: ['config', 'catalog', 'metrics'] },
);
