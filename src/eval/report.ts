import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLASS_NAMES } from '../data/classes.ts';
import { EMBEDDING_HEAD_KEY } from '../model/embeddingHead.ts';
import type { EmbeddingStats, SearchRun } from './evaluate.ts';
import type { MetricSet } from './metrics.ts';
import type { PhotoEvaluation } from './photoEval.ts';

/** The metrics of one embedding, as stored in report.json (no per-query arrays). */
export interface EmbeddingResult {
  name: string;
  dim: number;
  testVsTrain: SearchRun;
  leaveOneOut: SearchRun;
  /** Spread of the query (test) vectors. */
  stats?: EmbeddingStats;
  /** Where the figures came from, e.g. 'computed' or 'cache: reports/baseline-raw-pixels.json'. */
  source?: string;
}

export interface ReportData {
  title: string;
  createdAt: string;
  command: string;
  model: { dir: string; metadata: unknown } | null;
  data: {
    queries: string;
    gallery: string;
    queryCount: number;
    galleryCount: number;
    checksums: Record<string, string>;
  };
  embedding: EmbeddingResult;
  baseline: EmbeddingResult | null;
  projection: { method: string; points: number; seed: number };
  /** Product-photo queries of test items (absent in reports written before, null when skipped). */
  photos?: PhotoEvaluation | null;
  timings: Record<string, number>;
}

export interface ReportPictures {
  projection: Buffer;
  neighbours: Buffer;
  confusion: Buffer;
}

export const REPORT_FILES = {
  json: 'report.json',
  markdown: 'report.md',
  projection: 'projection.png',
  neighbours: 'neighbours.png',
  confusion: 'confusion.png',
} as const;

const f3 = (x: number) => x.toFixed(3);

const METRIC_HEADER = '| P@1 | P@10 | R-Precision | MAP@R | kNN-10 acc |';

function metricCells(m: MetricSet): string {
  return `| ${f3(m.precisionAt1)} | ${f3(m.precisionAt10)} | ${f3(m.rPrecision)} | ${f3(m.mapAtR)} | ${f3(m.knnAccuracy)} |`;
}

/** One table row per embedding: the comparison table of the eval and experiment reports. */
export function comparisonTable(rows: { name: string; metrics: MetricSet }[]): string {
  return [
    `| embedding ${METRIC_HEADER}`,
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} ${metricCells(r.metrics)}`),
  ].join('\n');
}

function perClassTable(run: SearchRun, baseline: SearchRun | undefined): string {
  const lines = [
    `| class | queries ${METRIC_HEADER}${baseline ? ' raw-pixel MAP@R |' : ''}`,
    `|---|---|---|---|---|---|---|${baseline ? '---|' : ''}`,
  ];
  run.perClass.forEach((m, c) => {
    const extra = baseline ? ` ${f3(baseline.perClass[c].mapAtR)} |` : '';
    lines.push(`| ${CLASS_NAMES[c]} | ${m.queries} ${metricCells(m)}${extra}`);
  });
  return lines.join('\n');
}

export function confusionTable(matrix: number[][]): string {
  const head = `| true \\ nearest | ${CLASS_NAMES.join(' | ')} |`;
  const sep = `|---|${CLASS_NAMES.map(() => '---:').join('|')}|`;
  const rows = matrix.map((row, i) => `| ${CLASS_NAMES[i]} | ${row.join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}

export const METRIC_DEFINITIONS = [
  'Definitions (Musgrave et al. 2020, "A Metric Learning Reality Check"): for a query of class c, R is the',
  'number of gallery items of class c (one less in leave-one-out); P@k = share of the k nearest that are of',
  'class c; R-Precision = share of the R nearest that are of class c; MAP@R = (1/R) Σ_{i≤R} P(i)·rel(i).',
  'kNN-10 accuracy: majority class of the 10 nearest, ties to the tied class with the nearest member.',
  'Exact euclidean search, distances summed in float64; ties in distance go to the lower gallery index.',
].join('\n');

const range = ([lo, hi]: readonly [number, number]) => `${+lo.toFixed(2)}-${+hi.toFixed(2)}`;

/** The photo section of report.md: category P@10 photo vs clean, exact-item recall per catalog, per class. */
export function photoSection(p: PhotoEvaluation): string[] {
  const { photo, clean, gallery, galleryCount } = p.categoryPrecisionAt10;
  const g = p.generator;
  const byCatalog = p.exactItem;
  const widest = byCatalog[byCatalog.length - 1];
  const { items } = p;
  return [
    `## Product-photo queries: ${p.photos} photos of ${items} items (seed ${p.seed})`,
    '',
    `Each photo is a ${items} image rendered as a product photo by \`src/data/photoLike.ts\` (long side ${range(g.longSide)} px,`,
    `aspect ${range(g.aspect)}, garment ${range(g.garmentFraction)} of the short side placed anywhere, dark garment`,
    `(level ${range(g.ink)}) on a light backdrop (${range(g.background)}), gaussian blur σ ${range(g.blurSigma)} garment`,
    `pixels, noise σ ${range(g.noiseSigma)} levels, JPEG quality ${range(g.jpegQuality)}) and brought back through the`,
    `serving preprocessing, as an upload to \`/similar\` would be. The photo's own item is its clean ${items} image.`,
    '',
    `| category P@10 against the ${galleryCount} ${gallery} images | photo | clean | photo / clean |`,
    '|---|---|---|---|',
    `| all | ${f3(photo.overall)} | ${f3(clean.overall)} | ${f3(photo.overall / clean.overall)} |`,
    '',
    '| catalog searched | items | exact-item recall@1 | exact-item recall@10 |',
    '|---|---|---|---|',
    ...byCatalog.map(
      (r) => `| ${r.catalog} | ${r.catalogCount} | ${f3(r.recallAt1)} | ${f3(r.recallAt10.overall)} |`,
    ),
    '',
    `| class | photos P@10 | clean P@10 | exact-item recall@10 (${widest.catalog}) |`,
    '|---|---|---|---|',
    ...CLASS_NAMES.map(
      (name, c) =>
        `| ${name} | ${f3(photo.perClass[c])} | ${f3(clean.perClass[c])} | ${f3(widest.recallAt10.perClass[c])} |`,
    ),
    '',
    'Issue 16 goal: exact-item recall@10 ≥ 0.90 and category P@10 within 3% of the clean queries’.',
    '',
  ];
}

/** The training facts of metadata.json worth repeating in a report; unknown shapes are skipped. */
function modelSummary(metadata: unknown): string[] {
  if (!metadata || typeof metadata !== 'object') return [];
  const m = metadata as Record<string, unknown>;
  const lines: string[] = [];
  for (const key of ['arch', 'loss', 'embeddingDim', 'epochs', 'backend', 'wallTimeSeconds', 'createdAt']) {
    if (m[key] !== undefined && typeof m[key] !== 'object') lines.push(`- ${key}: ${String(m[key])}`);
  }
  if (typeof m.command === 'string') lines.push(`- trained by: \`${m.command}\``);
  const head = m[EMBEDDING_HEAD_KEY];
  if (head !== undefined) lines.push(`- embedding head (npm run model:head): \`${JSON.stringify(head)}\``);
  return lines;
}

export function renderMarkdown(r: ReportData): string {
  const e = r.embedding;
  const b = r.baseline;
  const rowsFor = (key: 'testVsTrain' | 'leaveOneOut') => [
    { name: e.name, metrics: e[key].overall },
    ...(b ? [{ name: `${b.name} — no-learning baseline`, metrics: b[key].overall }] : []),
  ];
  const out = [`# ${r.title}`, '', `Generated ${r.createdAt} by \`${r.command}\`.`, ''];
  if (r.model) {
    out.push(`Model directory: \`${r.model.dir}\`.`, '', ...modelSummary(r.model.metadata), '');
  }
  out.push(
    `## Retrieval: ${r.data.queryCount} ${r.data.queries} queries against ${r.data.galleryCount} ${r.data.gallery} images`,
    '',
    comparisonTable(rowsFor('testVsTrain')),
    '',
    `## Leave-one-out within the ${r.data.queryCount} ${r.data.queries} images`,
    '',
    comparisonTable(rowsFor('leaveOneOut')),
    '',
    METRIC_DEFINITIONS,
    '',
    `## Per class (${r.data.queries} → ${r.data.gallery})`,
    '',
    perClassTable(e.testVsTrain, b?.testVsTrain),
    '',
    '## Confusion matrix of the nearest neighbour’s class',
    '',
    `![confusion matrix](${REPORT_FILES.confusion})`,
    '',
    confusionTable(e.testVsTrain.confusion),
    '',
    `## ${r.projection.method} projection of ${r.projection.points} ${r.data.queries} embeddings`,
    '',
    `![projection](${REPORT_FILES.projection})`,
    '',
    `## Nearest ${r.data.gallery} images of one ${r.data.queries} query per class`,
    '',
    'Green frame: same class as the query; red: a different class.',
    '',
    `![nearest neighbours](${REPORT_FILES.neighbours})`,
    '',
    ...(r.photos ? photoSection(r.photos) : []),
    '## Spread of the embedding',
    '',
    `Mean distance from a ${r.data.queries} query to its nearest ${r.data.gallery} item: ${e.testVsTrain.meanNearestDistance.toPrecision(4)}` +
      (e.stats
        ? `; mean norm of the ${r.data.queries} vectors: ${e.stats.meanNorm.toPrecision(4)}; per-dimension standard deviation, averaged: ${e.stats.meanDimStd.toPrecision(4)}.`
        : '.'),
    '',
    '## Timings (seconds)',
    '',
    ...Object.entries(r.timings).map(([k, v]) => `- ${k}: ${v.toFixed(1)}`),
    '',
  );
  return out.join('\n');
}

/** Writes report.json, report.md and the three pictures into `dir`; returns the paths written. */
export async function writeReport(
  dir: string,
  data: ReportData,
  pictures: ReportPictures,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string | Buffer][] = [
    [REPORT_FILES.json, `${JSON.stringify(data, null, 2)}\n`],
    [REPORT_FILES.markdown, renderMarkdown(data)],
    [REPORT_FILES.projection, pictures.projection],
    [REPORT_FILES.neighbours, pictures.neighbours],
    [REPORT_FILES.confusion, pictures.confusion],
  ];
  const paths: string[] = [];
  for (const [name, content] of files) {
    const p = join(dir, name);
    await writeFile(p, content);
    paths.push(p);
  }
  return paths;
}
