import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { CLASS_NAMES } from '../data/classes.ts';
import { loadFashionMnist } from '../data/fashionMnist.ts';
import { loadFolderDataset } from '../data/folderDataset.ts';
import { subsetImageSet, trainValidationSplit } from '../data/split.ts';
import type { FashionMnist, ImageSet } from '../data/types.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { ensureBackend } from '../model/backend.ts';
import { EMBEDDING_HEAD_KEY, isPlainHead } from '../model/embeddingHead.ts';
import { saveModel, writeFileAtomic } from '../model/modelIo.ts';
import { buildNetwork, EMBEDDING_DIM } from '../model/network.ts';
import { exportOnnx } from '../model/onnx/export.ts';
import { embeddingMetricsTensor, unpackMetrics } from '../model/trainMetrics.ts';
import { stepAugmentation } from './augment.ts';
import { BatchBuilder, pairedViews } from './batches.ts';
import { loadCheckpoint, removeCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.ts';
import {
  CLASSIFIER_LOSSES,
  type LossName,
  runIdentity,
  sameRunIdentity,
  type TrainConfig,
  validateConfig,
} from './config.ts';
import { computeLoss, type Forward, forward, trainingView } from './objective.ts';
import { startDataParallel } from './parallel/dataParallel.ts';
import { createProgress } from './progress.ts';
import { type EpochRecord, MetricAccumulator, type MetricSummary, type StepRecord } from './records.ts';
import { type BatchSampler, epochSeed, pkSampler, randomSampler } from './sampler.ts';
import { learningRateAt, ScheduledAdam } from './schedule.ts';
import { validate } from './validation.ts';

const log = createLogger('train');

/** The epochSeed stream of the miners' sampling (augment.ts has the augmentations' streams). */
const MINING_STREAM = 0x40000000;

export interface TrainResult {
  outDir: string;
  /** Completed epochs. */
  epochs: number;
  /** True when stopped by the signal: a checkpoint was written and --resume continues. */
  interrupted: boolean;
  backend: string;
  wallTimeSeconds: number;
  history: EpochRecord[];
  /** sha256 of the saved weights.bin (empty when interrupted). */
  weightsSha256: string;
  /** The trained model, still in memory; the caller disposes it. */
  model: tfl.LayersModel;
}

export interface TrainDeps {
  /** Preloaded dataset (tests); loaded with loadFashionMnist() otherwise. */
  data?: FashionMnist;
  /** Aborting stops after the current step, writes a checkpoint and returns `interrupted`. */
  signal?: AbortSignal;
}

/** Which loss an epoch optimises: batch-all during the warm-up of a triplet loss. */
export function lossForEpoch(config: TrainConfig, epoch: number): LossName {
  return !CLASSIFIER_LOSSES.includes(config.loss) && epoch < config.warmupEpochs ? 'batch_all' : config.loss;
}

function makeSampler(config: TrainConfig, train: ImageSet): BatchSampler {
  return config.sampler === 'pk'
    ? pkSampler(train.labels, config.pkClasses, config.batchSize / config.pkClasses, config.seed)
    : randomSampler(train.count, config.batchSize, config.seed);
}

/** What training reads, whichever the dataset: the labelled images, their class names and checksums. */
interface TrainingData {
  train: ImageSet;
  categories: readonly string[];
  checksums: Record<string, string>;
}

async function loadTrainingData(config: TrainConfig, preloaded?: FashionMnist): Promise<TrainingData> {
  if (config.dataset === 'folder') {
    const shop = await loadFolderDataset({ dir: config.dir, metadata: config.metadata });
    return { train: shop.set, categories: shop.categories, checksums: shop.checksums };
  }
  const data = preloaded ?? (await loadFashionMnist());
  return { train: data.train, categories: CLASS_NAMES, checksums: data.checksums };
}

function prepareData(config: TrainConfig, data: TrainingData): { train: ImageSet; validation: ImageSet } {
  const valCount =
    config.dataset === 'folder' ? Math.round(data.train.count * config.valFraction) : config.valCount;
  // The validation split keeps its own fixed seed: every run, whatever its --seed, selects models on the same images.
  const split = trainValidationSplit(data.train, valCount);
  const limit = (set: ImageSet, n: number) =>
    n > 0 && n < set.count
      ? subsetImageSet(
          set,
          Uint32Array.from({ length: n }, (_, i) => i),
        )
      : set;
  return {
    train: limit(split.train, config.trainLimit),
    validation: limit(split.validation, config.valLimit),
  };
}

/** Trains per `config` and writes model.json, weights.bin, metadata.json and metrics.jsonl to `config.out`. */
export async function train(rawConfig: TrainConfig, deps: TrainDeps = {}): Promise<TrainResult> {
  const config = validateConfig(rawConfig);
  const backend = await ensureBackend();
  const data = await loadTrainingData(config, deps.data);
  const { train: trainSet, validation } = prepareData(config, data);
  if (validation.count < 2)
    throw new ValidationError('validation needs at least 2 images (--val-count, --val-fraction)');
  const trainClasses = new Set(trainSet.labels).size;
  if (config.sampler === 'pk' && config.pkClasses > trainClasses) {
    throw new ValidationError(
      `P x K sampling needs --pk-classes ${config.pkClasses} <= the ${trainClasses} classes of the training images`,
    );
  }
  await mkdir(config.out, { recursive: true });
  const metricsPath = join(config.out, 'metrics.jsonl');
  const identity = runIdentity(config);
  const lossOpts = {
    margin: config.margin,
    squared: config.squared,
    distance: config.distance,
    softMargin: config.softMargin,
    miner: config.miner,
    reducer: config.reducer === 'auto' ? undefined : config.reducer,
    cosFace: { scale: config.cosScale, margin: config.cosMargin },
  };
  const rowsOf = (indices: ArrayLike<number>) => (config.instanceWeight > 0 ? pairedViews(indices) : indices);
  const trainLossOpts = {
    ...lossOpts,
    instance: { weight: config.instanceWeight, temperature: config.instanceTemperature },
  };
  const head = config.loss === 'softmax' ? 'softmax' : config.loss === 'cosface' ? 'cosine' : 'embedding';

  let model: tfl.LayersModel;
  let state: TrainState;
  const optimizer = new ScheduledAdam(config.lr, { weightDecay: config.weightDecay });
  const checkpoint = config.resume ? await loadCheckpoint(config.out) : null;
  if (config.resume && !checkpoint) throw new ValidationError(`--resume: no checkpoint in ${config.out}`);
  if (checkpoint) {
    if (!sameRunIdentity(checkpoint.state.identity, identity)) {
      throw new ValidationError(
        `--resume: the checkpoint in ${config.out} was written with other settings: ${JSON.stringify(checkpoint.state.identity)}`,
      );
    }
    if (checkpoint.state.backend !== backend) {
      log.warn(
        { was: checkpoint.state.backend, now: backend },
        'resuming on another backend: results may differ slightly',
      );
    }
    model = checkpoint.model;
    await optimizer.setWeights(checkpoint.optimizerWeights);
    tf.dispose(checkpoint.optimizerWeights.map((w) => w.tensor));
    state = checkpoint.state;
    log.info({ epoch: state.epoch, step: state.step }, 'resuming from checkpoint');
  } else {
    model = buildNetwork({
      arch: config.arch,
      head,
      seed: config.seed,
      init: config.init,
      embeddingNorm: config.embeddingNorm,
      classes: data.categories.length,
    });
    state = { epoch: 0, step: 0, globalStep: 0, wallTimeSeconds: 0, history: [], identity, backend };
    await writeFile(metricsPath, '');
  }

  const view = trainingView(model);
  // Adam's state is positional: always pass the gradients in this fixed order.
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const sampler = makeSampler(config, trainSet);
  const totalSteps = sampler.batchesPerEpoch * config.epochs;
  const builder = new BatchBuilder(Math.max(config.batchSize, 2));
  const progress = createProgress(config.progress);
  const started = performance.now() - state.wallTimeSeconds * 1000;
  const elapsed = () => (performance.now() - started) / 1000;
  let interrupted = false;

  log.info(
    {
      backend,
      train: trainSet.count,
      validation: validation.count,
      stepsPerEpoch: sampler.batchesPerEpoch,
      params: model.countParams(),
      ...identity,
    },
    'training',
  );

  // The same gradients from worker threads, each computing its rows of every batch.
  const parallel =
    config.threads > 1
      ? await startDataParallel(view, { threads: config.threads, maxBatch: config.batchSize, backend })
      : undefined;
  try {
    while (state.epoch < config.epochs && !interrupted) {
      const epoch = state.epoch;
      const lossName = lossForEpoch(config, epoch);
      const epochAcc = new MetricAccumulator();
      let epochLossSum = 0;
      let epochSteps = 0;
      let lr = config.lr;
      const epochStart = performance.now();
      let windowStart = performance.now();
      let windowImages = 0;
      let lastFpos = Number.NaN;
      progress.startEpoch(epoch, config.epochs, sampler.batchesPerEpoch, state.step);

      let step = 0;
      for (const indices of sampler.epoch(epoch)) {
        if (step < state.step) {
          step++; // replaying the sampler up to where an interrupted epoch stopped
          continue;
        }
        const augment = stepAugmentation(config, epoch, step);
        lr = learningRateAt(config.lrSchedule, config.lr, state.globalStep, totalSteps);
        optimizer.setLearningRate(lr);
        const wantMetrics = (state.globalStep + 1) % config.logEvery === 0;
        // Sampling miners draw from a stream of their own per step, so resuming mid-epoch replays it.
        const stepOpts = { ...trainLossOpts, seed: epochSeed(config.seed, epoch, MINING_STREAM + step) };

        const { lossValue, metrics } = tf.tidy(() => {
          const { xs, labels } = builder.build(trainSet, rowsOf(indices), augment);
          let embedding: tf.Tensor2D | undefined;
          let fpos: number | undefined;
          const lossOf = (out: Forward) => {
            const res = computeLoss(lossName, labels, out, stepOpts);
            if (wantMetrics) embedding = tf.keep(out.embedding);
            fpos = res.fractionPositive;
            return res.loss;
          };
          const { value, grads } = parallel
            ? parallel.variableGrads(xs, lossOf)
            : tf.variableGrads(() => lossOf(forward(view, xs, true)), variables);
          optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
          const values = embedding
            ? embeddingMetricsTensor(labels, embedding, lossOpts).dataSync()
            : undefined;
          // Kept past variableGrads' scope, so it needs an explicit dispose.
          embedding?.dispose();
          return { lossValue: value.dataSync()[0], metrics: { values, fpos } };
        });

        if (!Number.isFinite(lossValue))
          throw new Error(`loss became ${lossValue} at epoch ${epoch + 1}, step ${step}`);
        epochLossSum += lossValue;
        epochSteps++;
        windowImages += indices.length;
        if (metrics.fpos !== undefined) lastFpos = metrics.fpos;
        step++;
        state.step = step;
        state.globalStep++;

        if (metrics.values) {
          const summary: MetricSummary = { loss: lossValue, ...unpackMetrics(metrics.values) };
          lastFpos = summary.fractionPositive;
          epochAcc.add(summary);
          const now = performance.now();
          const record: StepRecord = {
            type: 'step',
            epoch: epoch + 1,
            step,
            globalStep: state.globalStep,
            lossName,
            lr,
            imagesPerSecond: (windowImages * 1000) / (now - windowStart),
            ...summary,
          };
          await appendFile(metricsPath, `${JSON.stringify(record)}\n`);
          windowStart = now;
          windowImages = 0;
        }
        progress.update(step, {
          loss: lossValue,
          fpos: lastFpos,
          ips: (windowImages * 1000) / Math.max(performance.now() - windowStart, 1),
        });
        // Lets SIGINT handlers and the progress bar's timer run between synchronous tfjs steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (deps.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;

      const seconds = (performance.now() - epochStart) / 1000;
      const stepMeans = epochAcc.mean();
      const record: EpochRecord = {
        type: 'epoch',
        epoch: epoch + 1,
        lossName,
        lr,
        train: { ...stepMeans, loss: epochLossSum / Math.max(epochSteps, 1) },
        validation: validate(view, validation, config.batchSize, lossName, lossOpts, builder),
        seconds,
        imagesPerSecond: (epochSteps * config.batchSize) / seconds,
      };
      await appendFile(metricsPath, `${JSON.stringify(record)}\n`);
      state.history.push(record);
      state.epoch++;
      state.step = 0;
      progress.stop();
      log.info(
        {
          epoch: record.epoch,
          loss: record.train.loss,
          valLoss: record.validation.loss,
          valFractionPositive: record.validation.fractionPositive,
          imagesPerSecond: Math.round(record.imagesPerSecond),
        },
        'epoch done',
      );
      state.wallTimeSeconds = elapsed();
      if (state.epoch < config.epochs) await saveCheckpoint(config.out, model, optimizer, state);
    }
  } finally {
    progress.stop();
    await parallel?.close();
  }

  state.wallTimeSeconds = elapsed();
  if (interrupted) {
    await saveCheckpoint(config.out, model, optimizer, state);
    log.warn(
      { epoch: state.epoch + 1, step: state.step, out: config.out },
      'interrupted: checkpoint saved; continue with --resume',
    );
    optimizer.dispose();
    return {
      outDir: config.out,
      epochs: state.epoch,
      interrupted,
      backend,
      wallTimeSeconds: state.wallTimeSeconds,
      history: state.history,
      weightsSha256: '',
      model,
    };
  }

  const weightsSha256 = await saveModel(model, config.out);
  const last = state.history.at(-1);
  const metadata = {
    name: basename(config.out),
    arch: config.arch,
    loss: config.loss,
    embeddingDim: EMBEDDING_DIM,
    // Informative: the normalisation is a layer of model.json, so every loader applies it.
    embeddingNorm: config.embeddingNorm,
    hyperParameters: {
      ...identity,
      optimizer: config.weightDecay > 0 ? 'adamw' : 'adam',
      pkImagesPerClass: config.sampler === 'pk' ? config.batchSize / config.pkClasses : null,
      trainImages: trainSet.count,
      validationImages: validation.count,
    },
    dataset: config.dataset,
    /** Label index → class name: the model's categories when it was trained on a shop's photos. */
    categories: data.categories,
    datasetChecksums: data.checksums,
    backend,
    threads: config.threads,
    epochs: state.epoch,
    wallTimeSeconds: state.wallTimeSeconds,
    finalMetrics: last ? { train: last.train, validation: last.validation } : null,
    command: config.command,
    createdAt: new Date().toISOString(),
    weightsSha256,
    parameters: model.countParams(),
    ...(isPlainHead(config.embeddingHead) ? {} : { [EMBEDDING_HEAD_KEY]: config.embeddingHead }),
  };
  await writeFileAtomic(join(config.out, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  await exportOnnx(config.out);
  await removeCheckpoint(config.out);
  optimizer.dispose();
  log.info(
    { out: config.out, wallTimeSeconds: Math.round(state.wallTimeSeconds), weightsSha256 },
    'model saved',
  );
  return {
    outDir: config.out,
    epochs: state.epoch,
    interrupted: false,
    backend,
    wallTimeSeconds: state.wallTimeSeconds,
    history: state.history,
    weightsSha256,
    model,
  };
}
