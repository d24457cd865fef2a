import { ValidationError } from '../errors.ts';
import { type EmbeddingHead, PLAIN_HEAD } from '../model/embeddingHead.ts';
import {
  DEFAULT_COSFACE,
  DEFAULT_PAIRED_NCE,
  DISTANCES,
  type DistanceName,
  MINERS,
  type MinerName,
  REDUCERS,
  type ReducerName,
} from '../model/losses.ts';
import {
  type Arch,
  EMBEDDING_NORMS,
  type EmbeddingNorm,
  INITS,
  type Init,
  isUnitNorm,
} from '../model/network.ts';
import { AUGMENTATIONS, type Augmentation } from './augment.ts';
import type { SamplerKind } from './sampler.ts';

/** `triplet` is the composed loss (--miner, --distance, --reducer); the other triplet names fix the miner. */
export const LOSSES = ['batch_hard', 'batch_all', 'semi_hard', 'softmax', 'cosface', 'triplet'] as const;
/** The losses over a classifier head rather than over the embeddings alone. */
export const CLASSIFIER_LOSSES: readonly LossName[] = ['softmax', 'cosface'];
export type LossName = (typeof LOSSES)[number];
export type LrSchedule = 'constant' | 'cosine';
export const DATASETS = ['fashion-mnist', 'folder'] as const;
export type DatasetKind = (typeof DATASETS)[number];
/** `auto`: the miner's own reducer (MINER_REGISTRY). */
export type ReducerChoice = ReducerName | 'auto';

export interface TrainConfig {
  loss: LossName;
  epochs: number;
  batchSize: number;
  lr: number;
  margin: number;
  /** --loss cosface: the scale s and the cosine margin m (cosFace.ts). */
  cosScale: number;
  cosMargin: number;
  /**
   * Weight λ and temperature τ of the paired-view instance loss (pairedNce.ts) beside the class loss;
   * with λ > 0 every batch is B/2 items in two independently augmented views. 0 = none.
   */
  instanceWeight: number;
  instanceTemperature: number;
  sampler: SamplerKind;
  /** P of P x K sampling; K = batchSize / P. */
  pkClasses: number;
  arch: Arch;
  init: Init;
  /** Layers after the dense 64 (see `EmbeddingNorm`): part of the saved model, so of its export and serving. */
  embeddingNorm: EmbeddingNorm;
  seed: number;
  /** Output directory, e.g. models/NAME. */
  out: string;
  /** Epochs of batch-all before a triplet loss (batch-hard collapses when trained from scratch). */
  warmupEpochs: number;
  lrSchedule: LrSchedule;
  /** AdamW's decoupled weight decay λ of the kernels (schedule.ts); 0 = Adam. */
  weightDecay: number;
  augment: Augmentation;
  /** Share of the training images replaced by product-photo renderings each step (augment.ts); 0 = none. */
  photoAugment: number;
  /** Share of the training images given a photo's contrast, blur and noise each step (augment.ts); 0 = none. */
  photometric: number;
  /** Share of the training images given a randomly erased rectangle each step (augment.ts); 0 = none. */
  erase: number;
  squared: boolean;
  /** Distance of the triplet losses; `squared: true` is the older spelling of 'squared'. */
  distance: DistanceName;
  /** Miner of --loss triplet. */
  miner: MinerName;
  /** Reducer of --loss triplet. */
  reducer: ReducerChoice;
  /** Batch-hard with softplus instead of the hinge (see TripletOptions.softMargin). */
  softMargin: boolean;
  /** Fashion-MNIST, or a shop's photos listed in `metadata` under `dir` (their categories are the labels). */
  dataset: DatasetKind;
  dir: string;
  /** items.csv or items.jsonl in the catalog import's format; relative paths are taken from `dir`. */
  metadata: string;
  /** --dataset folder: the fraction of the images held out for validation (same fixed seed as valCount). */
  valFraction: number;
  /** Use only the first N training images (tests, quick runs); 0 = all. */
  trainLimit: number;
  /** Training images held out for validation (trainValidationSplit, always with its fixed seed 42). */
  valCount: number;
  /** Use only the first N validation images for the per-epoch validation; 0 = all. */
  valLimit: number;
  /** Steps between metric lines in metrics.jsonl. */
  logEvery: number;
  /**
   * Worker threads that split each batch (src/train/parallel); 1 trains in this thread. Not part of
   * the run's identity: any count gives the same weights to float rounding, so --resume may change it.
   */
  threads: number;
  /**
   * The embedding head recorded in metadata.json with the trained weights (embeddingHead.ts), as
   * `npm run model:head` records it. Not part of the run's identity: it does not change training.
   */
  embeddingHead: EmbeddingHead;
  resume: boolean;
  /** Show the cli-progress bar on stderr. */
  progress: boolean;
  /** The command line recorded in metadata.json. */
  command: string;
}

export const DEFAULT_CONFIG: Omit<TrainConfig, 'out'> = {
  loss: 'batch_all',
  epochs: 10,
  batchSize: 128,
  lr: 1e-3,
  margin: 0.5,
  cosScale: DEFAULT_COSFACE.scale,
  cosMargin: DEFAULT_COSFACE.margin,
  instanceWeight: DEFAULT_PAIRED_NCE.weight,
  instanceTemperature: DEFAULT_PAIRED_NCE.temperature,
  sampler: 'pk',
  pkClasses: 8,
  arch: 'seed',
  init: 'glorot',
  embeddingNorm: 'none',
  seed: 42,
  warmupEpochs: 0,
  lrSchedule: 'constant',
  weightDecay: 0,
  augment: 'none',
  photoAugment: 0,
  photometric: 0,
  erase: 0,
  squared: false,
  distance: 'euclidean',
  miner: 'all',
  reducer: 'auto',
  softMargin: false,
  dataset: 'fashion-mnist',
  dir: '',
  metadata: '',
  valFraction: 0.2,
  trainLimit: 0,
  valCount: 5000,
  valLimit: 0,
  logEvery: 50,
  // The CLI defaults to the available cores; programmatic runs (tests) stay in one thread.
  threads: 1,
  embeddingHead: PLAIN_HEAD,
  resume: false,
  progress: false,
  command: '',
};

function check(ok: boolean, message: string): void {
  if (!ok) throw new ValidationError(message);
}

/** Rejects inconsistent settings up front, before minutes of data loading and training. */
export function validateConfig(c: TrainConfig): TrainConfig {
  check((LOSSES as readonly string[]).includes(c.loss), `--loss must be one of ${LOSSES.join('|')}`);
  check(c.arch === 'seed' || c.arch === 'improved', '--arch must be seed|improved');
  check(INITS.includes(c.init), `--init must be one of ${INITS.join('|')}`);
  check(
    EMBEDDING_NORMS.includes(c.embeddingNorm),
    `--embedding-norm must be one of ${EMBEDDING_NORMS.join('|')}`,
  );
  // The normalisations are there for the triplet losses' collapse; logits over unit vectors would be
  // bounded by the head's weights (cosine softmax needs a scale this option does not build).
  check(
    c.embeddingNorm === 'none' || c.loss !== 'softmax',
    '--embedding-norm applies to the triplet losses, not softmax',
  );
  // CosFace's cosines are dot products with unit class vectors: only unit embeddings make them cosines,
  // and only then does serving's euclidean search rank as the training did.
  check(
    c.loss !== 'cosface' || isUnitNorm(c.embeddingNorm),
    '--loss cosface needs --embedding-norm l2|bn-l2',
  );
  check(Number.isFinite(c.cosScale) && c.cosScale > 0, '--cos-scale must be a positive number');
  check(Number.isFinite(c.cosMargin) && c.cosMargin >= 0, '--cos-margin must be a non-negative number');
  check(
    Number.isFinite(c.instanceWeight) && c.instanceWeight >= 0,
    '--instance-weight must be a non-negative number',
  );
  check(
    Number.isFinite(c.instanceTemperature) && c.instanceTemperature > 0,
    '--instance-temperature must be a positive number',
  );
  // The pull's class vectors are the cosine head's weights, which only --loss cosface trains.
  check(c.embeddingHead.classPull === null || c.loss === 'cosface', '--class-pull needs --loss cosface');
  if (c.instanceWeight > 0) {
    // Its logits are cosines only between unit embeddings, as CosFace's.
    check(isUnitNorm(c.embeddingNorm), '--instance-weight needs --embedding-norm l2|bn-l2');
    check(c.batchSize % 2 === 0, '--instance-weight needs an even --batch (two views of each item)');
    check(c.sampler === 'random', '--instance-weight needs --sampler random');
  }
  check(c.sampler === 'pk' || c.sampler === 'random', '--sampler must be pk|random');
  check(c.lrSchedule === 'constant' || c.lrSchedule === 'cosine', '--lr-schedule must be constant|cosine');
  check(AUGMENTATIONS.includes(c.augment), `--augment must be one of ${AUGMENTATIONS.join('|')}`);
  for (const [share, flag] of [
    [c.photoAugment, '--photo-augment'],
    [c.photometric, '--photometric'],
    [c.erase, '--erase'],
  ] as const)
    check(Number.isFinite(share) && share >= 0 && share <= 1, `${flag} must be a number from 0 to 1`);
  check(Number.isInteger(c.epochs) && c.epochs >= 1, '--epochs must be a positive integer');
  check(Number.isInteger(c.batchSize) && c.batchSize >= 2, '--batch must be an integer >= 2');
  check(Number.isFinite(c.lr) && c.lr > 0, '--lr must be a positive number');
  check(Number.isFinite(c.weightDecay) && c.weightDecay >= 0, '--weight-decay must be a non-negative number');
  check(Number.isFinite(c.margin) && c.margin >= 0, '--margin must be a non-negative number');
  check(Number.isInteger(c.seed), '--seed must be an integer');
  check(
    Number.isInteger(c.warmupEpochs) && c.warmupEpochs >= 0,
    '--warmup-epochs must be a non-negative integer',
  );
  check(Number.isInteger(c.trainLimit) && c.trainLimit >= 0, '--train-limit must be a non-negative integer');
  check(Number.isInteger(c.valCount) && c.valCount >= 0, '--val-count must be a non-negative integer');
  check(Number.isInteger(c.valLimit) && c.valLimit >= 0, '--val-limit must be a non-negative integer');
  check(Number.isInteger(c.logEvery) && c.logEvery >= 1, '--log-every must be a positive integer');
  check(
    Number.isInteger(c.threads) && c.threads >= 1 && c.threads <= c.batchSize,
    '--threads must be an integer from 1 to the batch size',
  );
  check(c.out.trim() !== '', '--out is required');
  check(
    !c.softMargin || c.loss === 'batch_hard' || c.loss === 'triplet',
    '--soft-margin applies to --loss batch_hard|triplet only',
  );
  check(DISTANCES.includes(c.distance), `--distance must be one of ${DISTANCES.join('|')}`);
  check(MINERS.includes(c.miner), `--miner must be one of ${MINERS.join('|')}`);
  check(
    c.reducer === 'auto' || REDUCERS.includes(c.reducer),
    `--reducer must be one of ${REDUCERS.join('|')}`,
  );
  check(!c.squared || c.distance === 'euclidean', '--squared is --distance squared: give only one');
  check(
    c.loss === 'triplet' || (c.miner === DEFAULT_CONFIG.miner && c.reducer === DEFAULT_CONFIG.reducer),
    `--miner and --reducer apply to --loss triplet only (--loss ${c.loss} has its own)`,
  );
  check(DATASETS.includes(c.dataset), `--dataset must be one of ${DATASETS.join('|')}`);
  if (c.dataset === 'folder') {
    check(c.dir.trim() !== '' && c.metadata.trim() !== '', '--dataset folder needs --dir and --metadata');
    check(
      Number.isFinite(c.valFraction) && c.valFraction > 0 && c.valFraction < 1,
      '--val-fraction must be a number between 0 and 1',
    );
  } else {
    check(c.dir === '' && c.metadata === '', '--dir and --metadata apply to --dataset folder only');
  }
  if (c.sampler === 'pk') {
    // The upper bound is the data's class count, checked once the data is loaded.
    check(Number.isInteger(c.pkClasses) && c.pkClasses >= 2, '--pk-classes must be an integer >= 2');
    check(c.batchSize % c.pkClasses === 0, `--batch ${c.batchSize} must be a multiple of P=${c.pkClasses}`);
    check(c.batchSize / c.pkClasses >= 2, 'P x K sampling needs K >= 2 images per class');
  }
  return c;
}

/** The hyper-parameters that must match for --resume to continue the same run. */
export function runIdentity(c: TrainConfig): Record<string, unknown> {
  const {
    out: _out,
    resume: _resume,
    progress: _progress,
    command: _command,
    logEvery: _log,
    threads: _threads,
    embeddingHead: _head,
    ...rest
  } = c;
  return rest;
}

/**
 * Whether a checkpoint's identity is this run's: settings the checkpoint's version did not know
 * count as their defaults (so adding an option does not orphan older checkpoints); key order is
 * irrelevant.
 */
export function sameRunIdentity(saved: Record<string, unknown>, current: Record<string, unknown>): boolean {
  const defaults = runIdentity({ ...DEFAULT_CONFIG, out: '' });
  const keys = new Set([...Object.keys(saved), ...Object.keys(current)]);
  return [...keys].every(
    (k) => JSON.stringify(k in saved ? saved[k] : defaults[k]) === JSON.stringify(current[k]),
  );
}
