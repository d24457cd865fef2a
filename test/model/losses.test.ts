import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchAllTripletLoss,
  batchHardTripletLoss,
  batchSemiHardTripletLoss,
  pairwiseDistances,
  softmaxCrossEntropy,
} from '../../src/model/losses.ts';
import { embeddingMetrics } from '../../src/model/trainMetrics.ts';

type Emb = number[][];

// ---- naive float64 references: plain loops over pairs and triplets ----
function dist(a: number[], b: number[], squared: boolean): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return squared ? s : Math.sqrt(s);
}

function naiveBatchAll(labels: number[], e: Emb, margin: number, squared: boolean) {
  let sum = 0;
  let positive = 0;
  let valid = 0;
  for (let a = 0; a < e.length; a++)
    for (let p = 0; p < e.length; p++)
      for (let n = 0; n < e.length; n++) {
        if (a === p || labels[a] !== labels[p] || labels[a] === labels[n]) continue;
        valid++;
        const h = Math.max(dist(e[a], e[p], squared) - dist(e[a], e[n], squared) + margin, 0);
        if (h > 1e-16) positive++;
        sum += h;
      }
  return { loss: sum / (positive + 1e-16), fraction: positive / valid };
}

function hardest(labels: number[], e: Emb, a: number, squared: boolean) {
  let hp = 0;
  let hn = Number.POSITIVE_INFINITY;
  for (let j = 0; j < e.length; j++) {
    const d = dist(e[a], e[j], squared);
    if (j !== a && labels[j] === labels[a]) hp = Math.max(hp, d);
    if (labels[j] !== labels[a]) hn = Math.min(hn, d);
  }
  return { hp, hn };
}

function naiveBatchHard(labels: number[], e: Emb, margin: number, squared: boolean, soft = false): number {
  let sum = 0;
  for (let a = 0; a < e.length; a++) {
    const { hp, hn } = hardest(labels, e, a, squared);
    sum += soft ? Math.log(1 + Math.exp(hp - hn)) : Math.max(hp - hn + margin, 0);
  }
  return sum / e.length;
}

function naiveSemiHard(labels: number[], e: Emb, margin: number, squared: boolean): number {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < e.length; a++)
    for (let p = 0; p < e.length; p++) {
      if (a === p || labels[a] !== labels[p]) continue;
      pairs++;
      const dap = dist(e[a], e[p], squared);
      let beyond = Number.POSITIVE_INFINITY;
      let farthest = 0;
      for (let n = 0; n < e.length; n++) {
        if (labels[n] === labels[a]) continue;
        const dan = dist(e[a], e[n], squared);
        if (dan > dap) beyond = Math.min(beyond, dan);
        farthest = Math.max(farthest, dan);
      }
      const neg = Number.isFinite(beyond) ? beyond : farthest;
      sum += Math.max(dap - neg + margin, 0);
    }
  return sum / pairs;
}

function naiveSoftmaxCE(labels: number[], logits: Emb): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const m = Math.max(...logits[i]);
    const lse = m + Math.log(logits[i].reduce((s, v) => s + Math.exp(v - m), 0));
    sum += lse - logits[i][labels[i]];
  }
  return sum / logits.length;
}

function naiveMetrics(labels: number[], e: Emb, margin: number) {
  const n = e.length;
  let norm = 0;
  let dsum = 0;
  let hpSum = 0;
  let hpCount = 0;
  let hnSum = 0;
  let hnCount = 0;
  for (let a = 0; a < n; a++) {
    norm += Math.sqrt(e[a].reduce((s, v) => s + v * v, 0));
    for (let j = 0; j < n; j++) if (j !== a) dsum += dist(e[a], e[j], false);
    const { hp, hn } = hardest(labels, e, a, false);
    if (labels.some((l, j) => j !== a && l === labels[a])) {
      hpSum += hp;
      hpCount++;
    }
    if (Number.isFinite(hn)) {
      hnSum += hn;
      hnCount++;
    }
  }
  return {
    fractionPositive: naiveBatchAll(labels, e, margin, false).fraction,
    meanNorm: norm / n,
    meanDistance: dsum / (n * (n - 1)),
    meanHardestPositive: hpSum / hpCount,
    meanHardestNegative: hnSum / hnCount,
  };
}

// ---- helpers ----
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCase(seed: number, n: number, dim: number, classes: number) {
  const r = rng(seed);
  const labels = Array.from({ length: n }, () => Math.floor(r() * classes));
  const emb = Array.from({ length: n }, () => Array.from({ length: dim }, () => r() * 2 - 1));
  return { labels, emb };
}

function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

const withTensors = <T>(labels: number[], emb: Emb, fn: (l: tf.Tensor1D, e: tf.Tensor2D) => T): T => {
  const l = tf.tensor1d(labels, 'int32');
  const e = tf.tensor2d(emb);
  try {
    return fn(l, e);
  } finally {
    l.dispose();
    e.dispose();
  }
};

/** Central finite differences of a float64 function of the embedding. */
function numericGradient(f: (e: Emb) => number, emb: Emb, eps = 1e-6): Emb {
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

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pairwiseDistances', () => {
  it('matches the naive distance and is exactly 0 on the diagonal', () => {
    const { emb } = randomCase(1, 10, 6, 3);
    for (const squared of [false, true]) {
      const d = withTensors([0], emb, (_l, e) => pairwiseDistances(e, squared).arraySync());
      for (let i = 0; i < emb.length; i++) {
        expect(d[i][i]).toBe(0);
        for (let j = 0; j < emb.length; j++) expect(d[i][j]).toBeCloseTo(dist(emb[i], emb[j], squared), 5);
      }
    }
  });

  it('has a finite gradient when embeddings coincide', () => {
    const g = tf.grad((e: tf.Tensor) => tf.sum(pairwiseDistances(e as tf.Tensor2D)))(tf.ones([3, 2]));
    expect([...g.dataSync()].every(Number.isFinite)).toBe(true);
  });
});

describe('triplet losses vs naive loops on random embeddings', () => {
  for (const squared of [false, true]) {
    for (const seed of [3, 4, 5]) {
      const { labels, emb } = randomCase(seed, 16, 8, 4);
      it(`batch-all (squared=${squared}, seed ${seed})`, () => {
        const ref = naiveBatchAll(labels, emb, 0.5, squared);
        const out = withTensors(labels, emb, (l, e) => batchAllTripletLoss(l, e, { squared }));
        expect(Math.abs(scalar(out.loss) - ref.loss)).toBeLessThan(1e-5);
        expect(Math.abs(scalar(out.fractionPositive) - ref.fraction)).toBeLessThan(1e-5);
      });
      it(`batch-hard (squared=${squared}, seed ${seed})`, () => {
        const ref = naiveBatchHard(labels, emb, 0.5, squared);
        const out = withTensors(labels, emb, (l, e) => batchHardTripletLoss(l, e, { squared }));
        expect(Math.abs(scalar(out) - ref)).toBeLessThan(1e-5);
      });
      it(`batch-hard soft margin (squared=${squared}, seed ${seed})`, () => {
        const ref = naiveBatchHard(labels, emb, 0.5, squared, true);
        const out = withTensors(labels, emb, (l, e) =>
          batchHardTripletLoss(l, e, { squared, softMargin: true }),
        );
        expect(Math.abs(scalar(out) - ref)).toBeLessThan(1e-5);
      });
      it(`semi-hard (squared=${squared}, seed ${seed})`, () => {
        const ref = naiveSemiHard(labels, emb, 0.5, squared);
        const out = withTensors(labels, emb, (l, e) => batchSemiHardTripletLoss(l, e, { squared }));
        expect(Math.abs(scalar(out) - ref)).toBeLessThan(1e-5);
      });
    }
  }

  it('uses the margin option', () => {
    const { labels, emb } = randomCase(9, 12, 4, 3);
    const out = withTensors(labels, emb, (l, e) => batchHardTripletLoss(l, e, { margin: 1.3 }));
    expect(Math.abs(scalar(out) - naiveBatchHard(labels, emb, 1.3, false))).toBeLessThan(1e-5);
  });

  it('softmax cross-entropy', () => {
    const { labels, emb } = randomCase(11, 20, 10, 10);
    const logits = emb.map((r) => r.map((v) => v * 4));
    const out = withTensors(labels, logits, (l, e) => softmaxCrossEntropy(l, e));
    expect(Math.abs(scalar(out) - naiveSoftmaxCE(labels, logits))).toBeLessThan(1e-5);
  });
});

describe('hand-computed tiny cases', () => {
  // 1-D embeddings 0, 2 (class 0) and 1 (class 1): d01 = 2, d02 = 1, d12 = 1.
  const labels = [0, 0, 1];
  const emb = [[0], [2], [1]];
  it('batch-all: both triplets have hinge 2 - 1 + 0.5 = 1.5', () => {
    const out = withTensors(labels, emb, (l, e) => batchAllTripletLoss(l, e));
    expect(scalar(out.loss)).toBeCloseTo(1.5, 6);
    expect(scalar(out.fractionPositive)).toBeCloseTo(1, 6);
  });
  it('batch-hard: anchors 0 and 1 give 1.5, anchor 2 (no positive) gives 0 → mean 1', () => {
    expect(scalar(withTensors(labels, emb, (l, e) => batchHardTripletLoss(l, e)))).toBeCloseTo(1, 6);
  });
  it('batch-hard soft margin: (2·ln(1 + e^(2-1)) + ln(1 + e^(0-1))) / 3, no margin', () => {
    const expected = (2 * Math.log(1 + Math.E) + Math.log(1 + Math.exp(-1))) / 3;
    for (const margin of [0.5, 2]) {
      const out = withTensors(labels, emb, (l, e) =>
        batchHardTripletLoss(l, e, { margin, softMargin: true }),
      );
      expect(scalar(out)).toBeCloseTo(expected, 6);
    }
  });
  it('squared distances: 4 - 1 + 0.5 = 3.5', () => {
    const out = withTensors(labels, emb, (l, e) => batchAllTripletLoss(l, e, { squared: true }));
    expect(scalar(out.loss)).toBeCloseTo(3.5, 5);
    expect(
      scalar(withTensors(labels, emb, (l, e) => batchHardTripletLoss(l, e, { squared: true }))),
    ).toBeCloseTo(7 / 3, 5);
  });
  it('well-separated classes have zero loss and no positive triplets', () => {
    const out = withTensors([0, 0, 1, 1], [[0], [0.1], [5], [5.2]], (l, e) => batchAllTripletLoss(l, e));
    expect(scalar(out.loss)).toBe(0);
    expect(scalar(out.fractionPositive)).toBe(0);
  });
  it('softmax cross-entropy of equal logits is ln(C)', () => {
    expect(
      scalar(
        withTensors(
          [0, 1],
          [
            [0, 0, 0],
            [1, 1, 1],
          ],
          (l, e) => softmaxCrossEntropy(l, e),
        ),
      ),
    ).toBeCloseTo(Math.log(3), 6);
  });
});

describe('gradients vs finite differences (float64 naive loss)', () => {
  const { labels, emb } = randomCase(21, 6, 3, 2);
  const cases: [string, (l: tf.Tensor1D, e: tf.Tensor2D) => tf.Scalar, (e: Emb) => number][] = [
    ['batch-all', (l, e) => batchAllTripletLoss(l, e).loss, (e) => naiveBatchAll(labels, e, 0.5, false).loss],
    ['batch-hard', (l, e) => batchHardTripletLoss(l, e), (e) => naiveBatchHard(labels, e, 0.5, false)],
    [
      'batch-hard squared',
      (l, e) => batchHardTripletLoss(l, e, { squared: true }),
      (e) => naiveBatchHard(labels, e, 0.5, true),
    ],
    [
      'batch-hard soft margin',
      (l, e) => batchHardTripletLoss(l, e, { softMargin: true }),
      (e) => naiveBatchHard(labels, e, 0.5, false, true),
    ],
    ['semi-hard', (l, e) => batchSemiHardTripletLoss(l, e), (e) => naiveSemiHard(labels, e, 0.5, false)],
    ['softmax', (l, e) => softmaxCrossEntropy(l, e), (e) => naiveSoftmaxCE(labels, e)],
  ];
  for (const [name, lossFn, naive] of cases) {
    it(name, () => {
      const analytic = withTensors(labels, emb, (l, e) =>
        tf
          .grad((x: tf.Tensor) => lossFn(l, x as tf.Tensor2D))(e)
          .arraySync(),
      ) as Emb;
      const numeric = numericGradient(naive, emb);
      const scale = Math.max(...numeric.flat().map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < emb.length; i++)
        for (let j = 0; j < emb[0].length; j++)
          expect(Math.abs(analytic[i][j] - numeric[i][j])).toBeLessThan(2e-4);
    });
  }

  it('no NaN gradient when the embedding has collapsed to a point', () => {
    const collapsed = [0, 1, 2, 3].map(() => [0.3, -0.2]);
    for (const fn of [
      (l: tf.Tensor1D, e: tf.Tensor2D) => batchAllTripletLoss(l, e).loss,
      (l: tf.Tensor1D, e: tf.Tensor2D) => batchHardTripletLoss(l, e),
    ]) {
      const g = withTensors([0, 0, 1, 1], collapsed, (l, e) =>
        tf.grad((x: tf.Tensor) => fn(l, x as tf.Tensor2D))(e),
      );
      expect([...g.dataSync()].every(Number.isFinite)).toBe(true);
    }
  });
});

describe('training metrics vs naive loops', () => {
  for (const seed of [31, 32]) {
    it(`seed ${seed}`, () => {
      const { labels, emb } = randomCase(seed, 14, 5, 4);
      const got = withTensors(labels, emb, (l, e) => embeddingMetrics(l, e));
      const ref = naiveMetrics(labels, emb, 0.5);
      for (const key of Object.keys(ref) as (keyof typeof ref)[]) {
        expect(Math.abs(got[key] - ref[key]), key).toBeLessThan(1e-5);
      }
    });
  }
});
