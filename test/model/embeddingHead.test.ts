import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.ts';
import {
  applyEmbeddingHead,
  type EmbeddingHead,
  mirrorImages,
  modelDigest,
  PLAIN_HEAD,
  parseEmbeddingHead,
  unitProxies,
} from '../../src/model/embeddingHead.ts';

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** The head written as its formula, one row at a time with plain arrays. */
function naiveHead(
  head: EmbeddingHead,
  plain: number[][],
  mirrored: number[][],
  proxies: number[][],
): number[][] {
  return plain.map((row, r) => {
    let e = head.flipAverage ? unit(row.map((x, d) => (x + mirrored[r][d]) / 2)) : row;
    if (head.classPull) {
      const { weight, scale } = head.classPull;
      const logits = proxies.map((p) => scale * p.reduce((s, x, d) => s + x * e[d], 0));
      const exps = logits.map((l) => Math.exp(l));
      const z = exps.reduce((a, b) => a + b, 0);
      e = unit(e.map((x, d) => x + weight * proxies.reduce((s, p, c) => s + (exps[c] / z) * p[d], 0)));
    }
    return e;
  });
}

describe('applyEmbeddingHead', () => {
  it('matches hand-computed values', () => {
    const proxies = Float32Array.of(1, 0, 0, 1);
    // cos 1 and 0 at scale ln 3: probabilities 3/4 and 1/4; e + 1·(0.75, 0.25) = (1.75, 0.25), then unit.
    const pulled = applyEmbeddingHead(
      { flipAverage: false, classPull: { weight: 1, scale: Math.log(3) } },
      2,
      Float32Array.of(1, 0),
      undefined,
      proxies,
    );
    expect(pulled[0]).toBeCloseTo(1.75 / Math.sqrt(3.125), 6);
    expect(pulled[1]).toBeCloseTo(0.25 / Math.sqrt(3.125), 6);
    // The mean of (1, 0) and (0, 1), back on the sphere.
    const averaged = applyEmbeddingHead(
      { flipAverage: true, classPull: null },
      2,
      Float32Array.of(1, 0),
      Float32Array.of(0, 1),
    );
    for (const x of averaged) expect(x).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Array.from(applyEmbeddingHead(PLAIN_HEAD, 2, Float32Array.of(0.6, 0.8)))).toEqual([
      Float32Array.of(0.6)[0],
      Float32Array.of(0.8)[0],
    ]);
  });

  it('matches the naive formula on random unit embeddings and proxies', () => {
    const rng = createRng(5);
    const [dim, classes, count] = [8, 4, 6];
    const rows = (n: number) =>
      Array.from({ length: n }, () => unit(Array.from({ length: dim }, () => rng() - 0.5)));
    const plain = rows(count);
    const mirrored = rows(count);
    const proxies = rows(classes);
    for (const head of [
      { flipAverage: true, classPull: { weight: 0.5, scale: 24 } },
      { flipAverage: false, classPull: { weight: 2, scale: 4 } },
      { flipAverage: true, classPull: null },
    ]) {
      const got = applyEmbeddingHead(
        head,
        dim,
        Float32Array.from(plain.flat()),
        Float32Array.from(mirrored.flat()),
        Float32Array.from(proxies.flat()),
      );
      const expected = naiveHead(head, plain, mirrored, proxies).flat();
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    }
  });

  it('refuses a head without the inputs it needs', () => {
    const pull = { flipAverage: false, classPull: { weight: 1, scale: 1 } };
    expect(() => applyEmbeddingHead(pull, 2, Float32Array.of(1, 0))).toThrow(/proxies/);
    expect(() =>
      applyEmbeddingHead({ flipAverage: true, classPull: null }, 2, Float32Array.of(1, 0)),
    ).toThrow(/mirror/);
  });
});

describe('the head’s parts', () => {
  it('mirrorImages reverses each row of each 28x28 image', () => {
    const images = Float32Array.from({ length: 2 * 784 }, (_, i) => i);
    const mirrored = mirrorImages(images, 2);
    expect(mirrored[0]).toBe(27);
    expect(mirrored[27]).toBe(0);
    expect(mirrored[784 + 28 * 5 + 3]).toBe(784 + 28 * 5 + 24);
    expect(mirrorImages(mirrored, 2)).toEqual(images);
  });

  it('unitProxies takes the kernel’s columns as unit rows', () => {
    // kernel [dim 2, classes 2]: columns (3, 4) and (0, 2).
    expect(Array.from(unitProxies(Float32Array.of(3, 0, 4, 2), 2, 2))).toEqual([
      Float32Array.of(0.6)[0],
      Float32Array.of(0.8)[0],
      0,
      1,
    ]);
  });

  it('parseEmbeddingHead reads metadata.json’s field and refuses a malformed one', () => {
    expect(parseEmbeddingHead({ name: 'x' }, 'm.json')).toEqual(PLAIN_HEAD);
    const head = { flipAverage: true, classPull: { weight: 0.5, scale: 24 } };
    expect(parseEmbeddingHead({ embeddingHead: head }, 'm.json')).toEqual(head);
    for (const bad of [7, { flipAverage: 'yes' }, { classPull: { weight: -1, scale: 2 } }, { classPull: {} }])
      expect(() => parseEmbeddingHead({ embeddingHead: bad }, 'm.json')).toThrow(
        expect.objectContaining({ code: 'MODEL_FILE_CORRUPT', message: expect.stringMatching(/m\.json/) }),
      );
  });

  it('modelDigest is the weights’ sha256 for the plain head and changes with any head setting', () => {
    const sha = 'ab'.repeat(32);
    expect(modelDigest(sha, PLAIN_HEAD)).toBe(sha);
    const digests = [
      { flipAverage: true, classPull: null },
      { flipAverage: true, classPull: { weight: 0.5, scale: 24 } },
      { flipAverage: true, classPull: { weight: 0.25, scale: 24 } },
      { flipAverage: false, classPull: { weight: 0.5, scale: 24 } },
    ].map((head) => modelDigest(sha, head));
    expect(new Set([sha, ...digests]).size).toBe(5);
    for (const d of digests) expect(d).toMatch(/^[0-9a-f]{64}$/);
  });
});
