/**
 * The one place that writes an item: the store transaction, the served index
 * and vectors, and the resident catalog change in one step, so routes and CLIs
 * never keep those in line themselves. Also the lookups that need more than
 * one of them (an item's vector for the served model).
 */
import { randomUUID } from 'node:crypto';
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import { decodeStoredImage } from '../catalog/embedCatalog.ts';
import { decodeCursor, encodeCursor } from '../catalog/rows.ts';
import type { CatalogItem, ItemPage, ItemUpdate } from '../catalog/store.ts';
import { bytesToUnit } from '../data/pixels.ts';
import { encodePng28, type ImageLimits, preprocessImageToBytes } from '../data/preprocess.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { LogSink } from '../log.ts';
import type { Attributes } from '../search/attributes.ts';
import {
  compileFilter,
  type Filter,
  parseFilter,
  parseFilterParam,
  prepareFilter,
} from '../search/filter.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { Serving, ServingSet } from './servedSet.ts';

/** Default page size of `list`. */
export const DEFAULT_PAGE = 50;

export interface NewItemInput {
  /** Generated (`api-<uuid>`) when absent. */
  id?: string;
  title: string;
  category: string;
  attributes?: Attributes;
  /** The uploaded photo, any supported format. */
  image: Uint8Array;
}

export interface CatalogServiceDeps {
  store: AsyncCatalogStore;
  serving: Serving;
  items: ResidentCatalog;
  imageLimits: ImageLimits;
  log: LogSink;
}

export function itemNotFound(id: string): NotFoundError {
  return new NotFoundError(`no item with id '${id}'`, 'ITEM_NOT_FOUND');
}

export class CatalogService {
  readonly #store: AsyncCatalogStore;
  readonly #serving: Serving;
  readonly #items: ResidentCatalog;
  readonly #limits: ImageLimits;
  readonly #log: LogSink;
  readonly #writeListeners: (() => void)[] = [];

  constructor(deps: CatalogServiceDeps) {
    this.#store = deps.store;
    this.#serving = deps.serving;
    this.#items = deps.items;
    this.#limits = deps.imageLimits;
    this.#log = deps.log;
  }

  /** Calls `listener` after every committed write (e.g. to wake the other processes' change feeds). */
  onWrite(listener: () => void): void {
    this.#writeListeners.push(listener);
  }

  #written(): void {
    for (const listener of this.#writeListeners) listener();
  }

  /** The item, or 404 ITEM_NOT_FOUND. */
  get(id: string): CatalogItem {
    const item = this.#items.get(id);
    if (!item) throw itemNotFound(id);
    return item;
  }

  /**
   * A page of items by label ascending, optionally filtered (see
   * `resolveFilter`); the cursor is the last label seen, so pages stay stable
   * while items are added or deleted.
   */
  list(options: { filter?: Filter; limit?: number; cursor?: string }): ItemPage {
    const limit = options.limit ?? DEFAULT_PAGE;
    const after = options.cursor ? decodeCursor(options.cursor) : 0;
    const predicate = options.filter ? compileFilter(options.filter) : () => true;
    const items: CatalogItem[] = [];
    let more = false;
    for (const label of this.#items.labelsAfter(after)) {
      if (!predicate(this.#items.filterable(label)!)) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(this.#items.byLabel(label)!);
    }
    return { items, nextCursor: more ? encodeCursor(items[items.length - 1].label) : null };
  }

  /** The stored 28x28 PNG, or 404. */
  async image(id: string): Promise<Uint8Array> {
    const png = await this.#store.getImage(id);
    if (!png) throw itemNotFound(id);
    return png;
  }

  /**
   * One filter from a request's `filter` (an object, or JSON text from a
   * query parameter) and its legacy `category` parameter (the same as a
   * category `in` condition), with category names resolved to the catalog's
   * (case-insensitive; Fashion-MNIST label numbers accepted). Undefined for
   * "no filter". Throws 400 INVALID_FILTER or UNKNOWN_CATEGORY naming the path.
   */
  resolveFilter(filter: unknown, category?: readonly string[] | string): Filter | undefined {
    const parsed =
      filter === undefined
        ? undefined
        : typeof filter === 'string'
          ? parseFilterParam(filter)
          : parseFilter(filter);
    return prepareFilter(
      parsed,
      category,
      this.#items.categories().map((c) => c.category),
    );
  }

  /**
   * Adds an item, searchable at once: preprocessed and embedded with the
   * served model, stored with that embedding, and added to that model's index
   * inside the store's transaction. If a rebuild swapped models meanwhile it
   * embeds again, so the vector and the index always belong to one model;
   * a swap during the (PostgreSQL) write itself gets the new model's
   * embedding stored and indexed after it.
   */
  async add(input: NewItemInput): Promise<CatalogItem> {
    const id = input.id ?? `api-${randomUUID()}`;
    if (this.#items.get(id)) throw new ConflictError(`an item with id '${id}' exists`, 'ITEM_EXISTS');
    const gray = await preprocessImageToBytes(input.image, this.#limits);
    const png = await encodePng28(gray);
    const pixels = bytesToUnit(gray);
    let set: ServingSet;
    let vector: Float32Array;
    do {
      set = this.#serving.require();
      vector = await set.queue.embed(pixels);
    } while (this.#serving.current !== set);
    const item = await this.#store.addItem(
      {
        id,
        title: input.title,
        category: input.category,
        attributes: input.attributes,
        source: 'api',
        image: png,
      },
      {
        embedding: { modelVersion: set.modelVersion, vector },
        onCommitting: (added) => {
          set.index.add(added.label, vector, added.category);
          set.vectors.set(added.label, vector);
        },
      },
    );
    while (this.#serving.current && this.#serving.current !== set) {
      set = this.#serving.current;
      vector = await set.queue.embed(pixels);
      await this.#store.putEmbeddings(set.modelVersion, [{ label: item.label, vector }]);
      set.index.add(item.label, vector, item.category);
      set.vectors.set(item.label, vector);
    }
    this.#items.put(item);
    this.#written();
    this.#log.info({ item: item.id, label: item.label }, 'item added');
    return item;
  }

  /** Deletes an item: gone from the store, the served index and the resident catalog at once. */
  async delete(id: string): Promise<CatalogItem> {
    const deleted = await this.#store.deleteItem(id, {
      onCommitting: (item) => {
        // The set served at commit time: a swap during the write must not keep the item.
        const set = this.#serving.current;
        set?.index.remove(item.label);
        set?.vectors.delete(item.label);
      },
    });
    if (!deleted) throw itemNotFound(id);
    this.#items.remove(deleted.label);
    this.#written();
    this.#log.info({ item: deleted.id, label: deleted.label }, 'item deleted');
    return deleted;
  }

  /**
   * Changes an item's title, category or attributes without re-embedding it
   * (its image is unchanged); a new category moves it to that category's
   * graph in the served index within the same transaction.
   */
  async update(id: string, update: ItemUpdate): Promise<CatalogItem> {
    const before = this.#items.get(id);
    const updated = await this.#store.updateItem(id, update, {
      onCommitting: (item) => {
        const set = this.#serving.current;
        const vector = set?.vectors.get(item.label);
        if (set && vector && before && before.category !== item.category) {
          set.index.add(item.label, vector, item.category);
        }
      },
    });
    if (!updated) throw itemNotFound(id);
    this.#items.put(updated);
    this.#written();
    this.#log.info({ item: updated.id, label: updated.label }, 'item updated');
    return updated;
  }

  /**
   * The item's embedding for the served model: the served vectors, the store
   * (an item another process embedded), or its stored image embedded now
   * through the same decoder as catalog embedding.
   */
  async vectorOf(set: ServingSet, item: CatalogItem): Promise<Float32Array> {
    const served = set.vectors.get(item.label);
    if (served) return served;
    const stored = await this.#store.getEmbedding(set.modelVersion, item.label);
    if (stored) return stored;
    const png = await this.#store.getImage(item.id);
    if (!png) throw itemNotFound(item.id);
    return set.queue.embed(await decodeStoredImage(png, item.label));
  }
}
