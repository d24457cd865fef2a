import { describeTrainingRuns } from './trainRuns.ts';

describeTrainingRuns(['batch_hard']);
