/**
 * Series selection: which series of a study is the sagittal T1 and which the sagittal T2.
 * Pure rules over header summaries (`selectSeries`), every rejected series gets a reason.
 *
 * Default rules (config `selection`): modality MR; sagittal = slice normal within `sagittalMaxAngleDeg` of the
 * patient left-right axis (from ImageOrientationPatient), one orientation only; ImageType ORIGINAL; at least
 * `minSlices` slices; T1 if TR < t1MaxTr and TE < t1MaxTe, T2 if TR > t2MinTr and TE > t2MinTe; STIR/fat-sat
 * excluded by inversion time (inversion recovery with TI < 300 ms), ScanOptions FS/FAT SAT, or the
 * `excludeDescription` regex; body part hints (cervical, head, ...) exclude. When several series qualify, the one
 * that covers the lumbar region best wins (lumbar hint in body part/description, then craniocaudal extent ≥ 200 mm),
 * then more slices, then the description regex (tie-breaker only), then the later series number.
 */
import { sliceNormal } from '../volume/geometry.js';
import type { Config } from '../config/schema.js';
import { readInstanceHeader, type InstanceHeader } from '../dicom/header.js';
import { OsteoError } from '../common/errors.js';

export type SelectionRules = Config['selection'];

export const DEFAULT_SELECTION_RULES: SelectionRules = {
  modality: 'MR',
  sagittalMaxAngleDeg: 30,
  requireOriginal: true,
  t1MaxTr: 1000,
  t1MaxTe: 30,
  t2MinTr: 1500,
  t2MinTe: 60,
  excludeDescription: 'stir|tirm|fs\\b|fat.?sat|spair|dixon|loc|scout|survey',
  t1Description: 't1',
  t2Description: 't2',
  minSlices: 5,
};

export interface SeriesHeader {
  seriesInstanceUID: string;
  studyInstanceUID: string;
  modality: string;
  seriesNumber: number | null;
  seriesDescription: string;
  bodyPartExamined: string;
  /** ImageType of the first instance (upper case) */
  imageType: string[];
  /** true when any instance is not ORIGINAL */
  anyDerived: boolean;
  repetitionTime: number | null;
  echoTime: number | null;
  inversionTime: number | null;
  inversionRecovery: boolean;
  scanOptions: string[];
  sopClassUID: string;
  enhanced: boolean;
  fileCount: number;
  /** total frames (slices) over all instances */
  frameCount: number;
  /** distinct image orientations (row, column cosines), rounded to 1e-3 */
  orientations: number[][];
  /** craniocaudal extent (mm) covered by the image plane, null without geometry */
  siExtentMm: number | null;
  rows: number;
  columns: number;
  files: string[];
}

export interface SelectionResult {
  t1: string | null;
  t2: string | null;
  skipped: { series: string; reason: string }[];
  notAssessableReason?: string;
}

/** Summarise the headers of one series (all files are read, header only). */
export function readSeriesHeader(files: string[]): SeriesHeader {
  if (!files.length) throw new OsteoError('series-empty', 'series has no files');
  const heads = files.map((f) => readInstanceHeader(f));
  return summariseSeries(heads);
}

export function summariseSeries(heads: InstanceHeader[]): SeriesHeader {
  const h0 = heads[0]!;
  const oris = new Map<string, number[]>();
  let zMin = Infinity;
  let zMax = -Infinity;
  let frames = 0;
  let anyDerived = false;
  for (const h of heads) {
    if (!h.imageType.includes('ORIGINAL')) anyDerived = true;
    frames += h.frames.length;
    for (const f of h.frames) {
      if (f.orientation) {
        const r = f.orientation.map((x) => Math.round(x * 1000) / 1000);
        oris.set(r.join(','), r);
        if (f.position && f.pixelSpacing) {
          // z of the four corners of the plane
          const [rx, ry, rz, cx, cy, cz] = f.orientation as [number, number, number, number, number, number];
          void rx, ry, cx, cy;
          const w = (h.columns - 1) * f.pixelSpacing[1];
          const hgt = (h.rows - 1) * f.pixelSpacing[0];
          for (const [a, b] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
            const z = f.position[2] + a * w * rz + b * hgt * cz;
            if (z < zMin) zMin = z;
            if (z > zMax) zMax = z;
          }
        }
      }
    }
  }
  return {
    seriesInstanceUID: h0.seriesInstanceUID,
    studyInstanceUID: h0.studyInstanceUID,
    modality: h0.modality,
    seriesNumber: h0.seriesNumber,
    seriesDescription: h0.seriesDescription,
    bodyPartExamined: h0.bodyPartExamined,
    imageType: h0.imageType,
    anyDerived,
    repetitionTime: h0.repetitionTime,
    echoTime: h0.echoTime,
    inversionTime: h0.inversionTime,
    inversionRecovery: h0.inversionRecovery,
    scanOptions: h0.scanOptions,
    sopClassUID: h0.sopClassUID,
    enhanced: h0.enhanced,
    fileCount: heads.length,
    frameCount: frames,
    orientations: [...oris.values()],
    siExtentMm: Number.isFinite(zMin) ? zMax - zMin : null,
    rows: h0.rows,
    columns: h0.columns,
    files: heads.map((h) => h.file),
  };
}

/** Angle (degrees) between the slice normal of an orientation and the patient left-right axis. */
export function angleToLeftRight(ori: number[]): number {
  const n = sliceNormal(ori.slice(0, 3), ori.slice(3, 6)) ?? [0, 0, 0];
  const cos = Math.min(1, Math.abs(n[0]));
  return (Math.acos(cos) * 180) / Math.PI;
}

export const NON_LUMBAR_BODY_PART = /^(C[-_ ]?SPINE|CSPINE|CERVICAL|HEAD|BRAIN|NECK|KNEE|SHOULDER|HIP|ANKLE|WRIST|ELBOW|HAND|FOOT|BREAST|PROSTATE|HEART|CHEST|PELVIS)$/i;
export const LUMBAR_HINT = /lumb|l[-_ ]?spine|lws|ls[-_ ]?spine|sacr/i;
export const NON_LUMBAR_HINT = /cervical|c[-_ ]?spine|\bhws\b|thorac|t[-_ ]?spine|\bbws\b|brain|head/i;

type Weighting = 'T1' | 'T2';

interface Candidate {
  s: SeriesHeader;
  w: Weighting;
  lumbarHint: number;
  coversLumbar: number;
  descMatch: number;
}

/** Why a series cannot be a T1/T2 candidate, or its weighting. */
export function classifySeries(s: SeriesHeader, rules: SelectionRules): { weighting: Weighting } | { reason: string } {
  if (s.modality !== rules.modality.toUpperCase()) return { reason: `modality ${s.modality || 'missing'}, not ${rules.modality}` };
  if (rules.requireOriginal && (s.anyDerived || !s.imageType.includes('ORIGINAL')))
    return { reason: `not an original image (ImageType ${s.imageType.join('\\') || 'missing'})` };
  if (s.bodyPartExamined && NON_LUMBAR_BODY_PART.test(s.bodyPartExamined)) return { reason: `body part ${s.bodyPartExamined} is not the lumbar spine` };
  if (!s.orientations.length) return { reason: 'no ImageOrientationPatient' };
  if (s.orientations.length > 1) return { reason: `${s.orientations.length} different slice orientations (localizer or mixed series)` };
  const ang = angleToLeftRight(s.orientations[0]!);
  if (ang > rules.sagittalMaxAngleDeg) return { reason: `not sagittal (slice normal ${ang.toFixed(0)}° from the left-right axis > ${rules.sagittalMaxAngleDeg}°)` };
  if (s.frameCount < rules.minSlices) return { reason: `only ${s.frameCount} slice(s) (< ${rules.minSlices})` };
  if (s.inversionRecovery && (s.inversionTime === null || s.inversionTime < 300))
    return { reason: `inversion recovery${s.inversionTime !== null ? ` (TI ${s.inversionTime} ms)` : ''}: STIR/fat-suppressed series excluded` };
  if (s.scanOptions.some((o) => o === 'FS' || o === 'FAT SAT' || o === 'FSS' || o === 'SFS' || o === 'SPIR' || o === 'SPAIR'))
    return { reason: `fat suppression in ScanOptions (${s.scanOptions.join('\\')})` };
  if (rules.excludeDescription && new RegExp(rules.excludeDescription, 'i').test(s.seriesDescription))
    return { reason: `description "${s.seriesDescription}" matches the exclusion pattern` };
  const tr = s.repetitionTime;
  const te = s.echoTime;
  if (tr === null || te === null) return { reason: 'missing RepetitionTime/EchoTime' };
  if (tr < rules.t1MaxTr && te < rules.t1MaxTe) return { weighting: 'T1' };
  if (tr > rules.t2MinTr && te > rules.t2MinTe) return { weighting: 'T2' };
  return { reason: `TR ${tr} ms / TE ${te} ms is neither T1 (TR < ${rules.t1MaxTr}, TE < ${rules.t1MaxTe}) nor T2 (TR > ${rules.t2MinTr}, TE > ${rules.t2MinTe})` };
}

function better(a: Candidate, b: Candidate): number {
  // negative: a is better
  return (
    b.lumbarHint - a.lumbarHint ||
    b.coversLumbar - a.coversLumbar ||
    b.s.frameCount - a.s.frameCount ||
    b.descMatch - a.descMatch ||
    (b.s.seriesNumber ?? 0) - (a.s.seriesNumber ?? 0) ||
    (a.s.seriesInstanceUID < b.s.seriesInstanceUID ? -1 : 1)
  );
}

/** Pick one sagittal T1 and one sagittal T2. Pure. */
export function selectSeries(series: SeriesHeader[], rules: SelectionRules = DEFAULT_SELECTION_RULES): SelectionResult {
  const skipped: SelectionResult['skipped'] = [];
  const cands: Candidate[] = [];
  const t1Re = rules.t1Description ? new RegExp(rules.t1Description, 'i') : null;
  const t2Re = rules.t2Description ? new RegExp(rules.t2Description, 'i') : null;
  for (const s of series) {
    const c = classifySeries(s, rules);
    if ('reason' in c) {
      skipped.push({ series: s.seriesInstanceUID, reason: c.reason });
      continue;
    }
    const text = `${s.bodyPartExamined} ${s.seriesDescription}`;
    const re = c.weighting === 'T1' ? t1Re : t2Re;
    cands.push({
      s,
      w: c.weighting,
      lumbarHint: LUMBAR_HINT.test(text) ? 1 : NON_LUMBAR_HINT.test(text) ? -1 : 0,
      coversLumbar: s.siExtentMm !== null && s.siExtentMm >= 200 ? 1 : 0,
      descMatch: re && re.test(s.seriesDescription) ? 1 : 0,
    });
  }
  const pick = (w: Weighting): string | null => {
    const list = cands.filter((c) => c.w === w).sort(better);
    const best = list[0];
    for (const c of list.slice(1)) {
      skipped.push({
        series: c.s.seriesInstanceUID,
        reason: `sagittal ${w} candidate not chosen: series ${best!.s.seriesNumber ?? best!.s.seriesInstanceUID} preferred (${describeWhy(best!, c)})`,
      });
    }
    return best ? best.s.seriesInstanceUID : null;
  };
  const t1 = pick('T1');
  const t2 = pick('T2');
  const out: SelectionResult = { t1, t2, skipped };
  if (!t1 || !t2) out.notAssessableReason = !t1 && !t2 ? 'no sagittal T1 and no sagittal T2' : !t1 ? 'no sagittal T1' : 'no sagittal T2';
  return out;
}

function describeWhy(best: Candidate, other: Candidate): string {
  if (best.lumbarHint !== other.lumbarHint) return 'lumbar description/body part';
  if (best.coversLumbar !== other.coversLumbar) return 'covers the lumbar region';
  if (best.s.frameCount !== other.s.frameCount) return `more slices: ${best.s.frameCount} vs ${other.s.frameCount}`;
  if (best.descMatch !== other.descMatch) return 'description matches';
  return 'later series';
}
