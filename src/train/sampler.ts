import { createRng, randomInt, shuffleInPlace } from '../data/random.ts';

export type SamplerKind = 'pk' | 'random';

/** Yields the dataset indices of each batch of one epoch. */
export interface BatchSampler {
  readonly batchesPerEpoch: number;
  /** The batches of epoch `epoch`, a pure function of (seed, epoch): resuming mid-epoch replays it. */
  epoch(epoch: number): Iterable<Uint32Array>;
}

/** Mixes the run seed and the epoch into one 32-bit seed, so that every epoch has its own stream. */
export function epochSeed(seed: number, epoch: number, stream = 0): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [epoch, stream]) {
    h = Math.imul(h ^ v, 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** Shuffled passes over the data in batches of `batchSize`; the incomplete last batch is dropped. */
export function randomSampler(count: number, batchSize: number, seed: number): BatchSampler {
  if (batchSize < 1 || count < batchSize)
    throw new RangeError(`need at least one batch of ${batchSize} from ${count}`);
  const batchesPerEpoch = Math.floor(count / batchSize);
  return {
    batchesPerEpoch,
    *epoch(epoch) {
      const order = shuffleInPlace(
        Uint32Array.from({ length: count }, (_, i) => i),
        createRng(epochSeed(seed, epoch)),
      );
      for (let b = 0; b < batchesPerEpoch; b++) yield order.subarray(b * batchSize, (b + 1) * batchSize);
    },
  };
}

/**
 * Class-balanced batches: P distinct classes, K images of each, so every anchor has K-1 positives.
 * Each class is drawn without replacement from its own shuffled pool, reshuffled when used up; an
 * epoch has as many batches as the random sampler would (count / (P·K)).
 */
export function pkSampler(labels: Uint8Array, p: number, k: number, seed: number): BatchSampler {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  if (p < 1 || k < 1 || classes.length < p) {
    throw new RangeError(`P x K sampling needs at least P=${p} classes; the data has ${classes.length}`);
  }
  const batchSize = p * k;
  const batchesPerEpoch = Math.floor(labels.length / batchSize);
  if (batchesPerEpoch < 1)
    throw new RangeError(`need at least one batch of ${batchSize} from ${labels.length}`);
  return {
    batchesPerEpoch,
    *epoch(epoch) {
      const rng = createRng(epochSeed(seed, epoch));
      const pools = classes.map((c) => shuffleInPlace(Uint32Array.from(byClass.get(c) ?? []), rng));
      const cursor = new Array<number>(classes.length).fill(0);
      const classOrder = classes.map((_, i) => i);
      for (let b = 0; b < batchesPerEpoch; b++) {
        const batch = new Uint32Array(batchSize);
        // A partial Fisher–Yates picks P distinct classes.
        for (let i = 0; i < p; i++) {
          const j = i + randomInt(rng, classOrder.length - i);
          [classOrder[i], classOrder[j]] = [classOrder[j], classOrder[i]];
          const c = classOrder[i];
          const pool = pools[c];
          // A fresh pass when fewer than K are left, so a class block never repeats an image
          // (unless the class itself has fewer than K, which then repeats rather than fails).
          if (cursor[c] + k > pool.length) {
            shuffleInPlace(pool, rng);
            cursor[c] = 0;
          }
          for (let n = 0; n < k; n++) batch[i * k + n] = pool[cursor[c]++ % pool.length];
        }
        yield batch;
      }
    },
  };
}
