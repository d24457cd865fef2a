import { describeTrainingRuns } from './trainRuns.ts';

// Real data, small: 2,048 training images, 2 epochs, on wasm. batch_hard is in its own file so
// that each file stays well under a minute on a loaded 2-core machine.
describeTrainingRuns(['batch_all', 'softmax']);
