/**
 * Reports written back into the original study: DICOM SR, secondary-capture summary image, optional SEG.
 *
 * ## Contract
 * Input: `ReportInput` (types.ts)
 * - `source`: naturalized header of ONE received source instance (T1 preferred). Only the Patient and General
 *   Study module attributes are copied (PatientName, PatientID, IssuerOfPatientID, PatientBirthDate, PatientSex,
 *   PatientAge, StudyInstanceUID, StudyDate, StudyTime, ReferringPhysicianName, StudyID, AccessionNumber,
 *   StudyDescription); Type 2 attributes missing from the source are written empty.
 * - `evidence.t1/t2`: the source series and instances the result was computed from (SR image library and
 *   CurrentRequestedProcedureEvidenceSequence).
 * - `result`: `{kind:'scored', score, cutoff, flag, calibrated, intercept?, terms[], levels[]}` where flag is
 *   true (abnormal bone mass suspected) / false (not suspected) / null (suppressed: model uncalibrated and
 *   config `model.requireCalibrated` is true); or `{kind:'not-assessable', reason, levels?}`.
 * - `model` {name, version, hash, calibrated}, `algorithm` {name:'OsteoScreen', version}.
 * - `summary?`: mid-sagittal T1 slice (Float32 rows×columns, PixelSpacing [row, col] mm) + optional label image
 *   (1..4 = L1..L4) + the source instance it came from.
 * - `revision?` (default 1), `now?` (content date/time), `predecessors?` (earlier SRs this one replaces),
 *   `device?` (manufacturer, serial number, institution, station).
 *
 * Builders (pure; return naturalized dcmjs datasets, write with `writePart10(ds, path)` from src/dicom/write.ts):
 * - `buildSr(input)` — Comprehensive SR, TID 1500 structure, VerificationFlag UNVERIFIED.
 * - `buildSummaryImage(input)` / `buildSummaryImageWithPreview(input)` — 1024×768 8-bit RGB Secondary Capture
 *   (+ PNG bytes of the same picture).
 * - `buildSeg(input, segInput)` — BINARY Segmentation on the T1 grid; null when the label map is empty.
 * - `writeReportFiles(input, outDir, {seg?, previewPng?})` — all of the above written to files, in send order.
 *
 * Every output says "UNVERIFIED — research/screening use", "Screening support, not a diagnosis. Confirm with
 * DXA." and which model (name, version, hash, calibration) produced it; the SR and the summary image also carry
 * the uncalibrated warning when a score from an uncalibrated model is shown.
 *
 * ## UIDs and the supersede rule (uids.ts)
 * Series UID = deterministicUid(study, model version, kind): one series per (study, model version, output kind),
 * SeriesNumber 9901 (SR) / 9902 (summary) / 9903 (SEG). SOP Instance UID = deterministicUid(series, revision).
 * - Resending a built file (outbox retry) re-sends the same SOP Instance UID: the PACS deduplicates.
 * - Re-running with the same model (e.g. images re-sent): same series, pipeline passes revision = previous + 1,
 *   so a new SOP Instance UID, InstanceNumber = revision and a later ContentDate/Time; the SR lists earlier SRs in
 *   PredecessorDocumentsSequence when `predecessors` is given. Earlier instances stay in the PACS (we never delete
 *   there); the current report is the one with the highest InstanceNumber in the series.
 * - A new model version writes new series; the old series remain as the record of what the old model said.
 *
 * ## Codes (codes.ts)
 * DCM/SCT/LN/UCUM/UMLS/RFC5646 where a standard code exists; private scheme `99OSTEO` otherwise (radscore,
 * cut-off, feature terms, result values), declared in CodingSchemeIdentificationSequence. dciodvfy warns
 * "Unrecognized defined term <99OSTEO>" for each private code: expected, it does not know private schemes.
 */
export * from './types.js';
export { buildSr, COMPREHENSIVE_SR_SOP_CLASS, deviceObserverUid } from './sr.js';
export { buildSummaryImage, buildSummaryImageWithPreview, SECONDARY_CAPTURE_SOP_CLASS, type SummaryImage } from './summary.js';
export { buildSeg, SEGMENTATION_SOP_CLASS, type SegInput } from './seg.js';
export { writeReportFiles, type ReportFile, type WriteReportOptions } from './files.js';
export { outputSeriesDescription, outputUids, OUTPUT_SERIES_NUMBER, type OutputKind, type OutputModel, type OutputUids } from './uids.js';
export { CODES, PRIVATE_SCHEME, VERTEBRA_CODES, type Code } from './codes.js';
export { DISCLAIMER_TEXT, UNVERIFIED_TEXT, UNCALIBRATED_TEXT, formatDS } from './header.js';
export { renderSummary, SUMMARY_WIDTH, SUMMARY_HEIGHT, type RgbImage } from './render.js';
