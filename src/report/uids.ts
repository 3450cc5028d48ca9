/**
 * Deterministic UIDs of OsteoScreen outputs, and the supersede rule.
 *
 * Series: `deterministicUid('osteoscreen-output', studyUid, modelVersion, kind)`. One series per
 * (study, model version, output kind): a new model version writes a new series next to the old one,
 * re-running the same model writes into the same series.
 *
 * Instance: `deterministicUid(seriesUid, 'instance', revision)`. `revision` starts at 1 and the pipeline
 * passes (number of earlier reports of this series) + 1 on each re-run (e.g. images re-sent). So:
 * - retrying the send of one built report re-sends the same file (same SOP Instance UID, PACS dedups);
 * - a re-run with the same model gets the same series, a NEW SOP Instance UID, InstanceNumber = revision
 *   and a later ContentDate/ContentTime; the SR lists the earlier SR(s) in PredecessorDocumentsSequence
 *   when the caller passes them. Earlier instances are NOT deleted from the PACS (we cannot and should not
 *   delete there): viewers show the highest InstanceNumber / latest ContentDateTime as current;
 * - a re-run with a new model version goes to a different series (the old series stays: it documents what the
 *   old model said, with its model version in SeriesDescription).
 */
import { deterministicUid } from '../dicom/uid.js';

export type OutputKind = 'sr' | 'summary' | 'seg';

/** Fixed SeriesNumber per output kind (high, so the outputs sort after the acquired series). */
export const OUTPUT_SERIES_NUMBER: Record<OutputKind, number> = { sr: 9901, summary: 9902, seg: 9903 };

export interface OutputUids {
  seriesInstanceUid: string;
  seriesNumber: number;
  /** SOP Instance UID for a given revision (1, 2, …). */
  instanceUid(revision?: number): string;
}

export function outputUids(studyUid: string, modelVersion: string, kind: OutputKind): OutputUids {
  const seriesInstanceUid = deterministicUid('osteoscreen-output', studyUid, modelVersion, kind);
  return {
    seriesInstanceUid,
    seriesNumber: OUTPUT_SERIES_NUMBER[kind],
    instanceUid: (revision = 1) => {
      if (!Number.isInteger(revision) || revision < 1) throw new Error(`revision must be a positive integer, got ${revision}`);
      return deterministicUid(seriesInstanceUid, 'instance', revision);
    },
  };
}
