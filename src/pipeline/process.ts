import type { Config } from '../config/schema.js';
import type { Store, JobRow } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import type { JobOutcome, StudyProcessor } from './runner.js';

export interface ProcessorDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
}

/** The study analysis: selection -> volumes -> segmentation -> radiomics -> score -> report -> outbox. */
export function createProcessor(deps: ProcessorDeps): StudyProcessor {
  return async (job: JobRow): Promise<JobOutcome> => {
    const series = deps.store.index.listSeries({ studyUid: job.study_uid });
    return {
      state: 'not-assessable',
      reason: `analysis stages are not wired yet (${series.length} series received)`,
    };
  };
}
