/**
 * A miner picks which (anchor, positive, negative) triplets of a batch the loss sees. It reads plain
 * numbers downloaded from the distance matrix and never tensors: tf.greater and friends have no
 * gradient in tfjs, so every comparison that selects triplets must stay off the gradient path. The
 * loss then gathers the selected distances from the differentiable matrix.
 */
export interface MiningInput {
  /** Batch size B. */
  n: number;
  /** B class labels. */
  labels: ArrayLike<number>;
  /** The loss's distance matrix, row-major B x B, exactly 0 on the diagonal. */
  distances: ArrayLike<number>;
  /** The embeddings, row-major B x dim, for miners that need more than the loss's distances. */
  embeddings: () => { values: ArrayLike<number>; dim: number };
  /** Uniform [0, 1) numbers for sampling miners; seeded by the caller so a run is reproducible. */
  rng: () => number;
}

/**
 * Triplets as parallel index arrays into the batch. A positive equal to its anchor stands for
 * "no positive": its distance is the diagonal's exact 0, which carries no gradient.
 */
export interface Triplets {
  anchor: Int32Array;
  positive: Int32Array;
  negative: Int32Array;
}

/** What a miner saw, for training metrics and logs: plain numbers, named per miner. */
export type MinerStats = Record<string, number>;

export interface MinerResult<S extends MinerStats = MinerStats> {
  triplets: Triplets;
  stats: S;
}

export type Miner<S extends MinerStats = MinerStats> = (input: MiningInput) => MinerResult<S>;

/** Growable triplet buffer: miners rarely know their count up front, and B x (K-1) is a guess. */
export class TripletBuffer {
  private a: Int32Array;
  private p: Int32Array;
  private n: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.a = new Int32Array(Math.max(capacity, 1));
    this.p = new Int32Array(this.a.length);
    this.n = new Int32Array(this.a.length);
  }

  push(anchor: number, positive: number, negative: number): void {
    if (this.length === this.a.length) {
      const grow = (old: Int32Array) => {
        const next = new Int32Array(old.length * 2);
        next.set(old);
        return next;
      };
      this.a = grow(this.a);
      this.p = grow(this.p);
      this.n = grow(this.n);
    }
    this.a[this.length] = anchor;
    this.p[this.length] = positive;
    this.n[this.length] = negative;
    this.length++;
  }

  triplets(): Triplets {
    return {
      anchor: this.a.subarray(0, this.length),
      positive: this.p.subarray(0, this.length),
      negative: this.n.subarray(0, this.length),
    };
  }
}

/**
 * For each anchor, the indices of its positives (same label, not itself) and its negatives, computed
 * once per batch since every miner starts from them.
 */
export function labelGroups(
  labels: ArrayLike<number>,
  n: number,
): { positives: number[][]; negatives: number[][] } {
  const positives: number[][] = [];
  const negatives: number[][] = [];
  for (let a = 0; a < n; a++) {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let j = 0; j < n; j++) {
      if (labels[j] !== labels[a]) neg.push(j);
      else if (j !== a) pos.push(j);
    }
    positives.push(pos);
    negatives.push(neg);
  }
  return { positives, negatives };
}
