/**
 * Which series of a PACS study to retrieve, judged from the series-level attributes the PACS answers (C-FIND or
 * QIDO-RS), before any pixel is moved. Pure. The rules are the series-selection rules (`src/pipeline/selection.ts`,
 * config `selection`) applied to what the PACS tells: modality, body part, orientation (sagittal within
 * `sagittalMaxAngleDeg`), ImageType ORIGINAL, STIR/fat-sat by description, scan options or inversion time, TR/TE
 * (T1 or T2). An attribute the PACS does not return is not held against a series. When the PACS returns neither
 * orientation nor TR/TE for any MR series (too little to judge), every MR series of the study is retrieved and the
 * normal selection decides after retrieval.
 */
import { angleToLeftRight, LUMBAR_HINT, NON_LUMBAR_BODY_PART, NON_LUMBAR_HINT, type SelectionRules } from '../pipeline/selection.js';
import type { CandidateSeries } from '../store/index.js';

export interface RemoteStudy {
  studyUid: string;
  studyDate: string;
  description: string;
  bodyPart: string;
  accession: string;
  modalities: string[];
}

export interface RemoteSeries {
  uid: string;
  modality: string;
  number: number | null;
  description: string;
  bodyPart: string;
  /** ImageOrientationPatient (6 values) when the PACS returns it at series level. */
  orientation: number[] | null;
  imageType: string[];
  tr: number | null;
  te: number | null;
  ti: number | null;
  scanOptions: string[];
  instances: number | null;
}

export interface StudyFilters {
  descriptionFilter?: string;
  bodyPartFilter?: string;
}

export interface Judgement {
  candidates: CandidateSeries[];
  /** Set when nothing is retrieved: why the study is skipped. */
  skipReason?: string;
  /** `attributes`: judged from the PACS's attributes; `fallback`: too little returned, every MR series taken. */
  basis: 'attributes' | 'fallback';
  rejected: { uid: string; reason: string }[];
}

/** Why the study itself is not wanted (filters, no lumbar hint against a clear non-lumbar one), or null. */
export function studyFilterReason(study: Pick<RemoteStudy, 'description' | 'bodyPart'>, seriesBodyParts: string[], f: StudyFilters): string | null {
  if (f.descriptionFilter && !new RegExp(f.descriptionFilter, 'i').test(study.description))
    return `study description "${study.description}" does not match the campaign's description filter /${f.descriptionFilter}/`;
  if (f.bodyPartFilter) {
    const re = new RegExp(f.bodyPartFilter, 'i');
    const parts = [study.bodyPart, ...seriesBodyParts].filter(Boolean);
    if (!parts.some((p) => re.test(p))) return `body part ${parts.length ? [...new Set(parts)].join('/') : '(none given)'} does not match the campaign's body part filter /${f.bodyPartFilter}/`;
  }
  const text = `${study.bodyPart} ${study.description}`;
  const parts = [study.bodyPart, ...seriesBodyParts].filter(Boolean);
  if (!LUMBAR_HINT.test(text) && !parts.some((p) => LUMBAR_HINT.test(p))) {
    if (NON_LUMBAR_HINT.test(text)) return `not a lumbar study (description "${study.description}")`;
    if (parts.length && parts.every((p) => NON_LUMBAR_BODY_PART.test(p))) return `not a lumbar study (body part ${[...new Set(parts)].join('/')})`;
  }
  return null;
}

/** Why a series cannot be a sagittal T1/T2 candidate from what the PACS told, or null (a candidate). */
export function remoteSeriesReason(s: RemoteSeries, rules: SelectionRules): string | null {
  if (s.modality.toUpperCase() !== rules.modality.toUpperCase()) return `modality ${s.modality || 'missing'}, not ${rules.modality}`;
  if (s.bodyPart && NON_LUMBAR_BODY_PART.test(s.bodyPart)) return `body part ${s.bodyPart} is not the lumbar spine`;
  if (rules.requireOriginal && s.imageType.length && !s.imageType.map((t) => t.toUpperCase()).includes('ORIGINAL')) return `not an original image (ImageType ${s.imageType.join('\\')})`;
  if (s.orientation && s.orientation.length === 6) {
    const ang = angleToLeftRight(s.orientation);
    if (ang > rules.sagittalMaxAngleDeg) return `not sagittal (slice normal ${ang.toFixed(0)}° from the left-right axis > ${rules.sagittalMaxAngleDeg}°)`;
  }
  if (rules.excludeDescription && new RegExp(rules.excludeDescription, 'i').test(s.description)) return `description "${s.description}" matches the exclusion pattern`;
  if (s.scanOptions.some((o) => ['FS', 'FAT SAT', 'FSS', 'SFS', 'SPIR', 'SPAIR'].includes(o.toUpperCase()))) return `fat suppression in ScanOptions (${s.scanOptions.join('\\')})`;
  if (s.ti !== null && s.ti > 0 && s.ti < 300) return `inversion time ${s.ti} ms: STIR excluded`;
  if (s.tr !== null && s.te !== null) {
    const t1 = s.tr < rules.t1MaxTr && s.te < rules.t1MaxTe;
    const t2 = s.tr > rules.t2MinTr && s.te > rules.t2MinTe;
    if (!t1 && !t2) return `TR ${s.tr} ms / TE ${s.te} ms is neither T1 nor T2`;
  }
  return null;
}

/** The series to retrieve for a study, or why it is skipped. */
export function judgeStudy(study: Pick<RemoteStudy, 'description' | 'bodyPart'>, series: RemoteSeries[], rules: SelectionRules, f: StudyFilters = {}): Judgement {
  const mr = series.filter((s) => s.modality.toUpperCase() === rules.modality.toUpperCase());
  const rejected: Judgement['rejected'] = [];
  if (!mr.length) return { candidates: [], basis: 'attributes', rejected, skipReason: `no ${rules.modality} series (${[...new Set(series.map((s) => s.modality || '?'))].join(', ') || 'none returned'})` };
  const filter = studyFilterReason(study, mr.map((s) => s.bodyPart), f);
  if (filter) return { candidates: [], basis: 'attributes', rejected, skipReason: filter };
  const toCandidate = (s: RemoteSeries): CandidateSeries => ({ uid: s.uid, instances: s.instances, description: s.description });
  const judgeable = mr.some((s) => (s.orientation && s.orientation.length === 6) || (s.tr !== null && s.te !== null));
  if (!judgeable) return { candidates: mr.map(toCandidate), basis: 'fallback', rejected };
  const candidates: CandidateSeries[] = [];
  for (const s of mr) {
    const reason = remoteSeriesReason(s, rules);
    if (reason) rejected.push({ uid: s.uid, reason });
    else candidates.push(toCandidate(s));
  }
  if (!candidates.length) {
    const why = [...new Set(rejected.map((r) => r.reason.replace(/ \(.*\)$/, '').replace(/"[^"]*"/, '…')))].slice(0, 3).join('; ');
    return { candidates, basis: 'attributes', rejected, skipReason: `no candidate sagittal series (${why})` };
  }
  return { candidates, basis: 'attributes', rejected };
}
