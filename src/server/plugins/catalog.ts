/**
 * The catalog store (`openStore`: PostgreSQL with DATABASE_URL, else SQLite in
 * DATA_DIR) and its resident copy for the query path. The app closes the
 * store on shutdown when it opened it itself.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AsyncCatalogStore } from '../../catalog/asyncStore.ts';
import { openStore } from '../../catalog/openStore.ts';
import { ResidentCatalog } from '../../serving/residentCatalog.ts';

export const catalogPlugin = fp(
  async (app: FastifyInstance, opts: { store?: AsyncCatalogStore }) => {
    const store = opts.store ?? (await openStore(app.config, { log: app.log }));
    app.decorate('store', store);
    app.decorate('items', await ResidentCatalog.load(store));
    if (!opts.store) app.addHook('onClose', async () => store.close());
  },
  { name: 'catalog', dependencies: ['config'] },
);
