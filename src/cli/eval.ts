import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/env.ts';
import { loadFashionMnist } from '../data/fashionMnist.ts';
import { RAW_PIXELS } from '../eval/evaluate.ts';
import { DEFAULT_PHOTO_COUNT, DEFAULT_PHOTO_SEED } from '../eval/photoEval.ts';
import { runEvaluation } from '../eval/run.ts';
import { heldOutCount, VALIDATION_SPLIT_NAMES, validationData } from '../eval/validationSplit.ts';
import { createLogger } from '../log.ts';
import { engineOptions } from '../model/engine.ts';

const USAGE = `Usage: npm run eval -- --model models/NAME [options]
       npm run eval -- --model models/NAME --validation --out DIR [options]
       npm run eval -- --raw --out DIR [options]

Evaluates an embedding by exact euclidean search: the 10,000 test images as queries against the
60,000 training images, and leave-one-out within the test set; raw pixels as the baseline.
Writes report.json, report.md, projection.png, neighbours.png and confusion.png next to the model.

Options:
  --model DIR           saved model directory (model.json, weights.bin, metadata.json)
  --raw                 evaluate raw pixels (784-d) instead of a model; needs --out
  --out DIR             report directory (default: the model directory)
  --query-limit N       use the first N test images as queries
  --gallery-limit N     use the first N training images as gallery
  --projection-points N test embeddings in the UMAP picture (default 2000)
  --baseline auto|compute|none
                        raw-pixel baseline: auto = cached in reports/baseline-raw-pixels.json for
                        full-size runs (default), compute = always recompute, none = skip
  --workers N           search threads (default min(2, cores))
  --seed N              UMAP seed (default 42)
  --photos N            product-photo queries rendered from the test images (default 1000, 0 = none):
                        category P@10 photo vs clean, exact-item recall@10 in the test and test+train catalogs
  --photo-seed N        seed of the photo generator (default 42)
  --validation          the images the model's training held out of the 60,000 (metadata.json) as queries
                        and photos, the images it trained on as gallery: for choosing settings without the
                        test split; needs --out
`;

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${v}'`);
  return n;
}

async function main(): Promise<void> {
  const log = createLogger('eval');
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      raw: { type: 'boolean', default: false },
      out: { type: 'string' },
      'query-limit': { type: 'string' },
      'gallery-limit': { type: 'string' },
      'projection-points': { type: 'string' },
      baseline: { type: 'string', default: 'auto' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      photos: { type: 'string' },
      'photo-seed': { type: 'string' },
      validation: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const needsOut = values.raw || values.validation;
  if (
    values.help ||
    (!values.model && !values.raw) ||
    (needsOut && !values.out) ||
    (values.raw && values.validation)
  ) {
    process.stderr.write(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const baseline = values.baseline;
  if (baseline !== 'auto' && baseline !== 'compute' && baseline !== 'none') {
    throw new Error(`--baseline must be auto, compute or none, got '${baseline}'`);
  }
  const common = {
    command: `npm run eval -- ${process.argv.slice(2).join(' ')}`,
    queryLimit: positiveInt('query-limit', values['query-limit']),
    galleryLimit: positiveInt('gallery-limit', values['gallery-limit']),
    projectionPoints: positiveInt('projection-points', values['projection-points']),
    workers: positiveInt('workers', values.workers),
    seed: positiveInt('seed', values.seed),
    photos: {
      count: positiveInt('photos', values.photos) ?? DEFAULT_PHOTO_COUNT,
      seed: positiveInt('photo-seed', values['photo-seed']) ?? DEFAULT_PHOTO_SEED,
    },
    baseline,
    log,
  } as const;
  if (values.raw) {
    await runEvaluation({
      ...common,
      source: RAW_PIXELS,
      outDir: resolve(values.out!),
      title: 'Raw pixels (784-d)',
    });
    return;
  }
  const { loadModelSource } = await import('../eval/modelSource.ts');
  const model = await loadModelSource(values.model!, engineOptions(loadConfig(), availableParallelism()));
  try {
    const split = values.validation
      ? {
          data: validationData(await loadFashionMnist(), heldOutCount(model.metadata)),
          names: VALIDATION_SPLIT_NAMES,
        }
      : {};
    await runEvaluation({
      ...common,
      ...split,
      source: model.source,
      outDir: resolve(values.out ?? model.dir),
      title: `Evaluation of model ${basename(model.dir)}${values.validation ? ' on its validation split' : ''}`,
      model: { dir: values.model!, metadata: model.metadata },
    });
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  createLogger('eval').error({ err }, 'evaluation failed');
  process.exitCode = 1;
});
