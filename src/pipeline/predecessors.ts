/**
 * The SRs a re-run supersedes: every SR that earlier jobs of the study wrote (their results list the outputs).
 * The analysis keeps those of its own output series (same study, model version and hash) as the new SR's
 * Predecessor Documents Sequence (0040,A360).
 *
 * Results since issue 16 record each output's series and SOP class; for older results the SR file in the
 * outputs folder (`outputs/<study>/job-<id>/sr-<uid>.dcm`) is read instead. An SR known by neither is skipped.
 */
import { parseJobResult } from '../store/job-result.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/index.js';
import type { PredecessorRef } from '../report/index.js';
import { splitPart10 } from '../dicom/part10.js';
import { readPart10 } from '../dicom/write.js';
import { logger } from '../common/log.js';

const log = logger('process');

interface OutputRecord {
  kind?: string;
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  sopClassUid?: string;
}

export function earlierSrs(store: Store, studyUid: string, currentJobId: number): PredecessorRef[] {
  const refs: PredecessorRef[] = [];
  const seen = new Set<string>();
  for (const job of store.index.jobsOfStudy(studyUid)) {
    if (job.id === currentJobId || !job.result) continue;
    const outputs: OutputRecord[] = parseJobResult(job.result)?.outputs ?? [];
    for (const o of outputs) {
      if (o.kind !== 'sr' || !o.sopInstanceUid || seen.has(o.sopInstanceUid)) continue;
      let ref: PredecessorRef | undefined;
      if (o.seriesInstanceUid && o.sopClassUid) ref = { seriesInstanceUid: o.seriesInstanceUid, sopInstanceUid: o.sopInstanceUid, sopClassUid: o.sopClassUid };
      else {
        const file = path.join(store.dir, 'outputs', studyUid, `job-${job.id}`, `sr-${o.sopInstanceUid}.dcm`);
        if (existsSync(file)) {
          try {
            const buf = readFileSync(file);
            const ds = readPart10(buf);
            ref = { seriesInstanceUid: String(ds.SeriesInstanceUID), sopInstanceUid: o.sopInstanceUid, sopClassUid: splitPart10(buf).sopClassUid };
          } catch (e) {
            log.warn('earlier SR unreadable: not listed as predecessor', { jobId: job.id, error: (e as Error).message });
          }
        }
      }
      if (ref) {
        seen.add(ref.sopInstanceUid);
        refs.push(ref);
      }
    }
  }
  return refs;
}
