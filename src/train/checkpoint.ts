import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DataFileError } from '../errors.ts';
import {
  decodeTensors,
  encodeTensors,
  loadModel,
  type NamedTensor,
  saveModel,
  writeFileAtomic,
} from '../model/modelIo.ts';
import type { EpochRecord } from './records.ts';

/** Where training stands; with (seed, epoch, step) the samplers and augmentation replay exactly. */
export interface TrainState {
  /** Epoch in progress (0-based); equals `epochs` when training is complete. */
  epoch: number;
  /** Steps of `epoch` already done. */
  step: number;
  globalStep: number;
  wallTimeSeconds: number;
  history: EpochRecord[];
  /** runIdentity(config) of the run that wrote it; --resume refuses a different one. */
  identity: Record<string, unknown>;
  backend: string;
}

const DIR = 'checkpoint';
const NEXT = 'checkpoint.next';
const STATE = 'state.json';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the model, the optimizer state and `state` into `<out>/checkpoint.next`, then swaps it in
 * for `<out>/checkpoint`: an interrupted write never damages the previous checkpoint.
 */
export async function saveCheckpoint(
  out: string,
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainState,
): Promise<void> {
  const next = join(out, NEXT);
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true });
  await saveModel(model, next);
  const { specs, data } = await encodeTensors(await optimizer.getWeights());
  await writeFileAtomic(join(next, 'optimizer.bin'), data);
  await writeFileAtomic(join(next, 'optimizer.json'), JSON.stringify(specs));
  await writeFileAtomic(join(next, STATE), JSON.stringify(state, null, 2));
  await rm(join(out, DIR), { recursive: true, force: true });
  await rename(next, join(out, DIR));
}

export interface LoadedCheckpoint {
  model: tfl.LayersModel;
  optimizerWeights: NamedTensor[];
  state: TrainState;
}

/** The checkpoint in `out`, or null if there is none. */
export async function loadCheckpoint(out: string): Promise<LoadedCheckpoint | null> {
  let dir = join(out, DIR);
  if (!(await exists(join(dir, STATE)))) {
    // A crash between removing the old checkpoint and renaming the new one leaves only this.
    dir = join(out, NEXT);
    if (!(await exists(join(dir, STATE)))) return null;
  }
  try {
    const state = JSON.parse(await readFile(join(dir, STATE), 'utf8')) as TrainState;
    const specs = JSON.parse(
      await readFile(join(dir, 'optimizer.json'), 'utf8'),
    ) as tf.io.WeightsManifestEntry[];
    const map = decodeTensors(specs, await readFile(join(dir, 'optimizer.bin')));
    // Adam's state is positional (iterations, first moments, second moments): keep the saved order.
    const optimizerWeights = specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
    const { model } = await loadModel(dir);
    return { model, optimizerWeights, state };
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(
      `checkpoint in ${dir} is unreadable: ${(err as Error).message}`,
      'CHECKPOINT_CORRUPT',
    );
  }
}

export async function removeCheckpoint(out: string): Promise<void> {
  await rm(join(out, DIR), { recursive: true, force: true });
  await rm(join(out, NEXT), { recursive: true, force: true });
}
