/**
 * The change feed of this process (src/serving/changeFeed.ts) as `app.feed`:
 * whoever makes the app ready starts it at the state it loaded. `notify` is
 * told after this process's own writes, so that the other processes sharing
 * the catalog can be woken (between `WORKERS`, through the cluster primary).
 * A set activated after the start (a rebuild, a build taken up) was made
 * from the catalog as of its `changeSeq`: the feed replays what came after.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ChangeFeed } from '../../serving/changeFeed.ts';
import { loadBuild } from '../../serving/startup.ts';

export const changeFeedPlugin = fp(
  async (app: FastifyInstance, opts: { notify?: () => void }) => {
    const feed = new ChangeFeed({
      store: app.store,
      serving: app.serving,
      items: app.items,
      log: app.log,
      loadBuild: (build) => loadBuild(app.config, app.store, build, app.log),
      pollMs: app.config.CHANGE_POLL_MS,
    });
    if (opts.notify) app.catalog.onWrite(opts.notify);
    app.serving.onActivate((set) => {
      if (set.changeSeq !== undefined) feed.replayFrom(set.changeSeq);
    });
    app.decorate('feed', feed);
    app.addHook('onClose', async () => feed.stop());
  },
  { name: 'change-feed', dependencies: ['serving'] },
);
