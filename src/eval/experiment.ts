import { ValidationError } from '../errors.ts';
import type { EmbeddingStats } from './evaluate.ts';
import type { MetricSet } from './metrics.ts';
import { comparisonTable, METRIC_DEFINITIONS } from './report.ts';

/** Training flags of `npm run train`, without the leading dashes, e.g. { loss: 'softmax', epochs: 6 }. */
export type TrainArgs = Record<string, string | number | boolean>;

export interface Variant {
  name: string;
  /** Merged over the experiment's `common` flags. */
  train: TrainArgs;
  description?: string;
}

export interface ExperimentConfig {
  name: string;
  description?: string;
  /** Models go to modelsDir/<variant name>. */
  modelsDir: string;
  /** The comparison report (markdown); pictures are written beside it. */
  report: string;
  common: TrainArgs;
  variants: Variant[];
  /** Further variants (e.g. the batch-hard collapse study), run with --with-extra or named by --only. */
  extraVariants?: Variant[];
  eval?: { queryLimit?: number; galleryLimit?: number; projectionPoints?: number };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkVariant(v: unknown, where: string): Variant {
  const o = v as Partial<Variant> | null;
  if (!o || typeof o !== 'object') throw new ValidationError(`${where}: must be an object`);
  if (typeof o.name !== 'string' || !NAME.test(o.name)) {
    throw new ValidationError(`${where}: name must match ${NAME} (it becomes a directory name)`);
  }
  checkArgs(o.train, `${where}.train`);
  if (o.train!.out !== undefined) throw new ValidationError(`${where}.train: 'out' is set by the experiment`);
  return o as Variant;
}

function checkArgs(a: unknown, where: string): void {
  if (!a || typeof a !== 'object' || Array.isArray(a))
    throw new ValidationError(`${where}: must be an object`);
  for (const [k, v] of Object.entries(a)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) {
      throw new ValidationError(`${where}.${k}: must be a string, number or boolean`);
    }
  }
}

/** Validates a parsed experiment file; names must be unique across variants and extra variants. */
export function parseExperimentConfig(raw: unknown): ExperimentConfig {
  const c = raw as Partial<ExperimentConfig> | null;
  if (!c || typeof c !== 'object') throw new ValidationError('experiment config must be a JSON object');
  for (const key of ['name', 'modelsDir', 'report'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '')
      throw new ValidationError(`config.${key} must be a string`);
  }
  checkArgs(c.common ?? {}, 'config.common');
  if (!Array.isArray(c.variants) || c.variants.length === 0) {
    throw new ValidationError('config.variants must be a non-empty array');
  }
  const variants = c.variants.map((v, i) => checkVariant(v, `config.variants[${i}]`));
  const extra = (c.extraVariants ?? []).map((v, i) => checkVariant(v, `config.extraVariants[${i}]`));
  const names = [...variants, ...extra].map((v) => v.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ValidationError(`variant name '${dup}' is used twice`);
  return { ...(c as ExperimentConfig), common: c.common ?? {}, variants, extraVariants: extra };
}

/** The `npm run train` arguments of a variant: common flags, then the variant's, then --out. */
export function trainArgv(config: ExperimentConfig, variant: Variant, out: string): string[] {
  const merged: TrainArgs = { ...config.common, ...variant.train };
  const argv: string[] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (v === false) continue;
    argv.push(`--${k}`);
    if (v !== true) argv.push(String(v));
  }
  argv.push('--out', out);
  return argv;
}

/** The variants to run: all main ones (plus extras with `withExtra`), or exactly those named in `only`. */
export function selectVariants(
  config: ExperimentConfig,
  only: string[] | undefined,
  withExtra: boolean,
): Variant[] {
  const all = [...config.variants, ...(config.extraVariants ?? [])];
  if (only && only.length > 0) {
    return only.map((n) => {
      const v = all.find((x) => x.name === n);
      if (!v)
        throw new ValidationError(`no variant named '${n}' (have: ${all.map((x) => x.name).join(', ')})`);
      return v;
    });
  }
  return withExtra ? all : config.variants;
}

export interface VariantResult {
  variant: Variant;
  modelDir: string;
  /** Relative link to the variant's own evaluation report. */
  reportLink: string;
  trainCommand: string;
  trainSeconds: number | null;
  epochs: number | null;
  testVsTrain: MetricSet;
  leaveOneOut: MetricSet;
  /** Spread of the embedding: mean distance to the nearest training item (a collapsed one is near 0). */
  meanNearestDistance: number;
  /** Mean norm and mean per-dimension standard deviation of the test embeddings. */
  stats: EmbeddingStats | null;
}

export interface ComparisonInput {
  config: ExperimentConfig;
  command: string;
  createdAt: string;
  results: VariantResult[];
  baseline: { name: string; testVsTrain: MetricSet; leaveOneOut: MetricSet } | null;
  projectionsFile: string | null;
  queryCount: number;
  galleryCount: number;
}

const f3 = (x: number) => x.toFixed(3);

/** A sentence comparing the triplet variants with softmax on MAP@R, whichever way it comes out. */
export function verdict(results: VariantResult[]): string {
  const softmax = results.find((r) => r.variant.train.loss === 'softmax');
  const triplets = results.filter(
    (r) => r.variant.train.loss !== 'softmax' && r.variant.train.loss !== undefined,
  );
  if (!softmax || triplets.length === 0) return '';
  const parts = triplets.map((t) => {
    const d = t.testVsTrain.mapAtR - softmax.testVsTrain.mapAtR;
    const rel = d >= 0 ? 'ahead of' : 'behind';
    return `${t.variant.name} is ${rel} softmax on MAP@R by ${f3(Math.abs(d))} (${f3(t.testVsTrain.mapAtR)} vs ${f3(softmax.testVsTrain.mapAtR)})`;
  });
  return `On the test→train retrieval, ${parts.join('; ')}.`;
}

export function renderComparisonMarkdown(input: ComparisonInput): string {
  const { config, results, baseline } = input;
  const rows = (key: 'testVsTrain' | 'leaveOneOut') => [
    ...results.map((r) => ({ name: r.variant.name, metrics: r[key] })),
    ...(baseline ? [{ name: `${baseline.name} (no learning)`, metrics: baseline[key] }] : []),
  ];
  const out = [
    `# Experiment: ${config.name}`,
    '',
    ...(config.description ? [config.description, ''] : []),
    `Generated ${input.createdAt} by \`${input.command}\`.`,
    '',
    `## Retrieval: ${input.queryCount} test queries against ${input.galleryCount} training images`,
    '',
    comparisonTable(rows('testVsTrain')),
    '',
    verdict(results),
    '',
    `## Leave-one-out within the ${input.queryCount} test images`,
    '',
    comparisonTable(rows('leaveOneOut')),
    '',
    METRIC_DEFINITIONS,
    '',
  ];
  if (input.projectionsFile) {
    out.push(
      '## UMAP projections of the test embeddings',
      '',
      `![projections](${input.projectionsFile})`,
      '',
    );
  }
  out.push(
    '## Variants',
    '',
    '| variant | training | epochs | training time (s) | mean norm | per-dim std / mean norm | mean distance to nearest neighbour | report |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const norm = r.stats ? r.stats.meanNorm.toPrecision(3) : '?';
      const spread = r.stats ? (r.stats.meanDimStd / r.stats.meanNorm).toPrecision(3) : '?';
      const time = r.trainSeconds === null ? '?' : r.trainSeconds.toFixed(0);
      return `| ${r.variant.name} | \`${r.trainCommand}\` | ${r.epochs ?? '?'} | ${time} | ${norm} | ${spread} | ${r.meanNearestDistance.toPrecision(3)} | [report](${r.reportLink}) |`;
    }),
    '',
    'Same seed and training budget for every variant (the flags above). The last three columns are computed',
    'on the test embeddings: a per-dimension spread that is tiny next to the norm, and nearest neighbours at',
    'distance ~0, mean the embedding has collapsed towards a point (its ranks are then mostly ties).',
    '',
  );
  return out.join('\n');
}
