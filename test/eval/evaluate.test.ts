import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src/data/fashionMnist.ts';
import { RAW_PIXELS } from '../../src/eval/evaluate.ts';
import type { ReportData } from '../../src/eval/report.ts';
import { runEvaluation, scoreEmbedding } from '../../src/eval/run.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('end-to-end evaluation of raw pixels on a slice (500 test queries x 3,000 train images)', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a valid report.json, report.md and three PNG pictures', async () => {
    dir = await mkdtemp(join(tmpdir(), 'eval-'));
    const data = await loadFashionMnist();
    const { files } = await runEvaluation({
      source: RAW_PIXELS,
      outDir: dir,
      title: 'raw pixels (slice)',
      command: 'test',
      queryLimit: 500,
      galleryLimit: 3000,
      projectionPoints: 300,
      data,
    });
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      'confusion.png',
      'neighbours.png',
      'projection.png',
      'report.json',
      'report.md',
    ]);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportData;
    expect(report.data).toMatchObject({ queryCount: 500, galleryCount: 3000 });
    const m = report.embedding.testVsTrain.overall;
    expect(m.queries).toBe(500);
    // Raw pixels on the full sets give P@1 0.850 / MAP@R 0.301; a 3,000-image gallery is a little worse.
    expect(m.precisionAt1).toBeGreaterThan(0.7);
    expect(m.mapAtR).toBeGreaterThan(0.2);
    expect(m.mapAtR).toBeLessThan(m.rPrecision);
    expect(report.embedding.leaveOneOut.overall.queries).toBe(500);
    expect(report.embedding.testVsTrain.confusion.flat().reduce((a, b) => a + b, 0)).toBe(500);
    for (const name of ['projection.png', 'neighbours.png', 'confusion.png']) {
      const png = await readFile(join(dir, name));
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(300);
    }
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('| Ankle boot |');
    expect(md).toContain('![projection](projection.png)');

    // The metrics-only path (for quality gates) gives the same figures.
    const scored = await scoreEmbedding(RAW_PIXELS, { queryLimit: 500, galleryLimit: 3000, data });
    expect(scored.testVsTrain.overall).toEqual(m);
  });
});
