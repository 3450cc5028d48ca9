/**
 * The study analysis shared by the service (in a worker thread) and the research `cohort` command:
 * selection -> volumes -> segmentation + QA -> radiomics -> radscore -> report files.
 * Expected outcomes ("not assessable: no sagittal T2", "T1: fewer than four lumbar bodies") are results
 * with a reason, never exceptions; exceptions mean an unexpected failure (the job is retried).
 */
import { cross, dot } from '../volume/geometry.js';
import type { Config } from '../config/schema.js';
import { NotAssessable, errorMessage } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { Volume, LabelMap } from '../volume/types.js';
import { readSeriesHeader, selectSeries, type SeriesHeader } from './selection.js';
import { loadSeriesVolume } from '../dicom/volume.js';
import { parseHeader } from '../dicom/tags.js';
import { Segmenter, analyseSpine, type SpineResult } from '../segmentation/index.js';
import { extractFeatures, type RImage, type RMask } from '../radiomics/index.js';
import { scoreStudy, scoreOptionsFrom, requiredFeatures, isNotAssessable, radiomicsSettingsOf, roiSpecOf, type RadscoreModel, type ScoreOutcome } from '../model/index.js';
import { outputUids, writeReportFiles, type PredecessorRef, type ReportInput, type ReportResult, type SegInput } from '../report/index.js';
import type { SelectionRecord } from '../store/types.js';
import { readFileSync } from 'node:fs';
import { pauseAt, faultAt } from '../common/test-pause.js';
import { chooseModel, type ModelChoice, type ScannerModelRef } from './model-choice.js';

const log = logger('analyse');

export interface SeriesFiles {
  seriesUid: string;
  files: string[];
}

export interface AnalyseInput {
  studyUid: string;
  series: SeriesFiles[];
  /** Which features to compute: the model's terms only (service) or every feature of the model's extraction (research). */
  features: 'model' | 'all';
  /** Where report files are written (omit: no reports). */
  reportDir?: string;
  /** Revision of the report (1 first, +1 per re-run with the same model). */
  revision?: number;
  /** SRs of earlier runs of the study; those in this report's SR series become its predecessors. */
  earlierSrs?: PredecessorRef[];
  algorithmVersion: string;
  /** The job's attempt (1 first); read only by the test-only fault hook (OSTEOSCREEN_TEST_FAULT). */
  attempt?: number;
  /** Approved per-scanner models (src/pipeline/model-choice.ts); the study's scanner picks one, else the default. */
  scannerModels?: ScannerModelRef[];
}

export interface AnalyseDeps {
  config: Config;
  /** The default model (model.file). */
  model: RadscoreModel;
  segmenter: Segmenter;
  /** Loads an approved per-scanner model (the worker caches them); without it only the default is used. */
  loadScannerModel?: (ref: ScannerModelRef) => RadscoreModel;
}

export interface LevelInfo {
  level: string;
  volumeMm3: number;
  midSlice: number;
}

export interface AnalyseResult {
  state: 'done' | 'not-assessable';
  reason: string | null;
  selection: SelectionRecord;
  segmentation: { ok: boolean; reason?: string; levels: LevelInfo[]; agreement?: Record<string, number> } | null;
  features: { T1: Record<string, number | null>; T2: Record<string, number | null> } | null;
  score: ScoreOutcome | null;
  scanner: { manufacturer: string; model: string; station: string } | null;
  /** Which model scored (or would have scored) the study, and why. */
  modelChoice: ModelChoice | null;
  reportFiles: { kind: string; path: string; sopInstanceUid: string; seriesInstanceUid?: string; sopClassUid?: string }[];
  summaryPng?: string;
  timings: Record<string, number>;
}

/** The scoring options of the config (model.requireCalibrated, the out-of-range guard). */
export function scoreOptionsOf(config: Config) {
  return scoreOptionsFrom(config.model);
}

function toRImage(v: Volume): RImage {
  return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: Float64Array.from(v.data), pixelType: 'float32' };
}

/** Union of the L1-L4 ROI labels (1..4) as one ROI with label 1, as the reference study pooled the bodies. */
export function pooledRoi(roi: LabelMap): RMask {
  const data = new Uint8Array(roi.data.length);
  for (let i = 0; i < data.length; i++) data[i] = roi.data[i]! >= 1 && roi.data[i]! <= 4 ? 1 : 0;
  return { dims: roi.dims, spacing: roi.spacing, origin: roi.origin, direction: roi.direction, data };
}

function timer(timings: Record<string, number>) {
  return async <T>(stage: string, fn: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[stage] = Number(((performance.now() - t0) / 1000).toFixed(3));
    }
  };
}

function headerOf(file: string): Record<string, any> {
  return parseHeader(readFileSync(file)).dataset;
}

export async function analyseStudy(input: AnalyseInput, deps: AnalyseDeps): Promise<AnalyseResult> {
  const timings: Record<string, number> = {};
  const time = timer(timings);
  const { config } = deps;
  let model = deps.model;
  const result: AnalyseResult = {
    state: 'not-assessable',
    reason: null,
    selection: { t1: null, t2: null, skipped: [] },
    segmentation: null,
    features: null,
    score: null,
    scanner: null,
    modelChoice: null,
    reportFiles: [],
    timings,
  };

  // 1. selection
  const headers: SeriesHeader[] = [];
  await time('select', async () => {
    for (const s of input.series) {
      try {
        headers.push(readSeriesHeader(s.files));
      } catch (e) {
        result.selection.skipped.push({ series: s.seriesUid, reason: `unreadable header: ${errorMessage(e)}` });
      }
    }
    const sel = selectSeries(headers, config.selection);
    result.selection = { t1: sel.t1, t2: sel.t2, skipped: [...result.selection.skipped, ...sel.skipped] };
    if (!sel.t1 || !sel.t2) result.reason = sel.notAssessableReason ?? (!sel.t1 ? 'no sagittal T1' : 'no sagittal T2');
  });
  for (const s of result.selection.skipped) log.info('series skipped', { studyUid: input.studyUid, seriesUid: s.series, reason: s.reason });
  const filesOf = (uid: string | null) => input.series.find((s) => s.seriesUid === uid)?.files ?? [];
  const t1Files = filesOf(result.selection.t1);
  const t2Files = filesOf(result.selection.t2);
  const anyMr = headers.some((h) => (h as { modality?: string }).modality === 'MR');
  const sourceHeader = t1Files[0] ? headerOf(t1Files[0]) : input.series[0]?.files[0] ? headerOf(input.series[0].files[0]) : null;
  if (sourceHeader) {
    result.scanner = {
      manufacturer: String(sourceHeader.Manufacturer ?? ''),
      model: String(sourceHeader.ManufacturerModelName ?? ''),
      station: String(sourceHeader.StationName ?? ''),
    };
  }
  if (input.scannerModels?.length && deps.loadScannerModel) {
    const picked = chooseModel(result.scanner, deps.model, input.scannerModels, deps.loadScannerModel);
    model = picked.model;
    result.modelChoice = picked.choice;
  } else if (result.scanner) {
    result.modelChoice = chooseModel(result.scanner, deps.model, [], () => deps.model).choice;
  }

  let t1: Volume | undefined;
  let t2: Volume | undefined;
  let spine: SpineResult | undefined;
  if (!result.reason) {
    // 2. volumes
    try {
      await time('volume', async () => {
        t1 = await loadSeriesVolume(t1Files);
        t2 = await loadSeriesVolume(t2Files);
      });
    } catch (e) {
      if (!(e instanceof NotAssessable)) throw e;
      result.reason = e.message;
    }
  }
  if (!result.reason && t1 && t2) {
    // 3. segmentation + QA gate
    await pauseAt('segmentation', { studyUid: input.studyUid });
    await faultAt('segmentation', input.attempt, { studyUid: input.studyUid });
    spine = await time('segment', () => analyseSpine(t1!, t2!, { segmenter: deps.segmenter, roi: roiSpecOf(model, config.segmentation.erosionMm) }));
    result.segmentation = {
      ok: spine.ok,
      reason: spine.reason,
      levels: spine.levels.map((l: SpineResult['levels'][number]) => ({ level: l.level, volumeMm3: Number(l.volumeMm3.toFixed(1)), midSlice: l.midSlice })),
      agreement: spine.agreement,
    };
    if (!spine.ok) result.reason = spine.reason ?? 'segmentation failed the QA gate';
  }
  if (!result.reason && spine && t1 && t2) {
    // 4. radiomics on both sequences
    await pauseAt('features', { studyUid: input.studyUid });
    await faultAt('features', input.attempt, { studyUid: input.studyUid });
    const settings = radiomicsSettingsOf(model);
    const need = requiredFeatures(model);
    const feats = await time('features', () => ({
      T1: extractFeatures(toRImage(t1!), pooledRoi(spine!.t1Roi), settings, input.features === 'model' ? { only: need.T1 } : {}).features,
      T2: extractFeatures(toRImage(t2!), pooledRoi(spine!.t2Roi), settings, input.features === 'model' ? { only: need.T2 } : {}).features,
    }));
    result.features = feats;
    // 5. radscore
    const score = await time('score', () => scoreStudy(model, feats, scoreOptionsOf(config)));
    result.score = score;
    if (isNotAssessable(score)) result.reason = score.notAssessable;
    else result.state = 'done';
  }

  // 6. reports (also for a not-assessable MR study: the radiologist sees why there is no score)
  if (input.reportDir && sourceHeader && (result.state === 'done' || anyMr)) {
    await pauseAt('report', { studyUid: input.studyUid });
    await faultAt('report', input.attempt, { studyUid: input.studyUid });
    await time('report', () => {
      const reportResult: ReportResult =
        result.state === 'done' && result.score && !isNotAssessable(result.score)
          ? {
              kind: 'scored',
              score: result.score.score,
              cutoff: result.score.cutoff,
              flag: result.score.flag,
              noFlag: result.score.noFlag,
              calibrated: result.score.calibrated,
              intercept: result.score.intercept,
              terms: result.score.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.value, z: t.z, coefficient: t.coefficient, contribution: t.contribution })),
              levels: (result.segmentation?.levels ?? []).map((l) => ({ level: l.level, volumeMm3: l.volumeMm3 })),
            }
          : { kind: 'not-assessable', reason: result.reason ?? 'not assessable', levels: result.segmentation?.levels.map((l) => ({ level: l.level, volumeMm3: l.volumeMm3 })) };
      const evidence = (files: string[], uid: string | null) =>
        uid && files.length
          ? {
              seriesInstanceUid: uid,
              instances: files.map((f) => {
                const h = headerOf(f);
                return { sopClassUid: String(h.SOPClassUID), sopInstanceUid: String(h.SOPInstanceUID) };
              }),
            }
          : undefined;
      const reportInput: ReportInput = {
        source: sourceHeader as ReportInput['source'],
        evidence: { t1: evidence(t1Files, result.selection.t1), t2: evidence(t2Files, result.selection.t2) },
        result: reportResult,
        model: { name: model.name, version: model.version, hash: model.hash ?? '', calibrated: model.calibrated },
        modelChoice: result.modelChoice?.reason,
        algorithm: { name: 'OsteoScreen', version: input.algorithmVersion },
        revision: input.revision ?? 1,
        predecessors: predecessorsFor(input, model),
        summary: t1 ? summarySlice(t1, spine) : undefined,
      };
      const seg = config.output.seg && spine?.ok && t1 ? segInputFor(t1Files, spine.t1Roi, result.selection.t1!) : undefined;
      const written = writeReportFiles(reportInput, input.reportDir!, { seg, previewPng: true });
      result.reportFiles = written.files.map((f) => ({ kind: f.kind, path: f.path, sopInstanceUid: f.sopInstanceUid, seriesInstanceUid: f.seriesInstanceUid, sopClassUid: f.sopClassUid }));
      result.summaryPng = written.previewPng;
    });
  }
  if (result.state === 'not-assessable' && !result.reason) result.reason = 'not assessable';
  return result;
}

/**
 * SEG input: the T1 ROI with the source instance of each slice (slices ordered along the normal, as the volume).
 * Multi-frame (Enhanced MR) sources have no per-slice instance: no SEG then.
 */
function segInputFor(files: string[], roi: LabelMap, seriesUid: string): SegInput | undefined {
  if (files.length !== roi.dims[2]) return undefined;
  const items = files.map((f) => {
    const h = headerOf(f);
    const iop = (h.ImageOrientationPatient as number[]).map(Number);
    const ipp = (h.ImagePositionPatient as number[]).map(Number);
    const n = cross(iop.slice(0, 3), iop.slice(3, 6));
    return { pos: dot(n, ipp), sopClassUid: String(h.SOPClassUID), sopInstanceUid: String(h.SOPInstanceUID), frame: String(h.FrameOfReferenceUID ?? '') };
  });
  items.sort((a, b) => a.pos - b.pos);
  // The volume's k axis runs along the normal from the first to the last slice, like this sort.
  return { labels: roi, frameOfReferenceUid: items[0]!.frame, sliceInstances: items.map(({ sopClassUid, sopInstanceUid }) => ({ sopClassUid, sopInstanceUid })), sourceSeriesInstanceUid: seriesUid };
}

/** The mid-sagittal T1 slice (median of the bodies' centre slices) with the ROI labels on it. */
function summarySlice(t1: Volume, spine: SpineResult | undefined) {
  const [nx, ny, nz] = t1.dims;
  const mids = spine?.levels.map((l: SpineResult['levels'][number]) => l.midSlice).sort((a: number, b: number) => a - b) ?? [];
  const k = mids.length ? mids[Math.floor(mids.length / 2)]! : Math.floor(nz / 2);
  const n = nx * ny;
  const slice = t1.data.slice(k * n, (k + 1) * n);
  const roi = spine?.ok ? spine.t1Roi.data.slice(k * n, (k + 1) * n) : undefined;
  return { slice, rows: ny, columns: nx, pixelSpacing: [t1.spacing[1], t1.spacing[0]] as [number, number], roiOutline: roi };
}

/** The earlier SRs in the SR series this run writes to (same study, model version and hash), minus itself. */
function predecessorsFor(input: AnalyseInput, model: RadscoreModel): PredecessorRef[] | undefined {
  const uids = outputUids(input.studyUid, { version: model.version, hash: model.hash ?? '' }, 'sr');
  const own = uids.instanceUid(input.revision ?? 1);
  const list = (input.earlierSrs ?? []).filter((p) => p.seriesInstanceUid === uids.seriesInstanceUid && p.sopInstanceUid !== own);
  return list.length ? list : undefined;
}
