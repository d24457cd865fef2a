/**
 * Every catalog item's presentation fields, resident in compact memory for the
 * query path: a search result needs 10+ items, and a read-through cache is
 * cold for most of a 70,000-item catalog (each SQLite lookup costs 10-15 µs).
 * Strings that repeat (category, source, split) are interned to small
 * integers, timestamps are float64 milliseconds, the rest are parallel arrays
 * indexed by a slot. Loaded once at start-up; this process's own writes go
 * through `CatalogService`, which updates it in the same step as the store.
 */
import type { AsyncCatalogStore } from '../catalog/asyncStore.ts';
import type { CatalogItem, CategoryCount } from '../catalog/store.ts';
import type { Attributes, AttributeValue } from '../search/attributes.ts';

const NO_SLOT = -1;
const NONE = 0;

/** Strings ↔ small integers; 0 stands for null. */
class Interner {
  readonly #ids = new Map<string, number>();
  readonly #values: (string | null)[] = [null];

  id(value: string | null): number {
    if (value === null) return NONE;
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.#values.length;
      this.#values.push(value);
      this.#ids.set(value, id);
    }
    return id;
  }

  value(id: number): string | null {
    return this.#values[id];
  }

  /** The one stored copy of an equal string (attribute values repeat: brands, colours, sizes). */
  same(value: string): string {
    return this.value(this.id(value))!;
  }
}

const EMPTY: Attributes = Object.freeze({});

/** What a search result shows of an item. */
export interface ItemSummary {
  id: string;
  title: string;
  category: string;
  /** Frozen: do not modify. */
  attributes: Attributes;
}

export class ResidentCatalog {
  readonly #strings = new Interner();
  readonly #slotOfId = new Map<string, number>();
  #slotOfLabel = new Int32Array(1024).fill(NO_SLOT);
  #labels = new Int32Array(1024);
  #ids: string[] = [];
  #titles: string[] = [];
  #category = new Uint32Array(1024);
  #source = new Uint32Array(1024);
  #split = new Uint32Array(1024);
  #created = new Float64Array(1024);
  #updated = new Float64Array(1024);
  /** Folder imports only: sparse. */
  readonly #originalPath = new Map<number, string>();
  /** Frozen, with interned strings; EMPTY for items without attributes. */
  #attributes: Attributes[] = [];
  readonly #categoryCounts = new Map<string, number>();
  readonly #free: number[] = [];
  #used = 0;
  #version = 0;

  /** Reads every item of the store (paged, see `AsyncCatalogStore.itemPages`). */
  static async load(store: AsyncCatalogStore): Promise<ResidentCatalog> {
    const catalog = new ResidentCatalog();
    await catalog.reload(store);
    return catalog;
  }

  /** Replaces the contents with the store's items (after a bulk import by this process). */
  async reload(store: AsyncCatalogStore): Promise<void> {
    for (const label of [...this.#slotOfId.values()].map((slot) => this.#labels[slot])) this.remove(label);
    this.#free.length = 0;
    this.#used = 0;
    for await (const page of store.itemPages()) for (const item of page) this.put(item);
  }

  get size(): number {
    return this.#slotOfId.size;
  }

  /** Changes with every put and remove: what was derived from the items (a filter's matches) is stale. */
  get version(): number {
    return this.#version;
  }

  get(id: string): CatalogItem | null {
    const slot = this.#slotOfId.get(id);
    return slot === undefined ? null : this.#item(slot);
  }

  byLabel(label: number): CatalogItem | null {
    const slot = this.#slotByLabel(label);
    return slot === NO_SLOT ? null : this.#item(slot);
  }

  /** The label of an id, or undefined. */
  labelOf(id: string): number | undefined {
    const slot = this.#slotOfId.get(id);
    return slot === undefined ? undefined : this.#labels[slot];
  }

  /** The fields a search result shows, without building the whole item; null when the label is gone. */
  summary(label: number): ItemSummary | null {
    const slot = this.#slotByLabel(label);
    if (slot === NO_SLOT) return null;
    return {
      id: this.#ids[slot],
      title: this.#titles[slot],
      category: this.#strings.value(this.#category[slot])!,
      attributes: this.#attributes[slot],
    };
  }

  /** What a filter looks at: category and attributes (frozen: do not modify); null when the label is gone. */
  filterable(label: number): { category: string; attributes: Attributes } | null {
    const slot = this.#slotByLabel(label);
    if (slot === NO_SLOT) return null;
    return { category: this.#strings.value(this.#category[slot])!, attributes: this.#attributes[slot] };
  }

  /** Every live label, ascending. */
  labels(): number[] {
    return [...this.labelsAfter(-1)];
  }

  /** Live labels greater than `after`, ascending. */
  *labelsAfter(after: number): IterableIterator<number> {
    for (let label = Math.max(0, after + 1); label < this.#slotOfLabel.length; label++) {
      if (this.#slotOfLabel[label] !== NO_SLOT) yield label;
    }
  }

  categoryOf(label: number): string | null {
    const slot = this.#slotByLabel(label);
    return slot === NO_SLOT ? null : this.#strings.value(this.#category[slot]);
  }

  /** Categories with item counts, sorted by name (as the store's `categories()`). */
  categories(): CategoryCount[] {
    return [...this.#categoryCounts]
      .map(([category, count]) => ({ category, count }))
      .sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  }

  hasCategory(category: string): boolean {
    return this.#categoryCounts.has(category);
  }

  /** Adds or replaces an item (matched by label). */
  put(item: CatalogItem): void {
    this.#version++;
    let slot = this.#slotByLabel(item.label);
    if (slot !== NO_SLOT) {
      this.#count(this.#strings.value(this.#category[slot])!, -1);
      this.#slotOfId.delete(this.#ids[slot]);
    } else {
      slot = this.#free.pop() ?? this.#used++;
      this.#ensureSlots(slot + 1);
      if (item.label >= this.#slotOfLabel.length) {
        const grown = new Int32Array(Math.max(item.label + 1, this.#slotOfLabel.length * 2)).fill(NO_SLOT);
        grown.set(this.#slotOfLabel);
        this.#slotOfLabel = grown;
      }
      this.#slotOfLabel[item.label] = slot;
    }
    this.#slotOfId.set(item.id, slot);
    this.#labels[slot] = item.label;
    this.#ids[slot] = item.id;
    this.#titles[slot] = item.title;
    this.#category[slot] = this.#strings.id(item.category);
    this.#source[slot] = this.#strings.id(item.source);
    this.#split[slot] = this.#strings.id(item.split);
    this.#created[slot] = Date.parse(item.createdAt);
    this.#updated[slot] = Date.parse(item.updatedAt);
    if (item.originalPath === null) this.#originalPath.delete(slot);
    else this.#originalPath.set(slot, item.originalPath);
    this.#attributes[slot] = this.#compact(item.attributes);
    this.#count(item.category, 1);
  }

  remove(label: number): boolean {
    const slot = this.#slotByLabel(label);
    if (slot === NO_SLOT) return false;
    this.#version++;
    this.#count(this.#strings.value(this.#category[slot])!, -1);
    this.#slotOfId.delete(this.#ids[slot]);
    this.#slotOfLabel[label] = NO_SLOT;
    this.#ids[slot] = '';
    this.#titles[slot] = '';
    this.#originalPath.delete(slot);
    this.#attributes[slot] = EMPTY;
    this.#free.push(slot);
    return true;
  }

  #slotByLabel(label: number): number {
    return label >= 0 && label < this.#slotOfLabel.length ? this.#slotOfLabel[label] : NO_SLOT;
  }

  #item(slot: number): CatalogItem {
    return {
      label: this.#labels[slot],
      id: this.#ids[slot],
      title: this.#titles[slot],
      category: this.#strings.value(this.#category[slot])!,
      source: this.#strings.value(this.#source[slot])!,
      split: this.#strings.value(this.#split[slot]),
      originalPath: this.#originalPath.get(slot) ?? null,
      attributes: this.#attributes[slot],
      createdAt: new Date(this.#created[slot]).toISOString(),
      updatedAt: new Date(this.#updated[slot]).toISOString(),
    };
  }

  #compact(attributes: Attributes): Attributes {
    const keys = Object.keys(attributes);
    if (keys.length === 0) return EMPTY;
    const out: Record<string, AttributeValue> = {};
    for (const key of keys) {
      const v = attributes[key];
      out[this.#strings.same(key)] =
        typeof v === 'string'
          ? this.#strings.same(v)
          : Array.isArray(v)
            ? (Object.freeze(v.map((s) => this.#strings.same(s))) as string[])
            : v;
    }
    return Object.freeze(out);
  }

  #count(category: string, delta: number): void {
    const n = (this.#categoryCounts.get(category) ?? 0) + delta;
    if (n > 0) this.#categoryCounts.set(category, n);
    else this.#categoryCounts.delete(category);
  }

  #ensureSlots(count: number): void {
    if (count <= this.#labels.length) return;
    const size = Math.max(count, this.#labels.length * 2);
    const grow = <T extends Int32Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.#labels = grow(this.#labels, (n) => new Int32Array(n));
    this.#category = grow(this.#category, (n) => new Uint32Array(n));
    this.#source = grow(this.#source, (n) => new Uint32Array(n));
    this.#split = grow(this.#split, (n) => new Uint32Array(n));
    this.#created = grow(this.#created, (n) => new Float64Array(n));
    this.#updated = grow(this.#updated, (n) => new Float64Array(n));
  }
}
