import type { EmbeddingMetrics } from '../model/trainMetrics.ts';

/** Loss and embedding metrics averaged over batches. */
export interface MetricSummary extends EmbeddingMetrics {
  loss: number;
}

/** One `"type":"epoch"` line of metrics.jsonl. */
export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  /** The loss optimised in this epoch (batch_all during a warm-up). */
  lossName: string;
  train: MetricSummary;
  validation: MetricSummary;
  seconds: number;
  imagesPerSecond: number;
  lr: number;
}

/** One `"type":"step"` line of metrics.jsonl, written every logEvery steps. */
export interface StepRecord extends MetricSummary {
  type: 'step';
  epoch: number;
  step: number;
  globalStep: number;
  lossName: string;
  lr: number;
  imagesPerSecond: number;
}

/** Running means of MetricSummary values. */
export class MetricAccumulator {
  private sums = new Map<string, number>();
  private count = 0;

  add(values: MetricSummary): void {
    for (const [k, v] of Object.entries(values)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
    this.count++;
  }

  mean(): MetricSummary {
    const out: Record<string, number> = {};
    for (const [k, v] of this.sums) out[k] = this.count > 0 ? v / this.count : Number.NaN;
    return out as unknown as MetricSummary;
  }
}
