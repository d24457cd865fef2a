import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/env.ts';
import { CLASS_NAMES } from '../data/classes.ts';
import { loadFashionMnist } from '../data/fashionMnist.ts';
import {
  type ExperimentConfig,
  parseExperimentConfig,
  renderComparisonMarkdown,
  selectVariants,
  trainArgv,
  type Variant,
  type VariantResult,
} from '../eval/experiment.ts';
import { loadModelSource } from '../eval/modelSource.ts';
import { combineSideBySide, renderProjectionPng } from '../eval/pictures.ts';
import type { ReportData } from '../eval/report.ts';
import { runEvaluation } from '../eval/run.ts';
import { createLogger } from '../log.ts';
import { engineOptions } from '../model/engine.ts';
import { PROJECT_ROOT } from '../paths.ts';

const ROOT = PROJECT_ROOT;
const log = createLogger('experiment');

const USAGE = `Usage: npm run experiment -- --config experiments/NAME.json [options]

Trains each variant with \`npm run train\` (same seed and budget), evaluates it like \`npm run eval\`
(report next to the model) and writes the comparison report named in the config.

Options:
  --config FILE       experiment file (JSON)
  --only A,B          run only these variants (main or extra)
  --with-extra        also run the config's extraVariants
  --retrain           train again even if the model directory already holds a finished model
  --query-limit N     evaluate on the first N test images (quick runs)
  --gallery-limit N   ... against the first N training images
  --report FILE       write the comparison here instead of the config's report path
  --from-reports      train and evaluate nothing: build the comparison from each variant's report.json,
                      metadata.json and projection.png, as an earlier run (one variant at a time) left them
`;

interface TrainedMarker {
  argv: string[];
}

/** A model counts as trained for these arguments when it has its metadata and our marker matches. */
async function alreadyTrained(modelDir: string, argv: string[]): Promise<boolean> {
  const marker = join(modelDir, 'experiment-train.json');
  if (!existsSync(join(modelDir, 'metadata.json')) || !existsSync(marker)) return false;
  const m = JSON.parse(await readFile(marker, 'utf8')) as TrainedMarker;
  return JSON.stringify(m.argv) === JSON.stringify(argv);
}

/** `npm run train` as a child process: a crash or leak in training cannot take the experiment down with it. */
function runTrain(argv: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const tsxCli = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const child = spawn(process.execPath, [tsxCli, join(ROOT, 'src', 'cli', 'train.ts'), ...argv], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(`training exited with ${signal ?? `code ${code}`}: npm run train -- ${argv.join(' ')}`),
        );
    });
  });
}

interface Metadata {
  epochs?: number;
  wallTimeSeconds?: number;
  command?: string;
}

function variantResult(
  variant: Variant,
  modelDir: string,
  argv: string[],
  reportDir: string,
  report: ReportData,
  meta: Metadata,
): VariantResult {
  return {
    variant,
    modelDir,
    reportLink: relative(reportDir, join(resolve(ROOT, modelDir), 'report.md')),
    trainCommand: meta.command ?? `npm run train -- ${argv.join(' ')}`,
    trainSeconds: meta.wallTimeSeconds ?? null,
    epochs: meta.epochs ?? null,
    testVsTrain: report.embedding.testVsTrain.overall,
    leaveOneOut: report.embedding.leaveOneOut.overall,
    meanNearestDistance: report.embedding.testVsTrain.meanNearestDistance,
    stats: report.embedding.stats ?? null,
  };
}

/** A variant as an earlier run left it: trained with these arguments and evaluated (--from-reports). */
async function readVariant(
  config: ExperimentConfig,
  variant: Variant,
  reportDir: string,
): Promise<{ result: VariantResult; projection: Buffer }> {
  const modelDir = join(config.modelsDir, variant.name);
  const argv = trainArgv(config, variant, modelDir);
  const absDir = resolve(ROOT, modelDir);
  if (!(await alreadyTrained(absDir, argv)) || !existsSync(join(absDir, 'report.json')))
    throw new Error(`--from-reports: ${modelDir} holds no model trained with these arguments and evaluated`);
  const read = async (name: string) => JSON.parse(await readFile(join(absDir, name), 'utf8')) as unknown;
  const report = (await read('report.json')) as ReportData;
  const meta = (await read('metadata.json')) as Metadata;
  return {
    projection: await readFile(join(absDir, 'projection.png')),
    result: variantResult(variant, modelDir, argv, reportDir, report, meta),
  };
}

async function runVariant(
  config: ExperimentConfig,
  variant: Variant,
  opts: { retrain: boolean; queryLimit?: number; galleryLimit?: number; reportDir: string },
  data: Awaited<ReturnType<typeof loadFashionMnist>>,
): Promise<{ result: VariantResult; projection: Buffer }> {
  const modelDir = join(config.modelsDir, variant.name);
  const argv = trainArgv(config, variant, modelDir);
  const absDir = resolve(ROOT, modelDir);
  if (opts.retrain || !(await alreadyTrained(absDir, argv))) {
    log.info({ variant: variant.name, argv }, 'training');
    await runTrain(argv);
    await writeFile(join(absDir, 'experiment-train.json'), `${JSON.stringify({ argv }, null, 2)}\n`);
  } else {
    log.info({ variant: variant.name, modelDir }, 'already trained with these arguments; evaluating');
  }
  const model = await loadModelSource(absDir, engineOptions(loadConfig(), availableParallelism()));
  try {
    const { report, projection } = await runEvaluation({
      source: model.source,
      outDir: absDir,
      title: `Evaluation of model ${variant.name}`,
      command: `npm run eval -- --model ${modelDir}`,
      model: { dir: modelDir, metadata: model.metadata },
      queryLimit: opts.queryLimit,
      galleryLimit: opts.galleryLimit,
      projectionPoints: config.eval?.projectionPoints,
      data,
      log,
    });
    const meta = model.metadata as Metadata;
    const o = report.embedding.testVsTrain.overall;
    const png = await renderProjectionPng(
      projection.points,
      projection.labels,
      CLASS_NAMES,
      `MAP@R ${o.mapAtR.toFixed(3)} · P@1 ${o.precisionAt1.toFixed(3)} · kNN ${o.knnAccuracy.toFixed(3)}`,
    );
    return { projection: png, result: variantResult(variant, modelDir, argv, opts.reportDir, report, meta) };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      only: { type: 'string' },
      'with-extra': { type: 'boolean', default: false },
      retrain: { type: 'boolean', default: false },
      'query-limit': { type: 'string' },
      'gallery-limit': { type: 'string' },
      report: { type: 'string' },
      'from-reports': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.config) {
    process.stderr.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const limit = (v: string | undefined) => (v === undefined ? undefined : Number.parseInt(v, 10));
  const config = parseExperimentConfig(JSON.parse(await readFile(values.config, 'utf8')));
  const variants = selectVariants(config, values.only?.split(','), values['with-extra']);
  const reportPath = resolve(ROOT, values.report ?? config.report);
  const reportDir = dirname(reportPath);
  await mkdir(reportDir, { recursive: true });
  const queryLimit = limit(values['query-limit']) ?? config.eval?.queryLimit;
  const galleryLimit = limit(values['gallery-limit']) ?? config.eval?.galleryLimit;
  const fromReports = values['from-reports'];
  const data = fromReports ? undefined : await loadFashionMnist();

  const results: VariantResult[] = [];
  const projections: { png: Buffer; caption: string }[] = [];
  for (const variant of variants) {
    const { result, projection } = data
      ? await runVariant(
          config,
          variant,
          { retrain: values.retrain, queryLimit, galleryLimit, reportDir },
          data,
        )
      : await readVariant(config, variant, reportDir);
    results.push(result);
    projections.push({ png: projection, caption: variant.name });
    log.info({ variant: variant.name, testVsTrain: result.testVsTrain }, 'variant done');
  }

  const projectionsName = `${basename(reportPath, '.md')}-projections.png`;
  await writeFile(join(reportDir, projectionsName), await combineSideBySide(projections));
  const baselineReport = JSON.parse(
    await readFile(join(resolve(ROOT, results[0].modelDir), 'report.json'), 'utf8'),
  ) as ReportData;
  const markdown = renderComparisonMarkdown({
    config,
    command: `npm run experiment -- ${process.argv.slice(2).join(' ')}`,
    createdAt: new Date().toISOString(),
    results,
    baseline: baselineReport.baseline
      ? {
          name: baselineReport.baseline.name,
          testVsTrain: baselineReport.baseline.testVsTrain.overall,
          leaveOneOut: baselineReport.baseline.leaveOneOut.overall,
        }
      : null,
    projectionsFile: projectionsName,
    queryCount: baselineReport.data.queryCount,
    galleryCount: baselineReport.data.galleryCount,
  });
  await writeFile(reportPath, markdown);
  log.info({ report: reportPath, variants: results.map((r) => r.variant.name) }, 'comparison written');
}

main().catch((err: unknown) => {
  log.error({ err }, 'experiment failed');
  process.exitCode = 1;
});
