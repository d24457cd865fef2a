/**
 * Read-through memory cache of catalog items for the query path. A SQLite
 * lookup costs ~10-15 µs per statement here, and a search result needs 10+
 * of them: at thousands of requests per second that dominated the request.
 * This server's own writes update the cache at once; writes by another
 * process (a CLI import while serving) are not seen by the in-memory index
 * either until a rebuild or restart, which also clears this cache.
 */
import type { CatalogItem, CatalogStore } from '../catalog/store.ts';

/** Far above Fashion-MNIST's 70,000 items; past it the cache starts over rather than growing without bound. */
const MAX_ENTRIES = 500_000;

export class ItemCache {
  readonly #store: CatalogStore;
  readonly #byId = new Map<string, CatalogItem>();
  readonly #byLabel = new Map<number, CatalogItem>();

  constructor(store: CatalogStore) {
    this.#store = store;
  }

  get(id: string): CatalogItem | null {
    const hit = this.#byId.get(id);
    if (hit) return hit;
    const item = this.#store.getItem(id);
    if (item) this.#remember(item);
    return item;
  }

  byLabels(labels: readonly number[]): Map<number, CatalogItem> {
    const out = new Map<number, CatalogItem>();
    const missing: number[] = [];
    for (const label of labels) {
      const hit = this.#byLabel.get(label);
      if (hit) out.set(label, hit);
      else missing.push(label);
    }
    if (missing.length > 0) {
      for (const [label, item] of this.#store.getItemsByLabels(missing)) {
        this.#remember(item);
        out.set(label, item);
      }
    }
    return out;
  }

  forget(item: CatalogItem): void {
    this.#byId.delete(item.id);
    this.#byLabel.delete(item.label);
  }

  clear(): void {
    this.#byId.clear();
    this.#byLabel.clear();
  }

  #remember(item: CatalogItem): void {
    if (this.#byLabel.size >= MAX_ENTRIES) this.clear();
    this.#byId.set(item.id, item);
    this.#byLabel.set(item.label, item);
  }
}
