/** Unit tests of the server's pure pieces: config, error mapping, auth, query maths, batching, PNG fast path. */
import { crc32 } from 'node:zlib';
import type { FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { CONFIG_VARS, ConfigError, loadConfig, redactConfig } from '../../src/config/env.ts';
import { IMAGE_PIXELS } from '../../src/data/classes.ts';
import { loadFashionMnistSplit } from '../../src/data/fashionMnist.ts';
import { decodeSmallGrayPng } from '../../src/data/png.ts';
import { encodePng28, preprocessImage, preprocessSmallGrayPng } from '../../src/data/preprocess.ts';
import { type AppError, NotFoundError } from '../../src/errors.ts';
import { RandomProjectionEmbedder } from '../../src/index/projectionEmbedder.ts';
import { createAdminGuard } from '../../src/server/plugins/auth.ts';
import { toErrorResponse } from '../../src/server/plugins/errors.ts';
import { EmbedQueue } from '../../src/serving/embedQueue.ts';
import { recommendationQuery } from '../../src/serving/recommendationQuery.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      MODEL_DIR: 'models/default',
      CATALOG: 'fashion-mnist',
      ADMIN_TOKEN: '',
      LOG_LEVEL: 'info',
    });
    for (const v of CONFIG_VARS) expect(String(config[v.name])).toBe(v.default);
  });

  it('converts and validates values', () => {
    const config = loadConfig({
      PORT: '0',
      CATALOG: 'none',
      EMBED_IN_WORKER: 'false',
      EMBED_BATCH_WAIT_MS: '0.5',
    });
    expect(config).toMatchObject({
      PORT: 0,
      CATALOG: 'none',
      EMBED_IN_WORKER: false,
      EMBED_BATCH_WAIT_MS: 0.5,
    });
  });

  it('reports every invalid variable with its value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: '70000', CATALOG: 'all', BODY_LIMIT_BYTES: 'big', LOG_LEVEL: 'info' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe('PORT="70000": must be <= 65535 (integer 0..65535)');
    expect(problems[1]).toBe('CATALOG="all": must be one of `fashion-mnist`, `fashion-mnist-test`, `none`');
    expect(problems[2]).toContain('BODY_LIMIT_BYTES="big"');
  });

  it('never logs the admin token', () => {
    expect(redactConfig(loadConfig({ ADMIN_TOKEN: 's3cret' })).ADMIN_TOKEN).toBe('<set>');
  });

  it('documents every variable', () => {
    for (const v of CONFIG_VARS) {
      expect(v.description.length).toBeGreaterThan(10);
      expect(v.allowed.length).toBeGreaterThan(0);
    }
  });
});

describe('toErrorResponse', () => {
  it('keeps AppError status and code', () => {
    expect(toErrorResponse(new NotFoundError('gone', 'ITEM_NOT_FOUND'))).toEqual({
      status: 404,
      code: 'ITEM_NOT_FOUND',
      message: 'gone',
    });
  });

  it('maps framework errors to 4xx codes', () => {
    const fst = (code: string, statusCode: number) => Object.assign(new Error(code), { code, statusCode });
    expect(toErrorResponse(fst('FST_ERR_CTP_BODY_TOO_LARGE', 413)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(toErrorResponse(fst('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(toErrorResponse(fst('FST_ERR_CTP_INVALID_JSON_BODY', 400)).code).toBe('INVALID_JSON');
    const validation = Object.assign(new Error('querystring/k must be <= 100'), {
      validation: [{}],
      statusCode: 400,
    });
    expect(toErrorResponse(validation)).toEqual({
      status: 400,
      code: 'VALIDATION_ERROR',
      message: 'querystring/k must be <= 100',
    });
  });

  it('hides the details of bugs behind a 500', () => {
    expect(toErrorResponse(new TypeError('x is undefined'))).toEqual({
      status: 500,
      code: 'INTERNAL_ERROR',
      message: 'internal server error',
    });
  });
});

describe('createAdminGuard', () => {
  const request = (authorization?: string) => ({ headers: { authorization } }) as unknown as FastifyRequest;
  const outcome = async (guard: ReturnType<typeof createAdminGuard>, header?: string) => {
    try {
      await guard(request(header));
      return 'ok';
    } catch (err) {
      return `${(err as AppError).status} ${(err as AppError).code}`;
    }
  };

  it('accepts only the configured bearer token', async () => {
    const guard = createAdminGuard('tok-123');
    expect(await outcome(guard, 'Bearer tok-123')).toBe('ok');
    expect(await outcome(guard, 'bearer tok-123')).toBe('ok');
    expect(await outcome(guard, 'Bearer tok-1234')).toBe('401 INVALID_TOKEN');
    expect(await outcome(guard, 'Bearer tok')).toBe('401 INVALID_TOKEN');
    expect(await outcome(guard, 'Basic tok-123')).toBe('401 UNAUTHORIZED');
    expect(await outcome(guard)).toBe('401 UNAUTHORIZED');
  });

  it('is disabled (403) without a token', async () => {
    expect(await outcome(createAdminGuard(''), 'Bearer ')).toBe('403 ADMIN_DISABLED');
    expect(await outcome(createAdminGuard(''), 'Bearer anything')).toBe('403 ADMIN_DISABLED');
  });
});

describe('recommendationQuery', () => {
  it('is the positives centroid moved away from the negatives: p + 0.5 (p - n)', () => {
    const q = recommendationQuery([Float32Array.of(1, 0), Float32Array.of(3, 2)], [Float32Array.of(0, 4)]);
    // p = (2, 1), n = (0, 4) → (2 + 0.5·2, 1 + 0.5·(−3)) = (3, −0.5)
    expect(Array.from(q)).toEqual([3, -0.5]);
  });

  it('is the centroid without negatives', () => {
    expect(Array.from(recommendationQuery([Float32Array.of(1, 2), Float32Array.of(3, 6)], []))).toEqual([
      2, 4,
    ]);
  });
});

describe('EmbedQueue', () => {
  const images = (n: number) =>
    Array.from({ length: n }, (_, i) => new Float32Array(IMAGE_PIXELS).fill(i / n));

  it('answers each query with its own embedding, in shared model calls', async () => {
    const embedder = new RandomProjectionEmbedder(64, 3);
    const batches: number[] = [];
    const queue = new EmbedQueue(embedder, { maxBatch: 8, waitMs: 2, onBatch: (size) => batches.push(size) });
    const inputs = images(20);
    const outputs = await Promise.all(inputs.map((x) => queue.embed(x)));
    for (let i = 0; i < inputs.length; i++) {
      expect(Array.from(outputs[i])).toEqual(Array.from(await embedder.embed(inputs[i], 1)));
    }
    expect(batches.reduce((a, b) => a + b, 0)).toBe(20);
    expect(Math.max(...batches)).toBe(8);
    expect(batches.length).toBeLessThanOrEqual(4);
  });

  it('waits for company only while more admitted images are on their way', async () => {
    // Only setTimeout is faked: the wait fires when the test says so, setImmediate runs as usual.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let admitted = 1;
      const batches: number[] = [];
      const queue = new EmbedQueue(new RandomProjectionEmbedder(64, 3), {
        maxBatch: 8,
        waitMs: 50,
        admitted: () => admitted,
        onBatch: (size) => batches.push(size),
      });
      const [a, b, c, d] = images(4);
      // Alone: embedded without the timer ever firing.
      await queue.embed(a);
      await queue.drain();
      expect(batches).toEqual([1]);
      // Three admitted: the first waits for the two still on their way, and they share one call.
      admitted = 3;
      const shared = [queue.embed(b)];
      await new Promise((r) => setImmediate(r));
      expect(batches).toEqual([1]);
      shared.push(queue.embed(c), queue.embed(d));
      vi.advanceTimersByTime(50);
      await Promise.all(shared);
      expect(batches).toEqual([1, 3]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails every query of a failing batch, and keeps working afterwards', async () => {
    const embedder = new RandomProjectionEmbedder(64, 3);
    let fail = true;
    const flaky = {
      modelVersion: embedder.modelVersion,
      dim: embedder.dim,
      head: embedder.head,
      embed: (x: Float32Array, n: number) =>
        fail ? Promise.reject(new Error('boom')) : embedder.embed(x, n),
      dispose: () => {},
    };
    const queue = new EmbedQueue(flaky, { maxBatch: 4, waitMs: 0 });
    const results = await Promise.allSettled(images(3).map((x) => queue.embed(x)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    fail = false;
    expect((await queue.embed(images(1)[0])).length).toBe(64);
    await queue.drain();
  });

  it('rejects inputs of the wrong size', async () => {
    const queue = new EmbedQueue(new RandomProjectionEmbedder(), { maxBatch: 4, waitMs: 0 });
    await expect(queue.embed(new Float32Array(10))).rejects.toThrow(RangeError);
  });
});

describe('PNG fast path', () => {
  it('gives exactly the shared preprocessing for Fashion-MNIST PNGs', async () => {
    const test = await loadFashionMnistSplit('test');
    for (let i = 0; i < 300; i++) {
      const png = await encodePng28(test.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS));
      const fast = preprocessSmallGrayPng(png);
      expect(fast).not.toBeNull();
      expect(Array.from(fast!)).toEqual(Array.from(await preprocessImage(png)));
    }
  });

  it('gives exactly the shared preprocessing for other small gray PNGs (every filter type)', async () => {
    const gradient = Buffer.alloc(100 * 60);
    for (let i = 0; i < gradient.length; i++) gradient[i] = (i * 7 + (i % 100) * (i % 13)) & 0xff;
    for (const level of [0, 6, 9]) {
      const png = await sharp(gradient, { raw: { width: 100, height: 60, channels: 1 } })
        .toColourspace('b-w')
        .png({ compressionLevel: level, adaptiveFiltering: true })
        .toBuffer();
      expect(decodeSmallGrayPng(png)?.gray).toEqual(new Uint8Array(gradient));
      expect(Array.from(preprocessSmallGrayPng(png)!)).toEqual(Array.from(await preprocessImage(png)));
    }
  });

  it('leaves everything else to sharp', async () => {
    const gray = Buffer.alloc(28 * 28, 200);
    const rgb = await sharp(Buffer.alloc(28 * 28 * 3, 90), { raw: { width: 28, height: 28, channels: 3 } })
      .png()
      .toBuffer();
    const alpha = await sharp(Buffer.alloc(28 * 28 * 2, 90), { raw: { width: 28, height: 28, channels: 2 } })
      .png()
      .toBuffer();
    const large = await sharp(Buffer.alloc(200 * 200, 90), { raw: { width: 200, height: 200, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    const ok = await encodePng28(gray);
    const corrupt = Buffer.from(ok);
    corrupt[corrupt.length - 20] ^= 0xff;
    const interlaced = await sharp(gray, { raw: { width: 28, height: 28, channels: 1 } })
      .toColourspace('b-w')
      .png({ progressive: true })
      .toBuffer();
    const sixteen = Buffer.from(ok);
    sixteen[24] = 16; // IHDR bit depth
    sixteen.writeUInt32BE(crc32(sixteen.subarray(12, 29)), 29);
    for (const png of [rgb, alpha, large, corrupt, interlaced, sixteen, Buffer.from('not a png')]) {
      expect(decodeSmallGrayPng(png)).toBeNull();
    }
    expect(decodeSmallGrayPng(ok)).not.toBeNull();
  });
});
