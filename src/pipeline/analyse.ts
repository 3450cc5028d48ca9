/**
 * The study analysis shared by the service (in a worker thread) and the research `cohort` command, as typed
 * stages over a study model built once (src/pipeline/study-model.ts: every instance header parsed once):
 *   select (stages/select.ts) -> volumes (stages/volumes.ts) -> segment + QA (stages/segment.ts)
 *   -> features (stages/features.ts) -> score (stages/score.ts) -> report (stages/report.ts).
 * Each stage takes the typed results of the ones before and returns its own; expected outcomes ("not assessable:
 * no sagittal T2", "T1: fewer than four lumbar bodies") are results with a reason, never exceptions; exceptions
 * mean an unexpected failure (the job is retried).
 */
import type { Config } from '../config/schema.js';
import type { Segmenter } from '../segmentation/index.js';
import { isNotAssessable, roiSpecOf, type RadscoreModel, type ScoreOutcome } from '../model/index.js';
import type { PredecessorRef } from '../report/index.js';
import type { SelectionRecord } from '../store/types.js';
import { pauseAt, faultAt, type FaultStage } from '../common/test-pause.js';
import { modelForStudy, type ModelChoice, type ScannerModelRef } from './model-choice.js';
import { buildStudyModel, type SeriesFiles } from './study-model.js';
import { logSkipped, selectStage, studySource, type Scanner } from './stages/select.js';
import { buildVolumes, type Volumes } from './stages/volumes.js';
import { segmentStage, type Segmentation, type SegmentationSummary } from './stages/segment.js';
import { featuresStage, type StudyFeatureValues } from './stages/features.js';
import { scoreStage, type Scored } from './stages/score.js';
import { writeReports, type WrittenReports } from './stages/report.js';
import type { Volume } from '../volume/types.js';

export type { SeriesFiles } from './study-model.js';
export type { LevelInfo } from './stages/segment.js';
export { pooledRoi } from './stages/features.js';
export { scoreOptionsOf } from './stages/score.js';

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

export interface AnalyseResult {
  state: 'done' | 'not-assessable';
  reason: string | null;
  selection: SelectionRecord;
  segmentation: SegmentationSummary | null;
  features: StudyFeatureValues | null;
  score: ScoreOutcome | null;
  scanner: Scanner | null;
  /** Which model scored (or would have scored) the study, and why. */
  modelChoice: ModelChoice | null;
  reportFiles: WrittenReports['files'];
  summaryPng?: string;
  timings: Record<string, number>;
}

/** Runs a stage and records its seconds under `stage` in `timings` (the job's timings, the stage-seconds metric). */
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

export async function analyseStudy(input: AnalyseInput, deps: AnalyseDeps): Promise<AnalyseResult> {
  const { config } = deps;
  const { studyUid } = input;
  const timings: Record<string, number> = {};
  const time = timer(timings);
  /** The test-only pause and fault hooks (OSTEOSCREEN_TEST_PAUSE_AT / OSTEOSCREEN_TEST_FAULT) before a stage. */
  const hooks = async (stage: FaultStage) => {
    await pauseAt(stage, { studyUid });
    await faultAt(stage, input.attempt, { studyUid });
  };

  // 1. select (the study model: each header read once), then the source header, scanner and model
  const { study, selection } = await time('select', () => {
    const study = buildStudyModel(studyUid, input.series);
    return { study, selection: selectStage(study, config.selection) };
  });
  logSkipped(studyUid, selection);
  const source = studySource(study, selection);
  const { model, choice } = modelForStudy(source?.scanner ?? null, deps.model, input.scannerModels, deps.loadScannerModel);
  let reason = selection.reason;

  // 2. volumes
  let volumes: Volumes | undefined;
  let t1Volume: Volume | undefined;
  if (!reason) {
    const v = await time('volume', () => buildVolumes(selection));
    if ('reason' in v) reason = v.reason;
    else volumes = v;
    t1Volume = v.t1;
  }
  // 3. segmentation + QA gate
  let segmentation: Segmentation | undefined;
  if (!reason && volumes) {
    await hooks('segmentation');
    const vols = volumes;
    segmentation = await time('segment', () => segmentStage(vols, deps.segmenter, roiSpecOf(model, config.segmentation.erosionMm)));
    reason = segmentation.reason;
  }
  // 4. radiomics on both sequences, 5. radscore
  let features: StudyFeatureValues | undefined;
  let scored: Scored | undefined;
  if (!reason && volumes && segmentation) {
    await hooks('features');
    const [vols, spine] = [volumes, segmentation.spine];
    const feats = await time('features', () => featuresStage(vols, spine, model, input.features));
    features = feats;
    scored = await time('score', () => scoreStage(model, feats, config));
    reason = scored.reason;
  }
  const done = scored !== undefined && scored.reason === null;

  // 6. reports (also for a not-assessable MR study: the radiologist sees why there is no score)
  let reports: WrittenReports | undefined;
  const reportDir = input.reportDir;
  if (reportDir && source && (done || selection.anyMr)) {
    await hooks('report');
    const { revision, earlierSrs, algorithmVersion } = input;
    const scoredResult = done && scored && !isNotAssessable(scored.score) ? scored.score : undefined;
    const of = { studyUid, revision, earlierSrs, algorithmVersion, source, selection, model, modelChoice: choice, t1Volume, segmentation, scored: scoredResult, reason };
    reports = await time('report', () => writeReports(of, reportDir, config.output.seg));
  }
  return {
    state: done ? 'done' : 'not-assessable',
    reason: done ? null : (reason ?? 'not assessable'),
    selection: selection.record,
    segmentation: segmentation?.summary ?? null,
    features: features ?? null,
    score: scored?.score ?? null,
    scanner: source?.scanner ?? null,
    modelChoice: choice,
    reportFiles: reports?.files ?? [],
    ...(reports ? { summaryPng: reports.summaryPng } : {}),
    timings,
  };
}
