/** Worker thread entry for the parallel extractor: runs extractFeatures on one job and posts the result. */
import { parentPort } from 'node:worker_threads';
import { extractFeatures } from './extractor.js';
import type { RImage, RMask } from './image.js';
import type { RadiomicsSettings } from './settings.js';

export interface WorkerJob {
  id: number;
  image: RImage;
  mask: RMask;
  settings: RadiomicsSettings;
  only?: string[];
}

parentPort?.on('message', (job: WorkerJob) => {
  try {
    const result = extractFeatures(job.image, job.mask, job.settings, {
      only: job.only,
      onImage: (name) => parentPort!.postMessage({ id: job.id, progress: name }),
    });
    parentPort!.postMessage({ id: job.id, result });
  } catch (e) {
    const err = e as Error & { code?: string; httpStatus?: number };
    parentPort!.postMessage({ id: job.id, error: { name: err.name, message: err.message, code: err.code, httpStatus: err.httpStatus } });
  }
});
