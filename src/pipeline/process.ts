import { copyFileSync, mkdirSync } from 'node:fs';
import { jobResultSchema, type JobResultInput } from '../store/job-result.js';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Store, JobRow } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { logger } from '../common/log.js';
import type { JobOutcome, StudyProcessor } from './runner.js';
import type { AnalyseInput, AnalyseResult } from './analyse.js';
import { instanceDestinationKeys } from './deliver.js';
import { queueWebhooks } from '../output/webhook.js';
import { queueHl7 } from '../output/hl7.js';
import { queueFhir } from '../output/fhir.js';
import { studyIdentity, type IdentityResult } from '../output/identity.js';
import { earlierSrs } from './predecessors.js';
import { scoreVsCutoff } from '../report/numbers.js';
import { scannerKey } from '../common/scanner.js';
import type { ScannerModelRef } from './model-choice.js';

const log = logger('process');

export interface ProcessorDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  /** Runs the analysis (a worker thread in the service; in-process in tests/CLI). */
  analyse: (input: AnalyseInput) => Promise<AnalyseResult>;
  version: string;
  /** The approved per-scanner models, read for each job (an approval applies from the next study on). */
  scannerModels?: () => ScannerModelRef[];
  /** Called after a scored study (drift statistics, per-scanner calibration data). */
  onScored?: (info: {
    scanner: string;
    jobId: number;
    studyUid: string;
    terms: { sequence: string; feature: string; value: number }[];
    /** Radscore, cut-off and model of the result, and the study's patient identity (read once per job): DXA outcome matching. */
    score?: { score: number; cutoff: number; model: { name: string; version: string; hash: string } };
    identity?: () => IdentityResult;
  }) => void;
}

/** Folder of a study's outputs in the data folder. */
export function outputsDir(store: Store, studyUid: string): string {
  return path.join(store.dir, 'outputs', studyUid);
}

/** The job result as stored (and shown by the API / page). */
export function jobResultView(r: AnalyseResult): JobResultInput {
  const s = r.score && !('notAssessable' in r.score) ? r.score : null;
  return {
    kind: r.state === 'done' ? ('scored' as const) : ('not-assessable' as const),
    reason: r.reason,
    score: s?.score ?? null,
    cutoff: s?.cutoff ?? null,
    flag: s ? s.flag : null,
    /** Why there is no flag, in words (uncalibrated model / out-of-range terms); null with a flag. */
    flagSuppressed: s?.flagSuppressed ?? null,
    noFlag: s?.noFlag ?? [],
    outOfRange: s?.outOfRange ?? [],
    calibrated: s?.calibrated ?? null,
    model: r.score?.model ?? null,
    /** Which model was used and why (default, or the approved calibration of the study's scanner). */
    modelChoice: r.modelChoice ?? null,
    terms: s?.terms ?? [],
    levels: r.segmentation?.levels ?? [],
    scanner: r.scanner,
    outputs: r.reportFiles.map((f) => ({ kind: f.kind, sopInstanceUid: f.sopInstanceUid, seriesInstanceUid: f.seriesInstanceUid, sopClassUid: f.sopClassUid })),
  };
}

/** The study processor: gathers the study's files from the index, runs the analysis, queues the outputs. */
export function createProcessor(deps: ProcessorDeps): StudyProcessor {
  const { store, config, metrics } = deps;
  return async (job: JobRow): Promise<JobOutcome> => {
    const series = store.index.listSeries({ studyUid: job.study_uid }).map((s) => ({
      seriesUid: s.series_uid,
      files: store.index.instancesOfSeries(s.series_uid).filter((i) => !i.files_deleted).map((i) => i.path),
    }));
    const previous = store.index.jobsOfStudy(job.study_uid).filter((j) => j.id !== job.id && j.result !== null).length;
    const reportDir = path.join(outputsDir(store, job.study_uid), `job-${job.id}`);
    const earlier = earlierSrs(store, job.study_uid, job.id);
    const result = await deps.analyse({ studyUid: job.study_uid, series, features: 'model', reportDir, revision: previous + 1, earlierSrs: earlier, algorithmVersion: deps.version, attempt: job.attempts, scannerModels: deps.scannerModels?.() });
    for (const [stage, seconds] of Object.entries(result.timings)) metrics.stageSeconds.observe({ stage }, seconds);

    // Queue the outputs: every report file to every destination (persistent outbox), optionally a folder copy.
    // A study retrieved by a backfill campaign gets no new series in the PACS unless the campaign asks for them
    // (its results go to the non-DICOM outputs: webhook, FHIR, HL7, the worklist export).
    const backfill = store.backfill.routingOf(job.study_uid);
    const dicomDestinations = backfill && !backfill.sendToPacs ? [] : instanceDestinationKeys(config);
    for (const f of result.reportFiles) {
      for (const destination of dicomDestinations) {
        store.outbox.add({ studyUid: job.study_uid, jobId: job.id, kind: f.kind, destination, path: f.path, sopUid: f.sopInstanceUid });
      }
      if (config.output.folder) {
        const dir = path.join(config.output.folder, job.study_uid);
        mkdirSync(dir, { recursive: true });
        copyFileSync(f.path, path.join(dir, path.basename(f.path)));
      }
    }
    const view = jobResultSchema.parse(jobResultView(result));
    queueWebhooks({ config, store }, job, view, reportDir);
    // The patient identity (for HL7 and FHIR) is read from a stored instance at most once per job, and only if asked.
    let identity: IdentityResult | undefined;
    const identityOnce = () => (identity ??= studyIdentity(store, job.study_uid, config.identity));
    queueHl7({ config, store, identity: identityOnce }, job, view, reportDir, deps.version);
    queueFhir({ config, store, identity: identityOnce }, job, view, reportDir);
    if (result.summaryPng) copyFileSync(result.summaryPng, path.join(outputsDir(store, job.study_uid), 'summary.png'));
    if (result.state === 'done' && result.scanner && result.score && !('notAssessable' in result.score)) {
      deps.onScored?.({
        scanner: scannerKey(result.scanner),
        jobId: job.id,
        studyUid: job.study_uid,
        terms: result.score.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.value })),
        score: typeof view.score === 'number' && typeof view.cutoff === 'number' && view.model ? { score: view.score, cutoff: view.cutoff, model: view.model } : undefined,
        identity: identityOnce,
      });
    }
    const pair = typeof view.score === 'number' && typeof view.cutoff === 'number' ? scoreVsCutoff(view.score, view.cutoff) : undefined;
    log.info('study analysed', {
      studyUid: job.study_uid,
      state: result.state,
      // The result, no identifiers: flag, score vs cut-off as the report shows them, or why not assessable.
      result:
        result.state !== 'done'
          ? 'not assessable'
          : view.flag === true
            ? 'abnormal bone mass suspected'
            : view.flag === false
              ? 'not suspected'
              : `no flag (${[...new Set((view.noFlag ?? []).map((n) => n.kind))].join(', ') || 'suppressed'})`,
      score: pair?.score,
      cutoff: pair?.cutoff,
      near: pair?.nearness,
      calibrated: view.calibrated ?? undefined,
      reason: result.reason ?? undefined,
      outputs: result.reportFiles.length,
      seconds: Object.values(result.timings).reduce((a, b) => a + b, 0).toFixed(2),
    });
    return {
      state: result.state,
      reason: result.reason,
      selection: result.selection,
      segmentation: result.segmentation,
      result: jobResultView(result),
      timings: result.timings,
    };
  };
}
