import { Ctrl, type Regions, raiseFailure, WorkerFailed, waitFor } from './shared.ts';

export type AllReduce = (local: Float32Array) => Float32Array;

/**
 * Sum of a vector over the workers of a step, blocking: every worker adds the slots in rank order,
 * so all of them get the same float32 result bit for bit (their batch-norm statistics, and with them
 * their moving averages, stay identical). The slots alternate between two sets, so one barrier per
 * call suffices: a worker can overwrite a set only after every worker has passed the next barrier,
 * that is, finished reading it.
 */
export function createAllReduce(regions: Regions, rank: number, workers: number): AllReduce {
  const { ctrl } = regions;
  let calls = 0;
  const check = () => {
    if (Atomics.load(ctrl, Ctrl.failed) !== 0) throw new WorkerFailed('another training worker failed');
  };
  const barrier = () => {
    const generation = Atomics.load(ctrl, Ctrl.barrierGeneration);
    if (Atomics.add(ctrl, Ctrl.barrierCount, 1) === workers - 1) {
      // Reset before releasing: a released worker may arrive at the next barrier at once.
      Atomics.store(ctrl, Ctrl.barrierCount, 0);
      Atomics.add(ctrl, Ctrl.barrierGeneration, 1);
      Atomics.notify(ctrl, Ctrl.barrierGeneration);
      return;
    }
    waitFor(ctrl, Ctrl.barrierGeneration, (g) => g !== generation, check);
  };
  return (local) => {
    const slots = regions.reduce[calls++ % 2];
    if (local.length > slots[0].length) {
      raiseFailure(ctrl, rank + 1);
      throw new Error(`all-reduce of ${local.length} values exceeds the ${slots[0].length} reserved`);
    }
    slots[rank].set(local);
    barrier();
    const total = new Float32Array(local.length);
    for (let w = 0; w < workers; w++) {
      const slot = slots[w];
      for (let i = 0; i < total.length; i++) total[i] += slot[i];
    }
    return total;
  };
}
