import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageSet } from '../data/types.ts';
import { embeddingMetricsTensor, unpackMetrics } from '../model/trainMetrics.ts';
import type { BatchBuilder } from './batches.ts';
import type { LossName } from './config.ts';
import { computeLoss, forward, type LossOptions } from './objective.ts';
import { MetricAccumulator, type MetricSummary } from './records.ts';
import { randomSampler } from './sampler.ts';

/**
 * Loss and embedding metrics of the model in inference mode over the validation set, in fixed
 * shuffled batches (a triplet loss depends on the batch, so the batches never change between epochs).
 */
export function validate(
  view: tfl.LayersModel,
  set: ImageSet,
  batchSize: number,
  lossName: LossName,
  opts: LossOptions,
  builder: BatchBuilder,
): MetricSummary {
  const acc = new MetricAccumulator();
  const size = Math.min(batchSize, set.count);
  if (size < 2) throw new RangeError('validation needs at least 2 images');
  for (const indices of randomSampler(set.count, size, 0x5eed).epoch(0)) {
    const packed = tf.tidy(() => {
      const { xs, labels } = builder.build(set, indices);
      const out = forward(view, xs, false);
      const { loss } = computeLoss(lossName, labels, out, opts);
      return tf.concat([tf.reshape(loss, [1]), embeddingMetricsTensor(labels, out.embedding, opts)]);
    });
    const values = packed.dataSync();
    packed.dispose();
    acc.add({ loss: values[0], ...unpackMetrics(values.subarray(1)) });
  }
  return acc.mean();
}
