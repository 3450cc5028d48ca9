/** Worker thread entry for the parallel extractor: computes the features of one job on a prepared ROI. */
import { parentPort } from 'node:worker_threads';
import { extractPrepared, type PreparedRoi } from './extractor.js';
import type { RadiomicsSettings } from './settings.js';

export interface WorkerJob {
  id: number;
  prepared: PreparedRoi;
  settings: RadiomicsSettings;
  only?: string[];
}

parentPort?.on('message', (job: WorkerJob) => {
  try {
    const result = extractPrepared(job.prepared, job.settings, {
      only: job.only,
      onImage: (name) => parentPort!.postMessage({ id: job.id, progress: name }),
    });
    parentPort!.postMessage({ id: job.id, result });
  } catch (e) {
    const err = e as Error & { code?: string; httpStatus?: number };
    parentPort!.postMessage({ id: job.id, error: { name: err.name, message: err.message, code: err.code, httpStatus: err.httpStatus } });
  }
});
