/**
 * Keeps the k smallest (distance, label) pairs seen, sorted ascending. An
 * insertion into a sorted array beats a heap for the k ≤ ~100 used here.
 */
export class TopK {
  readonly distances: number[] = [];
  readonly labels: number[] = [];

  constructor(readonly k: number) {}

  /** The distance a candidate must beat to enter (Infinity until full). */
  get bound(): number {
    return this.distances.length < this.k ? Number.POSITIVE_INFINITY : this.distances[this.k - 1];
  }

  push(distance: number, label: number): void {
    const d = this.distances;
    if (d.length >= this.k && !before(distance, label, d[d.length - 1], this.labels[d.length - 1])) return;
    let i = d.length < this.k ? d.length : d.length - 1;
    if (d.length < this.k) {
      d.push(distance);
      this.labels.push(label);
    }
    while (i > 0 && before(distance, label, d[i - 1], this.labels[i - 1])) {
      d[i] = d[i - 1];
      this.labels[i] = this.labels[i - 1];
      i--;
    }
    d[i] = distance;
    this.labels[i] = label;
  }
}

/** Ties broken by label so exact results are deterministic. */
function before(d1: number, l1: number, d2: number, l2: number): boolean {
  return d1 < d2 || (d1 === d2 && l1 < l2);
}

/**
 * Squared euclidean distance between `data[base .. base + q.length)` and `q`,
 * in float64, giving up (returning a value above `bound`) as soon as the
 * partial sum exceeds `bound`: most candidates of an exact scan lose early.
 */
export function squaredDistanceWithin(
  data: ArrayLike<number>,
  base: number,
  q: Float64Array,
  bound: number,
): number {
  let sum = 0;
  for (let j = 0; j < q.length && sum <= bound; j++) {
    const diff = data[base + j] - q[j];
    sum += diff * diff;
  }
  return sum;
}
