import { writeFileSync } from 'node:fs';
import { categorySet, checkDimension, checkLabel, checkQuery } from './checks.ts';
import { squaredDistanceWithin, TopK } from './topK.ts';
import type { SearchFilter, SearchHit, Vector, VectorIndex } from './vectorIndex.ts';

/**
 * Brute-force exact search: the oracle for recall measurements and tests, and
 * good enough for tiny catalogs. Distances are computed in float64 by
 * subtracting then squaring (not |a|²+|b|²-2a·b, which cancels badly in
 * float32 for near neighbours).
 */
export class ExactIndex implements VectorIndex {
  private data: Float32Array;
  private slotLabels: number[] = [];
  private slotCategories: string[] = [];
  private readonly slotOf = new Map<number, number>();

  constructor(
    readonly dim: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(Math.max(1, capacity) * dim);
  }

  get size(): number {
    return this.slotLabels.length;
  }

  add(label: number, vector: Vector, category: string): void {
    checkLabel(label);
    checkDimension(vector, this.dim);
    let slot = this.slotOf.get(label);
    if (slot === undefined) {
      slot = this.slotLabels.length;
      if ((slot + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.slotOf.set(label, slot);
      this.slotLabels.push(label);
      this.slotCategories.push(category);
    } else {
      this.slotCategories[slot] = category;
    }
    this.data.set(vector, slot * this.dim);
  }

  remove(label: number): boolean {
    const slot = this.slotOf.get(label);
    if (slot === undefined) return false;
    // Move the last slot into the hole so the data stays contiguous.
    const last = this.slotLabels.length - 1;
    if (slot !== last) {
      this.data.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
      this.slotLabels[slot] = this.slotLabels[last];
      this.slotCategories[slot] = this.slotCategories[last];
      this.slotOf.set(this.slotLabels[slot], slot);
    }
    this.slotLabels.pop();
    this.slotCategories.pop();
    this.slotOf.delete(label);
    return true;
  }

  has(label: number): boolean {
    return this.slotOf.has(label);
  }

  labels(): number[] {
    return this.slotLabels.slice();
  }

  search(vector: Vector, k: number, filter?: SearchFilter): SearchHit[] {
    checkQuery(vector, this.dim, k);
    const allowed = categorySet(filter?.categories);
    const dim = this.dim;
    const data = this.data;
    const q = Float64Array.from(vector);
    const top = new TopK(k);
    for (let s = 0; s < this.slotLabels.length; s++) {
      if (allowed && !allowed.has(this.slotCategories[s])) continue;
      if (filter?.allow && !filter.allow(this.slotLabels[s])) continue;
      const bound = top.bound;
      const sum = squaredDistanceWithin(data, s * dim, q, bound);
      if (sum <= bound) top.push(sum, this.slotLabels[s]);
    }
    return top.labels.map((label, i) => ({ label, distance: Math.sqrt(top.distances[i]) }));
  }

  /** JSON lines of `{label, category, vector}`: only for debugging and tests; serving uses HNSW files. */
  save(path: string): void {
    const lines = this.slotLabels.map((label, s) =>
      JSON.stringify({
        label,
        category: this.slotCategories[s],
        vector: Array.from(this.data.subarray(s * this.dim, (s + 1) * this.dim)),
      }),
    );
    writeFileSync(path, lines.join('\n'));
  }
}
