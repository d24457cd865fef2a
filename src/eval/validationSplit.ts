/**
 * The images a Fashion-MNIST training run held out of the 60,000 (its validation split), as an evaluation's
 * queries, with the images it trained on as the gallery: for choosing settings after training (an embedding
 * head's weight, a preprocessing step) without looking at the test split.
 */
import { trainValidationSplit } from '../data/split.ts';
import type { FashionMnist } from '../data/types.ts';
import { ValidationError } from '../errors.ts';
import type { SetNames } from './photoEval.ts';

export const VALIDATION_SPLIT_NAMES: SetNames = { queries: 'validation', gallery: 'train' };

/** How many training images the run behind `metadata` (metadata.json) held out; refuses a run that held none. */
export function heldOutCount(metadata: unknown): number {
  const m = (metadata ?? {}) as { dataset?: unknown; hyperParameters?: { valCount?: unknown } };
  const count = m.hyperParameters?.valCount;
  if (m.dataset !== 'fashion-mnist' || typeof count !== 'number' || !Number.isInteger(count)) {
    throw new ValidationError(
      'metadata.json does not say which Fashion-MNIST images the training held out (dataset, hyperParameters.valCount)',
      'NO_VALIDATION_SPLIT',
    );
  }
  if (count <= 0) {
    throw new ValidationError(
      'the model was trained on all 60,000 training images: none were held out',
      'NO_VALIDATION_SPLIT',
    );
  }
  return count;
}

/** `data` with the validation split as its test set and the rest of the training images as its train set. */
export function validationData(data: FashionMnist, count: number): FashionMnist {
  // The same split as training's (trainValidationSplit's fixed seed), so these images were never trained on.
  const { train, validation } = trainValidationSplit(data.train, count);
  return { ...data, train, test: validation };
}
