/**
 * The exact float32 vectors of the items an index serves, by label, in one
 * contiguous buffer: "more like this item" reads its query vector from here
 * (no SQLite read, no copy out of hnswlib), and 70,000 x 64 floats cost 18 MB
 * instead of 70,000 small arrays and map entries.
 */
import { ValidationError } from '../errors.ts';

const NO_SLOT = -1;

export class VectorTable {
  readonly dim: number;
  #data: Float32Array;
  /** Slot of each label (labels are small dense integers), NO_SLOT when absent. */
  #slotOfLabel: Int32Array;
  #labelOfSlot: Int32Array;
  #used = 0;
  #free: number[] = [];

  constructor(dim: number, capacity = 1024) {
    this.dim = dim;
    this.#data = new Float32Array(Math.max(1, capacity) * dim);
    this.#labelOfSlot = new Int32Array(Math.max(1, capacity)).fill(NO_SLOT);
    this.#slotOfLabel = new Int32Array(Math.max(1, capacity)).fill(NO_SLOT);
  }

  /** A table holding `labels[i]`'s vector at rows[i * dim ...]; adopts `rows` without copying. */
  static of(dim: number, labels: ArrayLike<number>, rows: Float32Array): VectorTable {
    if (rows.length !== labels.length * dim) {
      throw new ValidationError(`${rows.length} floats for ${labels.length} vectors of ${dim}`);
    }
    const table = new VectorTable(dim, 1);
    table.#data = rows.length > 0 ? rows : new Float32Array(dim);
    table.#labelOfSlot = new Int32Array(Math.max(1, labels.length)).fill(NO_SLOT);
    let maxLabel = 0;
    for (let i = 0; i < labels.length; i++) maxLabel = Math.max(maxLabel, labels[i]);
    table.#slotOfLabel = new Int32Array(maxLabel + 1).fill(NO_SLOT);
    for (let i = 0; i < labels.length; i++) {
      if (table.#slotOfLabel[labels[i]] !== NO_SLOT) throw new ValidationError(`label ${labels[i]} twice`);
      table.#slotOfLabel[labels[i]] = i;
      table.#labelOfSlot[i] = labels[i];
    }
    table.#used = labels.length;
    return table;
  }

  get size(): number {
    return this.#used - this.#free.length;
  }

  /** A view of the stored vector (do not modify it), or null. */
  get(label: number): Float32Array | null {
    const slot = label >= 0 && label < this.#slotOfLabel.length ? this.#slotOfLabel[label] : NO_SLOT;
    if (slot === NO_SLOT) return null;
    return this.#data.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  has(label: number): boolean {
    return this.get(label) !== null;
  }

  /** Stores (a copy of) the vector, replacing any previous one. */
  set(label: number, vector: ArrayLike<number>): void {
    if (!Number.isInteger(label) || label < 0) throw new ValidationError(`invalid label ${label}`);
    if (vector.length !== this.dim) {
      throw new ValidationError(`vector has ${vector.length} values, the table holds ${this.dim}`);
    }
    if (label >= this.#slotOfLabel.length) this.#slotOfLabel = grow(this.#slotOfLabel, label + 1);
    let slot = this.#slotOfLabel[label];
    if (slot === NO_SLOT) {
      slot = this.#free.pop() ?? this.#used++;
      if (slot >= this.#labelOfSlot.length) {
        this.#labelOfSlot = grow(this.#labelOfSlot, slot + 1);
        const data = new Float32Array(this.#labelOfSlot.length * this.dim);
        data.set(this.#data);
        this.#data = data;
      }
      this.#slotOfLabel[label] = slot;
      this.#labelOfSlot[slot] = label;
    }
    this.#data.set(vector, slot * this.dim);
  }

  delete(label: number): boolean {
    const slot = label >= 0 && label < this.#slotOfLabel.length ? this.#slotOfLabel[label] : NO_SLOT;
    if (slot === NO_SLOT) return false;
    this.#slotOfLabel[label] = NO_SLOT;
    this.#labelOfSlot[slot] = NO_SLOT;
    this.#free.push(slot);
    return true;
  }
}

/** Grows geometrically so that adding one label at a time stays amortised O(1). */
function grow(array: Int32Array, atLeast: number): Int32Array {
  const grown = new Int32Array(Math.max(atLeast, Math.ceil(array.length * 1.5) + 16)).fill(NO_SLOT);
  grown.set(array);
  return grown;
}
