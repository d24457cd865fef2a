/**
 * The catalog database. The app closes the store on shutdown when it opened
 * it itself. Also keeps the set of known categories (a GROUP BY over every
 * item is too slow for each filtered query): refreshed after this server's
 * own writes and at most every few seconds for writes by other processes.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { openCatalog } from '../../catalog/sqliteStore.ts';
import type { CatalogStore } from '../../catalog/store.ts';
import { ValidationError } from '../../errors.ts';
import { ItemCache } from '../itemCache.ts';

const CATEGORY_TTL_MS = 5_000;

export class CategoryCache {
  #names: Set<string> | null = null;
  #loadedAt = 0;
  readonly #store: CatalogStore;

  constructor(store: CatalogStore) {
    this.#store = store;
  }

  invalidate(): void {
    this.#names = null;
  }

  names(): Set<string> {
    if (!this.#names || Date.now() - this.#loadedAt > CATEGORY_TTL_MS) {
      this.#names = new Set(this.#store.categories().map((c) => c.category));
      this.#loadedAt = Date.now();
    }
    return this.#names;
  }

  /**
   * Splits comma-separated values, drops duplicates and checks every category
   * exists; returns undefined for "no filter". Throws 400 UNKNOWN_CATEGORY.
   */
  parse(values: readonly string[] | string | undefined): string[] | undefined {
    if (values === undefined) return undefined;
    const list = (typeof values === 'string' ? [values] : values)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
    if (list.length === 0) return undefined;
    const known = this.names();
    const unknown = list.filter((c) => !known.has(c));
    if (unknown.length > 0) {
      throw new ValidationError(
        `unknown categor${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((c) => `'${c}'`).join(', ')}; known: ${[...known].join(', ')}`,
        'UNKNOWN_CATEGORY',
      );
    }
    return [...new Set(list)];
  }
}

/** Where the catalog database lives inside DATA_DIR. */
export function catalogPath(dataDir: string): string {
  return join(dataDir, 'catalog.sqlite');
}

export const dbPlugin = fp(
  async (app: FastifyInstance, opts: { dataDir: string; store?: CatalogStore }) => {
    const store = opts.store ?? openCatalog(catalogPath(opts.dataDir));
    app.decorate('store', store);
    app.decorate('categories', new CategoryCache(store));
    app.decorate('items', new ItemCache(store));
    if (!opts.store) app.addHook('onClose', async () => store.close());
  },
  { name: 'db' },
);
