/**
 * Stage 6, report: the report input (source header, evidence, result, model, summary slice, predecessors) and the
 * SEG input, from the typed results of the stages before; then the report files (SR, summary image, SEG). Also for
 * a not-assessable MR study: the radiologist sees why there is no score.
 */
import { sliceNormal, sortAlongNormal } from '../../volume/geometry.js';
import type { LabelMap, Volume } from '../../volume/types.js';
import type { SpineResult } from '../../segmentation/index.js';
import type { RadscoreModel, ScoreResult } from '../../model/index.js';
import { outputUids, writeReportFiles, type EvidenceSeries, type PredecessorRef, type ReportInput, type ReportResult, type SegInput } from '../../report/index.js';
import type { ModelChoice } from '../model-choice.js';
import type { StudySeries } from '../study-model.js';
import type { Selection, StudySource } from './select.js';
import type { Segmentation } from './segment.js';

/** What the report says, gathered from the stages (those that did not run are absent). */
export interface ReportStageInput {
  studyUid: string;
  revision?: number;
  earlierSrs?: PredecessorRef[];
  algorithmVersion: string;
  source: StudySource;
  selection: Selection;
  model: RadscoreModel;
  modelChoice: ModelChoice | null;
  /** The T1 volume when it could be loaded (the summary image shows its mid-sagittal slice). */
  t1Volume?: Volume;
  segmentation?: Segmentation;
  /** The score when the study was scored (state done). */
  scored?: ScoreResult;
  /** Why not assessable (when not scored). */
  reason: string | null;
}

export interface WrittenReports {
  files: { kind: string; path: string; sopInstanceUid: string; seriesInstanceUid?: string; sopClassUid?: string }[];
  summaryPng?: string;
}

function reportResultOf(x: ReportStageInput): ReportResult {
  const levels = (x.segmentation?.summary.levels ?? []).map((l) => ({ level: l.level, volumeMm3: l.volumeMm3 }));
  const s = x.scored;
  if (!s) return { kind: 'not-assessable', reason: x.reason ?? 'not assessable', levels: x.segmentation ? levels : undefined };
  return {
    kind: 'scored',
    score: s.score,
    cutoff: s.cutoff,
    flag: s.flag,
    noFlag: s.noFlag,
    calibrated: s.calibrated,
    intercept: s.intercept,
    terms: s.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.value, z: t.z, coefficient: t.coefficient, contribution: t.contribution })),
    levels,
  };
}

/** The source series and instances of the result (SR image library, evidence sequence). */
function evidenceOf(series: StudySeries | undefined): EvidenceSeries | undefined {
  if (!series?.files.length) return undefined;
  return { seriesInstanceUid: series.seriesUid, instances: series.instances.map((h) => ({ sopClassUid: h.sopClassUID, sopInstanceUid: h.sopInstanceUID })) };
}

export function reportInputOf(x: ReportStageInput): ReportInput {
  const { model } = x;
  return {
    source: x.source.header,
    evidence: { t1: evidenceOf(x.selection.t1), t2: evidenceOf(x.selection.t2) },
    result: reportResultOf(x),
    model: { name: model.name, version: model.version, hash: model.hash ?? '', calibrated: model.calibrated },
    modelChoice: x.modelChoice?.reason,
    algorithm: { name: 'OsteoScreen', version: x.algorithmVersion },
    revision: x.revision ?? 1,
    predecessors: predecessorsFor(x, model),
    summary: x.t1Volume ? summarySlice(x.t1Volume, x.segmentation?.spine) : undefined,
  };
}

/**
 * SEG input: the T1 ROI with the source instance of each slice, in the volume's k order (along the slice normal,
 * volume/geometry.ts). Multi-frame (Enhanced MR) sources have no per-slice instance: no SEG then.
 */
export function segInputOf(series: StudySeries, roi: LabelMap): SegInput | undefined {
  if (series.files.length !== roi.dims[2]) return undefined;
  const ori = series.instances[0]?.frames[0]?.orientation;
  const normal = ori ? sliceNormal(ori.slice(0, 3), ori.slice(3, 6)) : null;
  if (!normal || series.instances.some((h) => !h.frames[0]?.position)) return undefined;
  const sorted = sortAlongNormal(series.instances, normal, (h) => h.frames[0]!.position!);
  return {
    labels: roi,
    frameOfReferenceUid: sorted[0]!.item.frameOfReferenceUID,
    sliceInstances: sorted.map(({ item }) => ({ sopClassUid: item.sopClassUID, sopInstanceUid: item.sopInstanceUID })),
    sourceSeriesInstanceUid: series.seriesUid,
  };
}

/** Write the SR, the summary image (+ its PNG preview) and, when `withSeg` and the ROI passed the gate, the SEG. */
export function writeReports(x: ReportStageInput, dir: string, withSeg: boolean): WrittenReports {
  const spine = x.segmentation?.spine;
  const seg = withSeg && spine?.ok && x.t1Volume && x.selection.t1 ? segInputOf(x.selection.t1, spine.t1Roi) : undefined;
  const written = writeReportFiles(reportInputOf(x), dir, { seg, previewPng: true });
  return {
    files: written.files.map((f) => ({ kind: f.kind, path: f.path, sopInstanceUid: f.sopInstanceUid, seriesInstanceUid: f.seriesInstanceUid, sopClassUid: f.sopClassUid })),
    summaryPng: written.previewPng,
  };
}

/** The mid-sagittal T1 slice (median of the bodies' centre slices) with the ROI labels on it. */
function summarySlice(t1: Volume, spine: SpineResult | undefined) {
  const [nx, ny, nz] = t1.dims;
  const mids = spine?.levels.map((l) => l.midSlice).sort((a, b) => a - b) ?? [];
  const k = mids.length ? mids[Math.floor(mids.length / 2)]! : Math.floor(nz / 2);
  const n = nx * ny;
  const slice = t1.data.slice(k * n, (k + 1) * n);
  const roi = spine?.ok ? spine.t1Roi.data.slice(k * n, (k + 1) * n) : undefined;
  return { slice, rows: ny, columns: nx, pixelSpacing: [t1.spacing[1], t1.spacing[0]] as [number, number], roiOutline: roi };
}

/** The earlier SRs in the SR series this run writes to (same study, model version and hash), minus itself. */
function predecessorsFor(x: Pick<ReportStageInput, 'studyUid' | 'revision' | 'earlierSrs'>, model: RadscoreModel): PredecessorRef[] | undefined {
  const uids = outputUids(x.studyUid, { version: model.version, hash: model.hash ?? '' }, 'sr');
  const own = uids.instanceUid(x.revision ?? 1);
  const list = (x.earlierSrs ?? []).filter((p) => p.seriesInstanceUid === uids.seriesInstanceUid && p.sopInstanceUid !== own);
  return list.length ? list : undefined;
}
