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
import { roiSpecOf, type RadscoreModel, type ScoreOutcome } from '../model/index.js';
import type { PredecessorRef } from '../report/index.js';
import type { SelectionRecord } from '../store/types.js';
import { pauseAt, faultAt, type FaultStage } from '../common/test-pause.js';
import { modelForStudy, type ModelChoice, type ScannerModelRef } from './model-choice.js';
import { buildStudyModel, type SeriesFiles } from './study-model.js';
import { logSkipped, selectStage, studySource, type Scanner, type Selection } from './stages/select.js';
import { buildVolumes } from './stages/volumes.js';
import { segmentStage, type Segmentation, type SegmentationSummary } from './stages/segment.js';
import { featuresStage, type StudyFeatureValues } from './stages/features.js';
import { scoreStage, type Scored } from './stages/score.js';
import { writeReports, type WrittenReports } from './stages/report.js';
import type { Volume } from '../volume/types.js';

export type { SeriesFiles } from './study-model.js';

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

/** What the stages after the selection found; a field is there when its stage ran. */
interface StageResults {
  /** Why the study is not assessable (the first stage that refused), null when scored. */
  reason: string | null;
  /** The T1 volume, also when only the T2 failed to load (the summary image shows it). */
  t1Volume?: Volume;
  segmentation?: Segmentation;
  features?: StudyFeatureValues;
  scored?: Scored;
}

/** How a stage is run: timed, and with the test-only hooks before it. */
interface StageRunner {
  time: <T>(stage: string, fn: () => Promise<T> | T) => Promise<T>;
  hooks: (stage: FaultStage) => Promise<void>;
}

function stageRunner(input: AnalyseInput, timings: Record<string, number>): StageRunner {
  return {
    // the job's timings and the stage-seconds metric
    async time(stage, fn) {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        timings[stage] = Number(((performance.now() - t0) / 1000).toFixed(3));
      }
    },
    // OSTEOSCREEN_TEST_PAUSE_AT / OSTEOSCREEN_TEST_FAULT (test-only), before a stage
    async hooks(stage) {
      await pauseAt(stage, { studyUid: input.studyUid });
      await faultAt(stage, input.attempt, { studyUid: input.studyUid });
    },
  };
}

/** Stages 2-5: volumes -> segment + QA gate -> features -> score; each takes the results of the ones before, the first refusal ends the chain. */
async function measure(run: StageRunner, selection: Selection, model: RadscoreModel, input: AnalyseInput, deps: AnalyseDeps): Promise<StageResults> {
  if (selection.reason) return { reason: selection.reason };
  const volumes = await run.time('volume', () => buildVolumes(selection));
  if ('reason' in volumes) return { reason: volumes.reason, t1Volume: volumes.t1 };
  const t1Volume = volumes.t1;
  await run.hooks('segmentation');
  const roi = roiSpecOf(model, deps.config.segmentation.erosionMm);
  const segmentation = await run.time('segment', () => segmentStage(volumes, deps.segmenter, roi));
  if (segmentation.reason) return { reason: segmentation.reason, t1Volume, segmentation };
  await run.hooks('features');
  const features = await run.time('features', () => featuresStage(volumes, segmentation.spine, model, input.features));
  const scored = await run.time('score', () => scoreStage(model, features, deps.config));
  return { reason: scored.reason, t1Volume, segmentation, features, scored };
}

export async function analyseStudy(input: AnalyseInput, deps: AnalyseDeps): Promise<AnalyseResult> {
  const { config } = deps;
  const timings: Record<string, number> = {};
  const run = stageRunner(input, timings);

  // 1. select over the study model (each header read once), then the source header, the scanner and its model
  const { study, selection } = await run.time('select', () => {
    const study = buildStudyModel(input.studyUid, input.series);
    return { study, selection: selectStage(study, config.selection) };
  });
  logSkipped(input.studyUid, selection);
  const source = studySource(study, selection);
  const { model, choice } = modelForStudy(source?.scanner ?? null, deps.model, input.scannerModels, deps.loadScannerModel);

  // 2.-5. volumes, segmentation + QA gate, radiomics on both sequences, radscore
  const found = await measure(run, selection, model, input, deps);
  const scored = found.scored?.reason === null ? found.scored.score : undefined;

  // 6. reports (also for a not-assessable MR study: the radiologist sees why there is no score)
  let reports: WrittenReports | undefined;
  const reportDir = input.reportDir;
  if (reportDir && source && (scored || selection.anyMr)) {
    await run.hooks('report');
    const { studyUid, revision, earlierSrs, algorithmVersion } = input;
    const of = { studyUid, revision, earlierSrs, algorithmVersion, source, selection, model, modelChoice: choice, ...found, scored };
    reports = await run.time('report', () => writeReports(of, reportDir, config.output.seg));
  }
  return {
    state: scored ? 'done' : 'not-assessable',
    reason: scored ? null : (found.reason ?? 'not assessable'),
    selection: selection.record,
    segmentation: found.segmentation?.summary ?? null,
    features: found.features ?? null,
    score: found.scored?.score ?? null,
    scanner: source?.scanner ?? null,
    modelChoice: choice,
    reportFiles: reports?.files ?? [],
    ...(reports ? { summaryPng: reports.summaryPng } : {}),
    timings,
  };
}
