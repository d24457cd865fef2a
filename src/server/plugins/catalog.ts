/**
 * The catalog database and its resident copy for the query path. The app
 * closes the store on shutdown when it opened it itself.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { openCatalog } from '../../catalog/sqliteStore.ts';
import type { CatalogStore } from '../../catalog/store.ts';
import { ResidentCatalog } from '../../serving/residentCatalog.ts';

/** Where the catalog database lives inside DATA_DIR. */
export function catalogPath(dataDir: string): string {
  return join(dataDir, 'catalog.sqlite');
}

export const catalogPlugin = fp(
  async (app: FastifyInstance, opts: { dataDir: string; store?: CatalogStore }) => {
    const store = opts.store ?? openCatalog(catalogPath(opts.dataDir));
    app.decorate('store', store);
    app.decorate('items', ResidentCatalog.load(store));
    if (!opts.store) app.addHook('onClose', async () => store.close());
  },
  { name: 'catalog' },
);
