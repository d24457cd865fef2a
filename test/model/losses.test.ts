import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  allTripletsMiner,
  batchHardMiner,
  cosineDistances,
  type DistanceName,
  distanceMatrix,
  pairwiseDistances,
  softmaxCrossEntropy,
  type TripletOptions,
  tripletLoss,
} from '../../src/model/losses.ts';
import { embeddingMetrics } from '../../src/model/trainMetrics.ts';
import {
  dist,
  type Emb,
  hardest,
  maxAbsDiff,
  miningInput,
  naiveBatchAll,
  naiveBatchHard,
  naiveSemiHard,
  naiveTripletGradient,
  numericGradient,
  randomCase,
  scalar,
  type Triplet,
  tripletList,
  validTriplets,
  withTensors,
} from './lossesReference.ts';

function naiveSoftmaxCE(labels: number[], logits: Emb): number {
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const m = Math.max(...logits[i]);
    const lse = m + Math.log(logits[i].reduce((s, v) => s + Math.exp(v - m), 0));
    sum += lse - logits[i][labels[i]];
  }
  return sum / logits.length;
}

function naiveMetrics(labels: number[], e: Emb, margin: number, kind: DistanceName) {
  const n = e.length;
  let norm = 0;
  let dsum = 0;
  let hpSum = 0;
  let hpCount = 0;
  let hnSum = 0;
  let hnCount = 0;
  for (let a = 0; a < n; a++) {
    norm += Math.sqrt(e[a].reduce((s, v) => s + v * v, 0));
    for (let j = 0; j < n; j++) if (j !== a) dsum += dist(e[a], e[j]);
    const { hp, hn } = hardest(labels, e, a);
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
    fractionPositive: naiveBatchAll(labels, e, margin, kind).fraction,
    meanNorm: norm / n,
    meanDistance: dsum / (n * (n - 1)),
    meanHardestPositive: hpSum / hpCount,
    meanHardestNegative: hnSum / hnCount,
  };
}

const loss = (labels: number[], emb: Emb, opts: TripletOptions) =>
  scalar(withTensors(labels, emb, (l, e) => tripletLoss(l, e, opts).loss));

const gradient = (labels: number[], emb: Emb, fn: (l: tf.Tensor1D, e: tf.Tensor2D) => tf.Scalar): Emb =>
  withTensors(labels, emb, (l, e) =>
    tf
      .grad((x: tf.Tensor) => fn(l, x as tf.Tensor2D))(e)
      .arraySync(),
  ) as Emb;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('distances', () => {
  it('euclidean, squared and cosine match the naive distance and are exactly 0 on the diagonal', () => {
    const { emb } = randomCase(1, 10, 6, 3);
    for (const kind of ['euclidean', 'squared', 'cosine'] as const) {
      const d = withTensors([0], emb, (_l, e) => distanceMatrix(e, kind).arraySync());
      for (let i = 0; i < emb.length; i++) {
        // 1 − cos rounds to ±tiny before the diagonal mask, so the masked diagonal may be −0.
        expect(Math.abs(d[i][i])).toBe(0);
        for (let j = 0; j < emb.length; j++)
          if (i !== j) expect(d[i][j]).toBeCloseTo(dist(emb[i], emb[j], kind), 5);
      }
    }
  });

  it('have finite gradients when embeddings coincide or vanish', () => {
    for (const fn of [pairwiseDistances, cosineDistances]) {
      for (const at of [tf.ones([3, 2]), tf.zeros([3, 2])]) {
        const g = tf.grad((e: tf.Tensor) => tf.sum(fn(e as tf.Tensor2D)))(at);
        expect([...g.dataSync()].every(Number.isFinite)).toBe(true);
      }
    }
  });
});

describe('the named triplet losses, composed, vs the naive loops that defined them', () => {
  for (const kind of ['euclidean', 'squared', 'cosine'] as const) {
    for (const seed of [3, 4, 5]) {
      const { labels, emb } = randomCase(seed, 16, 8, 4);
      it(`batch-all = all-triplets miner + non-zero mean (${kind}, seed ${seed})`, () => {
        expect(loss(labels, emb, { distance: kind, miner: 'all' })).toBeCloseTo(
          naiveBatchAll(labels, emb, 0.5, kind).loss,
          5,
        );
      });
      it(`batch-hard = batch-hard miner + mean, hinge and soft margin (${kind}, seed ${seed})`, () => {
        expect(loss(labels, emb, { distance: kind, miner: 'batch-hard' })).toBeCloseTo(
          naiveBatchHard(labels, emb, 0.5, kind),
          5,
        );
        expect(loss(labels, emb, { distance: kind, miner: 'batch-hard', softMargin: true })).toBeCloseTo(
          naiveBatchHard(labels, emb, 0.5, kind, true),
          5,
        );
      });
      it(`semi-hard = semi-hard miner + mean (${kind}, seed ${seed})`, () => {
        expect(loss(labels, emb, { distance: kind, miner: 'semi-hard' })).toBeCloseTo(
          naiveSemiHard(labels, emb, 0.5, kind),
          5,
        );
      });
    }
  }

  it('squared: true is distance squared', () => {
    const { labels, emb } = randomCase(8, 12, 4, 3);
    expect(loss(labels, emb, { squared: true, miner: 'all' })).toBeCloseTo(
      naiveBatchAll(labels, emb, 0.5, 'squared').loss,
      5,
    );
  });

  it('uses the margin option', () => {
    const { labels, emb } = randomCase(9, 12, 4, 3);
    expect(loss(labels, emb, { margin: 1.3, miner: 'batch-hard' })).toBeCloseTo(
      naiveBatchHard(labels, emb, 1.3),
      5,
    );
  });

  it('softmax cross-entropy', () => {
    const { labels, emb } = randomCase(11, 20, 10, 10);
    const logits = emb.map((r) => r.map((v) => v * 4));
    const out = withTensors(labels, logits, (l, e) => softmaxCrossEntropy(l, e));
    expect(scalar(out)).toBeCloseTo(naiveSoftmaxCE(labels, logits), 5);
  });

  it('reports the miner statistics with the loss', () => {
    const { labels, emb } = randomCase(12, 16, 8, 4);
    const { stats } = withTensors(labels, emb, (l, e) => {
      const r = tripletLoss(l, e, { miner: 'all' });
      r.loss.dispose();
      return r;
    });
    expect(stats.fractionPositive).toBeCloseTo(naiveBatchAll(labels, emb, 0.5).fraction, 6);
    expect(stats.validTriplets).toBe(validTriplets(labels).length);
  });
});

describe('hand-computed tiny cases', () => {
  // 1-D embeddings 0, 2 (class 0) and 1 (class 1): d01 = 2, d02 = 1, d12 = 1.
  const labels = [0, 0, 1];
  const emb = [[0], [2], [1]];
  it('batch-all: both triplets have hinge 2 - 1 + 0.5 = 1.5', () => {
    expect(loss(labels, emb, { miner: 'all' })).toBeCloseTo(1.5, 6);
  });
  it('batch-hard: anchors 0 and 1 give 1.5, anchor 2 (no positive) relu(0 - 1 + 0.5) = 0 → mean 1', () => {
    expect(loss(labels, emb, { miner: 'batch-hard' })).toBeCloseTo(1, 6);
  });
  it('batch-hard: an anchor without positives still pushes a negative inside the margin away', () => {
    // Anchor 2 has no positive and its closest negative is 0.25 away: relu(0 - 0.25 + 0.5) = 0.25.
    const near = [[0], [2], [0.25]];
    const expected = (Math.max(2 - 0.25 + 0.5, 0) + Math.max(2 - 1.75 + 0.5, 0) + 0.25) / 3;
    expect(loss(labels, near, { miner: 'batch-hard' })).toBeCloseTo(expected, 6);
  });
  it('batch-hard soft margin: (2·ln(1 + e^(2-1)) + ln(1 + e^(0-1))) / 3, no margin', () => {
    const expected = (2 * Math.log(1 + Math.E) + Math.log(1 + Math.exp(-1))) / 3;
    for (const margin of [0.5, 2]) {
      expect(loss(labels, emb, { margin, miner: 'batch-hard', softMargin: true })).toBeCloseTo(expected, 6);
    }
  });
  it('squared distances: 4 - 1 + 0.5 = 3.5 (batch-all), (3.5 + 3.5 + 0) / 3 (batch-hard)', () => {
    expect(loss(labels, emb, { distance: 'squared', miner: 'all' })).toBeCloseTo(3.5, 5);
    expect(loss(labels, emb, { distance: 'squared', miner: 'batch-hard' })).toBeCloseTo(7 / 3, 5);
  });
  it('well-separated classes have zero loss, a zero gradient and no positive triplets', () => {
    const sep = [[0], [0.1], [5], [5.2]];
    const sepLabels = [0, 0, 1, 1];
    expect(loss(sepLabels, sep, { miner: 'all' })).toBe(0);
    const g = gradient(sepLabels, sep, (l, e) => tripletLoss(l, e, { miner: 'all' }).loss);
    expect(g.flat().every((v) => v === 0)).toBe(true);
  });
  it('softmax cross-entropy of equal logits is ln(C)', () => {
    const logits = [
      [0, 0, 0],
      [1, 1, 1],
    ];
    expect(scalar(withTensors([0, 1], logits, (l, e) => softmaxCrossEntropy(l, e)))).toBeCloseTo(
      Math.log(3),
      6,
    );
  });
});

/** The triplets with a positive hinge of batch-all, weighted 1/count: its gradient by the chain rule. */
function batchAllTerms(labels: number[], e: Emb, margin: number, kind: DistanceName) {
  const positive = validTriplets(labels).filter(
    ([a, p, n]) => dist(e[a], e[p], kind) - dist(e[a], e[n], kind) + margin > 1e-16,
  );
  return positive.map((t) => ({ t, w: 1 / positive.length }));
}

/** Batch-hard's active anchors (hinge > 0), each weighted 1/B. */
function batchHardTerms(labels: number[], e: Emb, margin: number, kind: DistanceName) {
  const terms: { t: Triplet; w: number }[] = [];
  for (let a = 0; a < e.length; a++) {
    let p = a;
    let n = -1;
    for (let j = 0; j < e.length; j++) {
      if (
        j !== a &&
        labels[j] === labels[a] &&
        dist(e[a], e[j], kind) > (p === a ? 0 : dist(e[a], e[p], kind))
      )
        p = j;
      if (labels[j] !== labels[a] && (n < 0 || dist(e[a], e[j], kind) < dist(e[a], e[n], kind))) n = j;
    }
    const dp = p === a ? 0 : dist(e[a], e[p], kind);
    if (n >= 0 && dp - dist(e[a], e[n], kind) + margin > 0) terms.push({ t: [a, p, n], w: 1 / e.length });
  }
  return terms;
}

describe('gradients of batch-all and batch-hard: the same as the loss before the split', () => {
  for (const kind of ['euclidean', 'squared'] as const) {
    for (const seed of [21, 22, 23]) {
      const { labels, emb } = randomCase(seed, 12, 5, 3);
      it(`batch-all vs the chain rule over the positive triplets (${kind}, seed ${seed})`, () => {
        const got = gradient(labels, emb, (l, e) => tripletLoss(l, e, { distance: kind, miner: 'all' }).loss);
        const want = naiveTripletGradient(emb, batchAllTerms(labels, emb, 0.5, kind), kind);
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      });
      it(`batch-hard vs the chain rule over the active anchors (${kind}, seed ${seed})`, () => {
        const got = gradient(
          labels,
          emb,
          (l, e) => tripletLoss(l, e, { distance: kind, miner: 'batch-hard' }).loss,
        );
        const want = naiveTripletGradient(emb, batchHardTerms(labels, emb, 0.5, kind), kind);
        expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      });
    }
  }
});

describe('gradients vs finite differences (float64 naive loss)', () => {
  const { labels, emb } = randomCase(21, 6, 3, 2);
  const cases: [string, TripletOptions, (e: Emb) => number][] = [
    ['batch-all', { miner: 'all' }, (e) => naiveBatchAll(labels, e, 0.5).loss],
    [
      'batch-all cosine (margin 1.5: at 0.5 this case has no positive triplet)',
      { miner: 'all', distance: 'cosine', margin: 1.5 },
      (e) => naiveBatchAll(labels, e, 1.5, 'cosine').loss,
    ],
    ['batch-hard', { miner: 'batch-hard' }, (e) => naiveBatchHard(labels, e, 0.5)],
    [
      'batch-hard squared',
      { miner: 'batch-hard', squared: true },
      (e) => naiveBatchHard(labels, e, 0.5, 'squared'),
    ],
    [
      'batch-hard soft margin',
      { miner: 'batch-hard', softMargin: true },
      (e) => naiveBatchHard(labels, e, 0.5, 'euclidean', true),
    ],
    ['semi-hard', { miner: 'semi-hard' }, (e) => naiveSemiHard(labels, e, 0.5)],
  ];
  for (const [name, opts, naive] of cases) {
    it(name, () => {
      const analytic = gradient(labels, emb, (l, e) => tripletLoss(l, e, opts).loss);
      const numeric = numericGradient(naive, emb);
      expect(Math.max(...numeric.flat().map(Math.abs))).toBeGreaterThan(0);
      expect(maxAbsDiff(analytic, numeric)).toBeLessThan(2e-4);
    });
  }

  it('softmax', () => {
    const analytic = gradient(labels, emb, (l, e) => softmaxCrossEntropy(l, e));
    expect(
      maxAbsDiff(
        analytic,
        numericGradient((e) => naiveSoftmaxCE(labels, e), emb),
      ),
    ).toBeLessThan(2e-4);
  });

  it('no NaN gradient when the embedding has collapsed to a point', () => {
    const collapsed = [0, 1, 2, 3].map(() => [0.3, -0.2]);
    for (const miner of ['all', 'batch-hard', 'semi-hard', 'distance-weighted'] as const) {
      for (const distance of ['euclidean', 'cosine'] as const) {
        const g = gradient([0, 0, 1, 1], collapsed, (l, e) => tripletLoss(l, e, { miner, distance }).loss);
        expect(g.flat().every(Number.isFinite), `${miner} ${distance}`).toBe(true);
      }
    }
  });

  it('a batch of one class mines nothing: loss 0, gradient 0, still on the tape', () => {
    const one = randomCase(5, 4, 3, 1);
    for (const miner of ['all', 'batch-hard', 'semi-hard', 'distance-weighted'] as const) {
      expect(loss(one.labels, one.emb, { miner })).toBe(0);
      const g = gradient(one.labels, one.emb, (l, e) => tripletLoss(l, e, { miner }).loss);
      expect(g.flat().every((v) => v === 0)).toBe(true);
    }
  });
});

describe('training metrics read the miners', () => {
  for (const [seed, kind] of [
    [31, 'euclidean'],
    [32, 'squared'],
    [33, 'cosine'],
  ] as const) {
    it(`vs naive loops (seed ${seed}, ${kind} loss distance)`, () => {
      const { labels, emb } = randomCase(seed, 14, 5, 4);
      const got = withTensors(labels, emb, (l, e) => embeddingMetrics(l, e, { distance: kind }));
      const ref = naiveMetrics(labels, emb, 0.5, kind);
      for (const key of Object.keys(ref) as (keyof typeof ref)[]) {
        expect(Math.abs(got[key] - ref[key]), key).toBeLessThan(1e-5);
      }
    });
  }

  it('are exactly the statistics of the all-triplets and batch-hard miners', () => {
    const { labels, emb } = randomCase(34, 14, 5, 4);
    const got = withTensors(labels, emb, (l, e) => embeddingMetrics(l, e));
    const all = allTripletsMiner({ margin: 0.5 })(miningInput(labels, emb)).stats;
    const hard = batchHardMiner()(miningInput(labels, emb));
    expect(got.fractionPositive).toBeCloseTo(all.fractionPositive, 6);
    expect(got.meanHardestPositive).toBeCloseTo(hard.stats.meanHardestPositive, 5);
    expect(got.meanHardestNegative).toBeCloseTo(hard.stats.meanHardestNegative, 5);
    expect(tripletList(hard.triplets)).toHaveLength(14);
  });
});
