/**
 * What the service can say about the model it serves: the training metadata
 * (`metadata.json`) and the evaluation figures of `npm run eval`
 * (`report.json`, absent until the model has been evaluated).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ModelCard {
  name: string | null;
  arch: string | null;
  loss: string | null;
  createdAt: string | null;
  /** Test queries against the training gallery; null without a report. */
  evaluation: { precisionAt1: number; mapAtR: number; knnAccuracy: number } | null;
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);

export function readModelCard(modelDir: string): ModelCard {
  const metadata = readJson(join(modelDir, 'metadata.json')) ?? {};
  const report = readJson(join(modelDir, 'report.json'));
  const overall = (report?.embedding as { testVsTrain?: { overall?: Record<string, unknown> } } | undefined)
    ?.testVsTrain?.overall;
  const figure = (key: string) => (typeof overall?.[key] === 'number' ? (overall[key] as number) : null);
  const [precisionAt1, mapAtR, knnAccuracy] = ['precisionAt1', 'mapAtR', 'knnAccuracy'].map(figure);
  return {
    name: text(metadata.name),
    arch: text(metadata.arch),
    loss: text(metadata.loss),
    createdAt: text(metadata.createdAt),
    evaluation:
      precisionAt1 !== null && mapAtR !== null && knnAccuracy !== null
        ? { precisionAt1, mapAtR, knnAccuracy }
        : null,
  };
}
