import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { AppError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { initBackend } from '../model/backend.ts';
import { headFromOptions } from '../model/embeddingHead.ts';
import { DISTANCES, type DistanceName, MINERS, type MinerName, REDUCERS } from '../model/losses.ts';
import { type Arch, EMBEDDING_NORMS, type EmbeddingNorm, type Init } from '../model/network.ts';
import { AUGMENTATIONS, type Augmentation } from '../train/augment.ts';
import {
  type DatasetKind,
  DEFAULT_CONFIG,
  LOSSES,
  type LossName,
  type LrSchedule,
  type ReducerChoice,
  type TrainConfig,
} from '../train/config.ts';
import type { SamplerKind } from '../train/sampler.ts';
import { train } from '../train/trainer.ts';

const USAGE = `Usage: npm run train -- --out models/NAME [options]
  --loss ${LOSSES.join('|')}   (default ${DEFAULT_CONFIG.loss})
  --miner ${MINERS.join('|')}   --loss triplet's miner (default ${DEFAULT_CONFIG.miner})
  --reducer ${REDUCERS.join('|')}   --loss triplet's average (default: the miner's)
  --distance ${DISTANCES.join('|')}   of the triplet losses (default ${DEFAULT_CONFIG.distance})
  --epochs N            (default ${DEFAULT_CONFIG.epochs})
  --batch N             (default ${DEFAULT_CONFIG.batchSize})
  --lr X                Adam learning rate (default ${DEFAULT_CONFIG.lr})
  --lr-schedule constant|cosine (default ${DEFAULT_CONFIG.lrSchedule})
  --weight-decay W      AdamW: decay the kernels by lr·W each step, apart from the gradient (default 0: Adam)
  --margin X            triplet margin (default ${DEFAULT_CONFIG.margin})
  --cos-scale S --cos-margin M   --loss cosface: logits s·(cos − m at the true class) over unit
                        class vectors; needs --embedding-norm l2|bn-l2 (default ${DEFAULT_CONFIG.cosScale}, ${DEFAULT_CONFIG.cosMargin})
  --instance-weight W --instance-temperature T   add W x an instance loss (NT-Xent at temperature T)
                        over two augmented views of every item, which keeps items of one category apart
                        (photos find their own item); needs --embedding-norm l2|bn-l2, --sampler random
                        and an even batch of B/2 items x 2 views (default ${DEFAULT_CONFIG.instanceWeight}, ${DEFAULT_CONFIG.instanceTemperature})
  --squared             same as --distance squared
  --soft-margin         batch_hard|triplet with softplus(d_ap - d_an) instead of the hinge (no margin)
  --dataset fashion-mnist|folder   (default ${DEFAULT_CONFIG.dataset})
  --dir DIR --metadata items.csv   --dataset folder: a shop's photos in the catalog import's format
                        (id,title,category,file; or .jsonl); the categories are the labels
  --val-fraction X      --dataset folder: share of the images held out for validation (default ${DEFAULT_CONFIG.valFraction})
  --sampler pk|random   (default ${DEFAULT_CONFIG.sampler}); --pk-classes P (default ${DEFAULT_CONFIG.pkClasses}, K = batch/P)
  --arch seed|improved  (default ${DEFAULT_CONFIG.arch})
  --init glorot|he      weight initialisation (default ${DEFAULT_CONFIG.init})
  --embedding-norm ${EMBEDDING_NORMS.join('|')}   layers after the dense 64, part of the saved model (so of
                        eval, the ONNX export and serving): l2 = unit vectors, bn = batch norm without shift
                        (BNNeck), bn-l2 = both (default ${DEFAULT_CONFIG.embeddingNorm})
  --warmup-epochs N     epochs of batch_all before a triplet loss (default 0)
  --augment ${AUGMENTATIONS.join('|')}   shifts of up to 2 pixels, and mirror images (default none)
  --photo-augment P     replace a share P of the images (0..1) by product-photo renderings brought back
                        through the serving preprocessing, as the eval's photo queries (default 0)
  --photometric P       give a share P of the images (0..1) a photo's lower contrast, blur and noise:
                        the cheap stand-in for --photo-augment, ~20 µs an image (default 0)
  --erase P             overwrite one random rectangle (2-40 % of the image) of a share P of the images
                        with noise: random erasing, Zhong et al. 2017 (default 0)
  --seed N              (default ${DEFAULT_CONFIG.seed})
  --train-limit N       use only the first N training images (default: all)
  --val-count N         validation images held out of the 60k (default ${DEFAULT_CONFIG.valCount})
  --val-limit N         validate on the first N of them only (default: all)
  --log-every N         steps between metric lines in metrics.jsonl (default ${DEFAULT_CONFIG.logEvery})
  --threads N           worker threads that split each batch, same weights to float rounding
                        (default: the available cores, ${availableParallelism()}; 1 = this thread only)
  --flip-average        record an embedding head that averages each image with its mirror image
  --class-pull W        record an embedding head that moves each embedding toward its classes' vectors
                        of the cosine head by W (> 0; --loss cosface; softmax scale: --cos-scale); both
                        as \`npm run model:head\` records them, in metadata.json and model.onnx
  --backend tensorflow|wasm|cpu   (default: TFJS_BACKEND or the fastest that loads)
  --resume              continue from models/NAME/checkpoint
  --no-progress         no progress bar`;

const log = createLogger('train-cli');

function num(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new AppError(400, 'BAD_ARGUMENT', `${flag} expects a number, got '${value}'`);
  return n;
}

/** Quotes an argument for a POSIX shell only when needed, so metadata.command can be pasted back. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

export function parseTrainArgs(argv: string[]): { config: TrainConfig; backend?: string; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      loss: { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      'lr-schedule': { type: 'string' },
      'weight-decay': { type: 'string' },
      margin: { type: 'string' },
      'cos-scale': { type: 'string' },
      'cos-margin': { type: 'string' },
      squared: { type: 'boolean' },
      distance: { type: 'string' },
      miner: { type: 'string' },
      reducer: { type: 'string' },
      dataset: { type: 'string' },
      dir: { type: 'string' },
      metadata: { type: 'string' },
      'val-fraction': { type: 'string' },
      'soft-margin': { type: 'boolean' },
      sampler: { type: 'string' },
      'pk-classes': { type: 'string' },
      arch: { type: 'string' },
      init: { type: 'string' },
      'embedding-norm': { type: 'string' },
      'warmup-epochs': { type: 'string' },
      augment: { type: 'string' },
      'photo-augment': { type: 'string' },
      photometric: { type: 'string' },
      erase: { type: 'string' },
      'instance-weight': { type: 'string' },
      'instance-temperature': { type: 'string' },
      seed: { type: 'string' },
      'train-limit': { type: 'string' },
      'val-count': { type: 'string' },
      'val-limit': { type: 'string' },
      'log-every': { type: 'string' },
      threads: { type: 'string' },
      'flip-average': { type: 'boolean' },
      'class-pull': { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const d = DEFAULT_CONFIG;
  const cosScale = num(values['cos-scale'], d.cosScale, '--cos-scale');
  const config: TrainConfig = {
    // batch-all and batch_all alike: miner names are hyphenated, and the two spellings are easily mixed.
    loss: (values.loss ?? d.loss).replaceAll('-', '_') as LossName,
    epochs: num(values.epochs, d.epochs, '--epochs'),
    batchSize: num(values.batch, d.batchSize, '--batch'),
    lr: num(values.lr, d.lr, '--lr'),
    lrSchedule: (values['lr-schedule'] ?? d.lrSchedule) as LrSchedule,
    weightDecay: num(values['weight-decay'], d.weightDecay, '--weight-decay'),
    margin: num(values.margin, d.margin, '--margin'),
    cosScale,
    cosMargin: num(values['cos-margin'], d.cosMargin, '--cos-margin'),
    instanceWeight: num(values['instance-weight'], d.instanceWeight, '--instance-weight'),
    instanceTemperature: num(values['instance-temperature'], d.instanceTemperature, '--instance-temperature'),
    squared: values.squared ?? d.squared,
    distance: (values.distance ?? d.distance) as DistanceName,
    miner: (values.miner ?? d.miner) as MinerName,
    reducer: (values.reducer ?? d.reducer) as ReducerChoice,
    softMargin: values['soft-margin'] ?? d.softMargin,
    dataset: (values.dataset ?? d.dataset) as DatasetKind,
    dir: values.dir ?? d.dir,
    metadata: values.metadata ?? d.metadata,
    valFraction: num(values['val-fraction'], d.valFraction, '--val-fraction'),
    sampler: (values.sampler ?? d.sampler) as SamplerKind,
    pkClasses: num(values['pk-classes'], d.pkClasses, '--pk-classes'),
    arch: (values.arch ?? d.arch) as Arch,
    init: (values.init ?? d.init) as Init,
    embeddingNorm: (values['embedding-norm'] ?? d.embeddingNorm) as EmbeddingNorm,
    warmupEpochs: num(values['warmup-epochs'], d.warmupEpochs, '--warmup-epochs'),
    augment: (values.augment ?? d.augment) as Augmentation,
    photoAugment: num(values['photo-augment'], d.photoAugment, '--photo-augment'),
    photometric: num(values.photometric, d.photometric, '--photometric'),
    erase: num(values.erase, d.erase, '--erase'),
    seed: num(values.seed, d.seed, '--seed'),
    trainLimit: num(values['train-limit'], d.trainLimit, '--train-limit'),
    valCount: num(values['val-count'], d.valCount, '--val-count'),
    valLimit: num(values['val-limit'], d.valLimit, '--val-limit'),
    logEvery: num(values['log-every'], d.logEvery, '--log-every'),
    // A tiny batch cannot feed every core: the default never exceeds it.
    threads: num(
      values.threads,
      Math.min(availableParallelism(), num(values.batch, d.batchSize, '--batch')),
      '--threads',
    ),
    embeddingHead: headFromOptions(
      values['flip-average'] ?? false,
      values['class-pull'] === undefined
        ? null
        : { weight: num(values['class-pull'], 0, '--class-pull'), scale: cosScale },
      '--flip-average / --class-pull',
    ),
    out: values.out ?? '',
    resume: values.resume ?? false,
    progress: !(values['no-progress'] ?? false),
    command: ['npm', 'run', 'train', '--', ...argv].map(shellQuote).join(' '),
  };
  return { config, backend: values.backend, help: values.help ?? false };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseTrainArgs>;
  try {
    parsed = parseTrainArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  await initBackend(parsed.backend);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130); // a second Ctrl-C does not wait for the checkpoint
    log.warn('SIGINT: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const result = await train(parsed.config, { signal: controller.signal });
  process.off('SIGINT', onSigint);
  const last = result.history.at(-1);
  process.stdout.write(
    `${JSON.stringify({
      out: result.outDir,
      interrupted: result.interrupted,
      epochs: result.epochs,
      backend: result.backend,
      wallTimeSeconds: Math.round(result.wallTimeSeconds * 10) / 10,
      finalTrainLoss: last?.train.loss ?? null,
      finalValidation: last?.validation ?? null,
    })}\n`,
  );
  if (result.interrupted) process.exitCode = 130;
}

main().catch((err: unknown) => {
  if (err instanceof AppError) {
    log.error({ code: err.code }, err.message);
    process.stderr.write(`error: ${err.message}\n`);
  } else {
    log.error({ err }, 'training failed');
  }
  process.exit(1);
});
