/** Input types for the report builders (SR, summary image, SEG). See index.ts for the contract. */

/** Naturalized header of one source instance (T1 preferred): patient and study modules are copied from it. */
export interface SourceHeader {
  PatientName?: string | { Alphabetic?: string } | Array<{ Alphabetic?: string }>;
  PatientID?: string;
  IssuerOfPatientID?: string;
  PatientBirthDate?: string;
  PatientSex?: string;
  PatientAge?: string;
  StudyInstanceUID: string;
  StudyDate?: string;
  StudyTime?: string;
  AccessionNumber?: string;
  ReferringPhysicianName?: string | { Alphabetic?: string } | Array<{ Alphabetic?: string }>;
  StudyID?: string;
  StudyDescription?: string;
  /** Other keys are ignored. */
  [key: string]: unknown;
}

export interface EvidenceInstance {
  sopClassUid: string;
  sopInstanceUid: string;
}

export interface EvidenceSeries {
  seriesInstanceUid: string;
  instances: EvidenceInstance[];
}

export interface ReportTerm {
  /** 'T1' | 'T2' (free text allowed, shown as-is). */
  sequence: string;
  /** PyRadiomics-style feature name, e.g. original_shape_SurfaceVolumeRatio. */
  feature: string;
  value: number;
  z: number;
  coefficient: number;
  contribution: number;
}

export interface ReportLevel {
  /** 'L1' … 'L4' (other labels are reported with a private code). */
  level: string;
  volumeMm3: number;
}

export interface ScoredResult {
  kind: 'scored';
  score: number;
  cutoff: number;
  /** true = abnormal bone mass suspected, false = not suspected, null = no flag (see noFlag). */
  flag: boolean | null;
  /**
   * Why there is no flag (flag null): `uncalibrated` (uncalibrated model + model.requireCalibrated: the radscore is
   * not interpretable until calibrated for this site) and/or `out-of-range` (a term outside the model's calibrated
   * range; the message names the term and its z).
   */
  noFlag?: { kind: 'uncalibrated' | 'out-of-range'; message: string }[];
  calibrated: boolean;
  intercept?: number;
  terms: ReportTerm[];
  levels: ReportLevel[];
}

export interface NotAssessableResult {
  kind: 'not-assessable';
  reason: string;
  levels?: ReportLevel[];
}

export type ReportResult = ScoredResult | NotAssessableResult;

export interface ReportModel {
  name: string;
  version: string;
  /** Content hash of the model file (e.g. sha256 hex). */
  hash: string;
  calibrated: boolean;
}

export interface SummarySlice {
  /** Row-major pixel values (rows × columns) of the mid-sagittal T1 slice. */
  slice: Float32Array;
  rows: number;
  columns: number;
  /** [row spacing, column spacing] in mm (DICOM PixelSpacing order). */
  pixelSpacing: [number, number];
  /** Label per pixel (0 = background, 1..4 = L1..L4), same size as `slice`. */
  roiOutline?: Uint8Array;
  /** The source instance this slice comes from (referenced from the summary image). */
  sourceInstance?: EvidenceInstance & { seriesInstanceUid?: string };
}

/** A previously sent report that this one supersedes (goes to PredecessorDocumentsSequence in the SR). */
export interface PredecessorRef {
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

export interface ReportInput {
  source: SourceHeader;
  evidence: { t1?: EvidenceSeries; t2?: EvidenceSeries };
  result: ReportResult;
  model: ReportModel;
  /** Which model was used for this study and why (e.g. the site calibration of its scanner, or the default). */
  modelChoice?: string;
  summary?: SummarySlice;
  algorithm: { name: string; version: string };
  /**
   * 1 for the first report of (study, model version, kind); the pipeline passes previous count + 1 on re-runs.
   * Becomes InstanceNumber and is part of the deterministic SOP Instance UID. Default 1.
   */
  revision?: number;
  /** Content date/time of the report (default: now). Tests pass a fixed date. */
  now?: Date;
  /** Earlier SR instances of the same output series that this report replaces. */
  predecessors?: PredecessorRef[];
  /** Device identification (observer context, General Equipment). */
  device?: { manufacturer?: string; serialNumber?: string; institutionName?: string; stationName?: string };
}
