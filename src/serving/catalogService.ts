/**
 * The one place that writes an item: the store transaction, the served index
 * and vectors, and the resident catalog change in one step, so routes and CLIs
 * never keep those in line themselves. Also the lookups that need more than
 * one of them (an item's vector for the served model).
 */
import { randomUUID } from 'node:crypto';
import { decodeStoredImage } from '../catalog/embedCatalog.ts';
import type { CatalogItem, CatalogStore, ItemPage, ListItemsOptions } from '../catalog/store.ts';
import { bytesToUnit } from '../data/pixels.ts';
import { encodePng28, type ImageLimits, preprocessImageToBytes } from '../data/preprocess.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { LogSink } from '../log.ts';
import type { ResidentCatalog } from './residentCatalog.ts';
import type { Serving, ServingSet } from './servedSet.ts';

export interface NewItemInput {
  /** Generated (`api-<uuid>`) when absent. */
  id?: string;
  title: string;
  category: string;
  /** The uploaded photo, any supported format. */
  image: Uint8Array;
}

export interface CatalogServiceDeps {
  store: CatalogStore;
  serving: Serving;
  items: ResidentCatalog;
  imageLimits: ImageLimits;
  log: LogSink;
}

export function itemNotFound(id: string): NotFoundError {
  return new NotFoundError(`no item with id '${id}'`, 'ITEM_NOT_FOUND');
}

export class CatalogService {
  readonly #store: CatalogStore;
  readonly #serving: Serving;
  readonly #items: ResidentCatalog;
  readonly #limits: ImageLimits;
  readonly #log: LogSink;

  constructor(deps: CatalogServiceDeps) {
    this.#store = deps.store;
    this.#serving = deps.serving;
    this.#items = deps.items;
    this.#limits = deps.imageLimits;
    this.#log = deps.log;
  }

  /** The item, or 404 ITEM_NOT_FOUND. */
  get(id: string): CatalogItem {
    const item = this.#items.get(id);
    if (!item) throw itemNotFound(id);
    return item;
  }

  list(options: ListItemsOptions): ItemPage {
    if (options.category !== undefined) this.parseCategories(options.category);
    return this.#store.listItems(options);
  }

  /** The stored 28x28 PNG, or 404. */
  image(id: string): Uint8Array {
    const png = this.#store.getImage(id);
    if (!png) throw itemNotFound(id);
    return png;
  }

  /**
   * Splits comma-separated values, drops duplicates and checks every category
   * exists; returns undefined for "no filter". Throws 400 UNKNOWN_CATEGORY.
   */
  parseCategories(values: readonly string[] | string | undefined): string[] | undefined {
    if (values === undefined) return undefined;
    const list = (typeof values === 'string' ? [values] : values)
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
    if (list.length === 0) return undefined;
    const unknown = list.filter((c) => !this.#items.hasCategory(c));
    if (unknown.length > 0) {
      const known = this.#items.categories().map((c) => c.category);
      throw new ValidationError(
        `unknown categor${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((c) => `'${c}'`).join(', ')}; known: ${known.join(', ')}`,
        'UNKNOWN_CATEGORY',
      );
    }
    return [...new Set(list)];
  }

  /**
   * Adds an item, searchable at once: preprocessed and embedded with the
   * served model, stored with that embedding, and added to that model's index
   * inside the store's transaction. If a rebuild swapped models meanwhile it
   * embeds again, so the vector and the index always belong to one model.
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
    const item = this.#store.addItem(
      { id, title: input.title, category: input.category, source: 'api', image: png },
      {
        embedding: { modelVersion: set.modelVersion, vector },
        onCommitting: (added) => {
          set.index.add(added.label, vector, added.category);
          set.vectors.set(added.label, vector);
        },
      },
    );
    this.#items.put(item);
    this.#log.info({ item: item.id, label: item.label }, 'item added');
    return item;
  }

  /** Deletes an item: gone from the store, the served index and the resident catalog at once. */
  delete(id: string): CatalogItem {
    const set = this.#serving.current;
    const deleted = this.#store.deleteItem(id, {
      onCommitting: (item) => {
        set?.index.remove(item.label);
        set?.vectors.delete(item.label);
      },
    });
    if (!deleted) throw itemNotFound(id);
    this.#items.remove(deleted.label);
    this.#log.info({ item: deleted.id, label: deleted.label }, 'item deleted');
    return deleted;
  }

  /**
   * The item's embedding for the served model: the served vectors, the store
   * (an item another process embedded), or its stored image embedded now
   * through the same decoder as catalog embedding.
   */
  async vectorOf(set: ServingSet, item: CatalogItem): Promise<Float32Array> {
    const served = set.vectors.get(item.label);
    if (served) return served;
    const stored = this.#store.getEmbedding(set.modelVersion, item.label);
    if (stored) return stored;
    const png = this.#store.getImage(item.id);
    if (!png) throw itemNotFound(item.id);
    return set.queue.embed(await decodeStoredImage(png, item.label));
  }
}
