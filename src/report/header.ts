/** Modules shared by every output object: Patient, General Study, General Equipment, SOP Common, dates. */
import type { ReportInput } from './types.js';
import { CODES, type Code } from './codes.js';
import { scoreVsCutoff } from './numbers.js';

export const MANUFACTURER = 'OsteoScreen project';
export const UNVERIFIED_TEXT = 'UNVERIFIED \u2014 research/screening use';
export const DISCLAIMER_TEXT = 'Screening support, not a diagnosis. Confirm with DXA.';
export const UNCALIBRATED_TEXT =
  'Warning: the model is not calibrated for this site; the radscore and cut-off come from the published study and may not transfer.';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** DICOM DA and TM (local time) of a date. */
export function dicomDateTime(d: Date): { date: string; time: string } {
  return {
    date: `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`,
    time: `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`,
  };
}

/** Format a number as a DICOM DS (at most 16 characters). */
export function formatDS(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot encode ${n} as DS`);
  for (let p = 12; p >= 1; p--) {
    const s = String(Number(n.toPrecision(p)));
    if (s.length <= 16) return s;
  }
  return n.toExponential(6);
}

/** Patient + General Study modules copied from the source header (Type 2 attributes present, possibly empty). */
export function patientStudyModules(input: ReportInput): Record<string, any> {
  const s = input.source;
  if (!s.StudyInstanceUID) throw new Error('source.StudyInstanceUID is required');
  const ds: Record<string, any> = {
    PatientName: s.PatientName ?? '',
    PatientID: s.PatientID ?? '',
    PatientBirthDate: s.PatientBirthDate ?? '',
    PatientSex: s.PatientSex ?? '',
    StudyInstanceUID: s.StudyInstanceUID,
    StudyDate: s.StudyDate ?? '',
    StudyTime: s.StudyTime ?? '',
    ReferringPhysicianName: s.ReferringPhysicianName ?? '',
    StudyID: s.StudyID ?? '',
    AccessionNumber: s.AccessionNumber ?? '',
  };
  if (s.IssuerOfPatientID) ds.IssuerOfPatientID = s.IssuerOfPatientID;
  if (s.PatientAge) ds.PatientAge = s.PatientAge;
  if (s.StudyDescription) ds.StudyDescription = s.StudyDescription;
  return ds;
}

export function equipmentModule(input: ReportInput): Record<string, any> {
  const ds: Record<string, any> = {
    Manufacturer: input.device?.manufacturer ?? MANUFACTURER,
    ManufacturerModelName: input.algorithm.name,
    SoftwareVersions: [input.algorithm.version, `${input.model.name} ${input.model.version}`].map((v) => v.slice(0, 64)),
  };
  if (input.device?.serialNumber) ds.DeviceSerialNumber = input.device.serialNumber;
  if (input.device?.institutionName) ds.InstitutionName = input.device.institutionName;
  if (input.device?.stationName) ds.StationName = input.device.stationName;
  return ds;
}

/** What the result statements are made of (a report input, or a stored job result mapped to one: output/report-text.ts). */
export type ReportTextInput = Pick<ReportInput, 'result' | 'algorithm' | 'modelChoice'> & { model: Omit<ReportInput['model'], 'calibrated'> & { calibrated: boolean | null } };

/** "OsteoScreen 0.1.0, model paper-t1t2 1.0.0 (hash 0123abcd…, uncalibrated)"; calibration left out when unknown (null). */
export function modelLine(input: ReportTextInput): string {
  const m = input.model;
  const cal = m.calibrated === null ? '' : `, ${m.calibrated ? 'calibrated' : 'uncalibrated'}`;
  return `${input.algorithm.name} ${input.algorithm.version}, model ${m.name} ${m.version} (hash ${m.hash.slice(0, 12)}${cal})`;
}

export const NOT_INTERPRETABLE_PHRASE = 'Radscore not interpretable until calibrated for this site';
export const OUT_OF_RANGE_PHRASE = "No flag: outside the model's calibrated range";

/** Why a scored result has no flag: 'uncalibrated' wins over 'out-of-range'; null when it has a flag. */
export function noFlagKind(input: Pick<ReportInput, 'result'>): 'uncalibrated' | 'out-of-range' | 'other' | null {
  const r = input.result;
  if (r.kind !== 'scored' || r.flag !== null) return null;
  if (r.noFlag?.some((n) => n.kind === 'uncalibrated')) return 'uncalibrated';
  if (r.noFlag?.some((n) => n.kind === 'out-of-range')) return 'out-of-range';
  return 'other';
}

/** The qualitative result as a short phrase. */
export function resultPhrase(input: Pick<ReportInput, 'result'>): string {
  const r = input.result;
  if (r.kind === 'not-assessable') return `Not assessable: ${r.reason}`;
  const k = noFlagKind(input);
  if (k === 'uncalibrated') return NOT_INTERPRETABLE_PHRASE;
  if (k === 'out-of-range') return OUT_OF_RANGE_PHRASE;
  if (k === 'other') return 'No flag (score shown for information only)';
  return r.flag ? 'Abnormal bone mass suspected' : 'Abnormal bone mass not suspected';
}

/** Every reason for no flag, in words (empty when there is a flag). */
export function noFlagReasons(input: Pick<ReportInput, 'result'>): string[] {
  const r = input.result;
  return r.kind === 'scored' && r.flag === null ? (r.noFlag ?? []).map((n) => n.message) : [];
}

/** The coded finding of a result (SR Qualitative Evaluations, HL7 v2 OBX). */
export function findingCode(input: Pick<ReportInput, 'result'>): Code {
  const r = input.result;
  if (r.kind === 'not-assessable') return CODES.notAssessable;
  const nf = noFlagKind(input);
  if (nf === 'uncalibrated') return CODES.notInterpretable;
  if (nf === 'out-of-range') return CODES.outOfRange;
  if (r.flag === null) return CODES.flagSuppressed;
  return r.flag ? CODES.abnormalSuspected : CODES.abnormalNotSuspected;
}

/**
 * The report's statements in words, in the SR's order (its Qualitative Evaluations comments; HL7 v2 report text):
 * the result with radscore and cut-off, "Produced by <model line>.", the model selection (if known), UNVERIFIED,
 * the disclaimer, and for a score of an uncalibrated model the warning.
 */
export function reportStatements(input: ReportTextInput): { concept: 'comment' | 'modelSelection'; text: string }[] {
  const r = input.result;
  let summary = resultPhrase(input);
  if (r.kind === 'scored') {
    const p = scoreVsCutoff(r.score, r.cutoff);
    summary +=
      r.flag === null
        ? `. Radscore ${p.score} (for information only: no flag; cut-off ${p.cutoff} not applied).`
        : `. Radscore ${p.score}${p.nearness ? `, ${p.nearness}` : ''} (cut-off: abnormal if > ${p.cutoff}).`;
  }
  const out: { concept: 'comment' | 'modelSelection'; text: string }[] = [
    { concept: 'comment', text: summary },
    { concept: 'comment', text: `Produced by ${modelLine(input)}.` },
  ];
  if (input.modelChoice) out.push({ concept: 'modelSelection', text: input.modelChoice });
  out.push({ concept: 'comment', text: UNVERIFIED_TEXT }, { concept: 'comment', text: DISCLAIMER_TEXT });
  if (r.kind === 'scored' && input.model.calibrated === false) out.push({ concept: 'comment', text: UNCALIBRATED_TEXT });
  return out;
}
