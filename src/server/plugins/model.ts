/**
 * The served model and index (one `Serving` reference, swapped together), with
 * the micro-batching queue's timings going to the metrics. Disposed on close.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Serving, type ServingInput } from '../serving.ts';

export const modelPlugin = fp(
  async (app: FastifyInstance, opts: { serving?: ServingInput }) => {
    const serving = new Serving(
      {
        maxBatch: app.config.EMBED_BATCH_MAX,
        waitMs: app.config.EMBED_BATCH_WAIT_MS,
        onBatch: (size, seconds) => {
          app.metrics.embedDuration.observe(seconds);
          app.metrics.embedBatchSize.observe(size);
        },
      },
      app.log,
    );
    app.decorate('serving', serving);
    if (opts.serving) serving.activate(opts.serving);
    app.addHook('onClose', async () => serving.close());
  },
  { name: 'model', dependencies: ['config', 'metrics'] },
);
