/**
 * Plain float64 references for the loss tests: nested loops over pairs and triplets, written for
 * reading rather than speed, plus small helpers shared by the losses test files.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DistanceName, MiningInput } from '../../src/model/losses.ts';

export type Emb = number[][];
export type Triplet = [number, number, number];

export function dist(a: number[], b: number[], kind: DistanceName = 'euclidean'): number {
  if (kind === 'cosine') {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return 1 - dot / Math.sqrt(na * nb);
  }
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return kind === 'squared' ? s : Math.sqrt(s);
}

/** ∂dist(x, y)/∂x (euclidean or squared); ∂/∂y is its negative. */
export function distGradient(x: number[], y: number[], kind: DistanceName): number[] {
  const d = dist(x, y, 'euclidean');
  return x.map((v, i) => (kind === 'squared' ? 2 * (v - y[i]) : d > 0 ? (v - y[i]) / d : 0));
}

export function distanceTable(e: Emb, kind: DistanceName = 'euclidean'): number[][] {
  return e.map((a, i) => e.map((b, j) => (i === j ? 0 : dist(a, b, kind))));
}

export const flat = (m: number[][]): number[] => m.flat();

/** Every valid triplet, in (anchor, positive, negative) index order. */
export function validTriplets(labels: number[]): Triplet[] {
  const out: Triplet[] = [];
  for (let a = 0; a < labels.length; a++)
    for (let p = 0; p < labels.length; p++)
      for (let n = 0; n < labels.length; n++)
        if (a !== p && labels[a] === labels[p] && labels[a] !== labels[n]) out.push([a, p, n]);
  return out;
}

/** Batch-all: mean of the positive hinges; fraction of valid triplets with one. */
export function naiveBatchAll(labels: number[], e: Emb, margin: number, kind: DistanceName = 'euclidean') {
  let sum = 0;
  let positive = 0;
  const triplets = validTriplets(labels);
  for (const [a, p, n] of triplets) {
    const h = dist(e[a], e[p], kind) - dist(e[a], e[n], kind) + margin;
    if (h > 1e-16) {
      positive++;
      sum += h;
    }
  }
  return { loss: positive > 0 ? sum / positive : 0, fraction: positive / triplets.length };
}

/** Per anchor: farthest positive (0 if none) and closest negative. */
export function hardest(labels: number[], e: Emb, a: number, kind: DistanceName = 'euclidean') {
  let hp = 0;
  let hn = Number.POSITIVE_INFINITY;
  for (let j = 0; j < e.length; j++) {
    const d = dist(e[a], e[j], kind);
    if (j !== a && labels[j] === labels[a]) hp = Math.max(hp, d);
    if (labels[j] !== labels[a]) hn = Math.min(hn, d);
  }
  return { hp, hn };
}

/** Batch-hard over all B anchors, as the loss was defined before it was split into parts. */
export function naiveBatchHard(
  labels: number[],
  e: Emb,
  margin: number,
  kind: DistanceName = 'euclidean',
  soft = false,
) {
  let sum = 0;
  for (let a = 0; a < e.length; a++) {
    const { hp, hn } = hardest(labels, e, a, kind);
    sum += soft ? Math.log(1 + Math.exp(hp - hn)) : Math.max(hp - hn + margin, 0);
  }
  return sum / e.length;
}

/** FaceNet semi-hard: per positive pair, the closest negative beyond p, else the farthest. */
export function naiveSemiHard(labels: number[], e: Emb, margin: number, kind: DistanceName = 'euclidean') {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < e.length; a++)
    for (let p = 0; p < e.length; p++) {
      if (a === p || labels[a] !== labels[p]) continue;
      pairs++;
      const dap = dist(e[a], e[p], kind);
      let beyond = Number.POSITIVE_INFINITY;
      let farthest = 0;
      for (let n = 0; n < e.length; n++) {
        if (labels[n] === labels[a]) continue;
        const dan = dist(e[a], e[n], kind);
        if (dan > dap) beyond = Math.min(beyond, dan);
        farthest = Math.max(farthest, dan);
      }
      sum += Math.max(dap - (Number.isFinite(beyond) ? beyond : farthest) + margin, 0);
    }
  return sum / pairs;
}

/**
 * ∂loss/∂embedding of a loss Σ_t w_t (d(a_t,p_t) − d(a_t,n_t)) over the given weighted triplets,
 * by the chain rule written out per triplet.
 */
export function naiveTripletGradient(e: Emb, terms: { t: Triplet; w: number }[], kind: DistanceName): Emb {
  const g = e.map((row) => row.map(() => 0));
  const add = (i: number, j: number, w: number) => {
    const dd = distGradient(e[i], e[j], kind);
    for (let k = 0; k < dd.length; k++) {
      g[i][k] += w * dd[k];
      g[j][k] -= w * dd[k];
    }
  };
  for (const { t, w } of terms) {
    if (t[0] !== t[1]) add(t[0], t[1], w);
    add(t[0], t[2], -w);
  }
  return g;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomCase(seed: number, n: number, dim: number, classes: number) {
  const r = rng(seed);
  const labels = Array.from({ length: n }, () => Math.floor(r() * classes));
  const emb = Array.from({ length: n }, () => Array.from({ length: dim }, () => r() * 2 - 1));
  return { labels, emb };
}

/** A miner's input from plain arrays, with the distances of `kind` (float64, exact zero diagonal). */
export function miningInput(
  labels: number[],
  e: Emb,
  kind: DistanceName = 'euclidean',
  seed = 1,
): MiningInput {
  return {
    n: labels.length,
    labels,
    distances: flat(distanceTable(e, kind)),
    embeddings: () => ({ values: e.flat(), dim: e[0].length }),
    rng: rng(seed),
  };
}

/** A miner's triplets as [a, p, n] lists, for toEqual. */
export function tripletList(t: {
  anchor: Int32Array;
  positive: Int32Array;
  negative: Int32Array;
}): Triplet[] {
  return Array.from(t.anchor, (a, i) => [a, t.positive[i], t.negative[i]]);
}

export function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

export function withTensors<T>(labels: number[], emb: Emb, fn: (l: tf.Tensor1D, e: tf.Tensor2D) => T): T {
  const l = tf.tensor1d(labels, 'int32');
  const e = tf.tensor2d(emb);
  try {
    return fn(l, e);
  } finally {
    l.dispose();
    e.dispose();
  }
}

/** Central finite differences of a float64 function of the embedding. */
export function numericGradient(f: (e: Emb) => number, emb: Emb, eps = 1e-6): Emb {
  return emb.map((row, i) =>
    row.map((_, j) => {
      const plus = emb.map((r) => [...r]);
      const minus = emb.map((r) => [...r]);
      plus[i][j] += eps;
      minus[i][j] -= eps;
      return (f(plus) - f(minus)) / (2 * eps);
    }),
  );
}

export function maxAbsDiff(a: Emb, b: Emb): number {
  let m = 0;
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
  return m;
}
