/**
 * Deterministic UIDs of OsteoScreen outputs, and the supersede rule.
 *
 * Series: `deterministicUid('osteoscreen-output', studyUid, modelVersion, modelHash, kind)`. One series per
 * (study, model version, model hash, output kind): a new model version, and also a calibrated or re-fitted model
 * that keeps name and version (`osteoscreen calibrate` does), writes a new series next to the old one (its hash
 * differs); re-running the same model writes into the same series. The SeriesDescription says "calibrated" or
 * "uncalibrated", the model name and version and, when it fits in 64 characters, the start of the hash.
 *
 * Instance: `deterministicUid(seriesUid, 'instance', revision)`. `revision` starts at 1 and the pipeline
 * passes (number of earlier reports of this series) + 1 on each re-run (e.g. images re-sent). So:
 * - retrying the send of one built report re-sends the same file (same SOP Instance UID, PACS dedups);
 * - a re-run with the same model gets the same series, a NEW SOP Instance UID, InstanceNumber = revision
 *   and a later ContentDate/ContentTime; the SR lists the earlier SR(s) in PredecessorDocumentsSequence
 *   when the caller passes them. Earlier instances are NOT deleted from the PACS (we cannot and should not
 *   delete there): viewers show the highest InstanceNumber / latest ContentDateTime as current;
 * - a re-run with another model (version or hash) goes to a different series (the old series stays: it documents
 *   what the old model said, with its model version and calibration state in SeriesDescription).
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

/** What of the model identifies an output series. */
export interface OutputModel {
  name: string;
  version: string;
  /** "sha256:<hex>" of the model file (see src/model/schema.ts). */
  hash: string;
  calibrated: boolean;
}

export function outputUids(studyUid: string, model: Pick<OutputModel, 'version' | 'hash'>, kind: OutputKind): OutputUids {
  const seriesInstanceUid = deterministicUid('osteoscreen-output', studyUid, model.version, model.hash, kind);
  return {
    seriesInstanceUid,
    seriesNumber: OUTPUT_SERIES_NUMBER[kind],
    instanceUid: (revision = 1) => {
      if (!Number.isInteger(revision) || revision < 1) throw new Error(`revision must be a positive integer, got ${revision}`);
      return deterministicUid(seriesInstanceUid, 'instance', revision);
    },
  };
}

const KIND_LABEL: Record<OutputKind, string> = { sr: 'SR', summary: 'summary', seg: 'ROI' };

/**
 * SeriesDescription of an output series (LO, at most 64 characters), e.g.
 * "OsteoScreen SR calibrated paper-t1t2-radscore 1.1.0 UNVERIFIED #3fa4c1": kind, calibration state, model name
 * and version always (the name shortened if it must be); " UNVERIFIED" and the hash start when they fit.
 */
export function outputSeriesDescription(kind: OutputKind, model: OutputModel): string {
  const head = `OsteoScreen ${KIND_LABEL[kind]} ${model.calibrated ? 'calibrated' : 'uncalibrated'} `;
  const tail = ` ${model.version}`;
  const name = model.name.slice(0, Math.max(8, 64 - head.length - tail.length));
  let d = `${head}${name}${tail}`.slice(0, 64);
  const short = model.hash.replace(/^sha256:/, '').slice(0, 6);
  for (const extra of [' UNVERIFIED', short ? ` #${short}` : '']) if (extra && d.length + extra.length <= 64) d += extra;
  return d;
}
