/** Synthetic report inputs for the report tests (no patient data: a made-up phantom patient). */
import type { ReportInput, SummarySlice } from '../../src/report/index.js';
import { deterministicUid } from '../../src/dicom/uid.js';
import { loadModel } from '../../src/model/load.js';
import { fileURLToPath } from 'node:url';

export const MR_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const STUDY_UID = deterministicUid('test-study', 'report');
export const T1_SERIES = deterministicUid('test-series', 't1');
export const T2_SERIES = deterministicUid('test-series', 't2');

const instances = (series: string, n: number) =>
  Array.from({ length: n }, (_, k) => ({ sopClassUid: MR_STORAGE, sopInstanceUid: deterministicUid(series, 'inst', k + 1) }));

/** A sagittal-looking phantom: dark background, a bright spine column with four bodies labelled 1..4 (L1..L4). */
export function phantomSlice(rows = 256, columns = 200): SummarySlice {
  const slice = new Float32Array(rows * columns);
  const roi = new Uint8Array(rows * columns);
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      let v = 80 + 30 * rnd();
      if (c > 60 && c < 150) v += 120; // soft tissue band
      slice[r * columns + c] = v;
    }
  }
  const bodyH = 40;
  const gap = 12;
  for (let b = 0; b < 4; b++) {
    const r0 = 20 + b * (bodyH + gap);
    for (let r = r0; r < r0 + bodyH; r++) {
      for (let c = 80; c < 130; c++) {
        slice[r * columns + c] = 600 + 80 * rnd() - b * 40;
        if (r > r0 + 3 && r < r0 + bodyH - 3 && c > 83 && c < 127) roi[r * columns + c] = b + 1;
      }
    }
  }
  return { slice, rows, columns, pixelSpacing: [1.1, 1.2], roiOutline: roi, sourceInstance: { sopClassUid: MR_STORAGE, sopInstanceUid: deterministicUid(T1_SERIES, 'inst', 5), seriesInstanceUid: T1_SERIES } };
}

/** The shipped model's published terms (sequence, feature, coefficient). */
const TERMS = loadModel(fileURLToPath(new URL('../../models/paper-t1t2.json', import.meta.url))).terms;

/** scored: calibrated, with a flag; uncalibrated: placeholder model + requireCalibrated (no flag); out-of-range: calibrated, a term far out (no flag). */
export type Variant = 'scored' | 'uncalibrated' | 'out-of-range' | 'not-assessable';

export const OUT_OF_RANGE_MESSAGE = "T1 additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis z = 45: outside the model's calibrated range (|z| > 4)";

export function makeInput(variant: Variant, opts: { revision?: number; modelVersion?: string } = {}): ReportInput {
  const calibrated = variant === 'scored' || variant === 'out-of-range';
  const terms = TERMS.map(({ sequence, feature, coefficient }, k) => {
    const value = 0.1 + k * 13.7;
    const z = -1.5 + k * 0.41;
    return { sequence, feature, value, z, coefficient, contribution: coefficient * z };
  });
  const score = 0.538 + terms.reduce((s, t) => s + t.contribution, 0);
  const levels = [
    { level: 'L1', volumeMm3: 24000.5 },
    { level: 'L2', volumeMm3: 26110.25 },
    { level: 'L3', volumeMm3: 27893 },
    { level: 'L4', volumeMm3: 28950.125 },
  ];
  return {
    source: {
      PatientName: [{ Alphabetic: 'Phantom^Müller' }],
      PatientID: 'PHANTOM-001',
      PatientBirthDate: '19600101',
      PatientSex: 'F',
      StudyInstanceUID: STUDY_UID,
      StudyDate: '20260101',
      StudyTime: '101500',
      AccessionNumber: 'ACC001',
      ReferringPhysicianName: '',
      StudyID: 'S1',
      StudyDescription: 'MRI lumbar spine',
    },
    evidence: { t1: { seriesInstanceUid: T1_SERIES, instances: instances(T1_SERIES, 10) }, t2: { seriesInstanceUid: T2_SERIES, instances: instances(T2_SERIES, 10) } },
    result:
      variant === 'not-assessable'
        ? { kind: 'not-assessable', reason: 'L3 segmentation implausible (volume 3 SD below the others)', levels: levels.slice(0, 2) }
        : {
            kind: 'scored',
            score,
            cutoff: 0.542,
            flag: variant === 'scored' ? score > 0.542 : null,
            noFlag:
              variant === 'uncalibrated'
                ? [{ kind: 'uncalibrated', message: 'radscore not interpretable until calibrated for this site (placeholder normalisation; model.requireCalibrated is true)' }]
                : variant === 'out-of-range'
                  ? [{ kind: 'out-of-range', message: OUT_OF_RANGE_MESSAGE }]
                  : undefined,
            calibrated,
            intercept: 0.538,
            terms,
            levels,
          },
    model: { name: 'paper-t1t2', version: opts.modelVersion ?? '1.0.0', hash: 'a3f1c9e07b2d4c6e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd', calibrated },
    summary: phantomSlice(),
    algorithm: { name: 'OsteoScreen', version: '0.1.0' },
    revision: opts.revision,
    now: new Date(2026, 0, 2, 3, 4, 5),
  };
}
