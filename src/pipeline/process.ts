import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Store, JobRow } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { logger } from '../common/log.js';
import type { JobOutcome, StudyProcessor } from './runner.js';
import type { AnalyseInput, AnalyseResult } from './analyse.js';
import { instanceDestinationKeys } from './deliver.js';
import { queueWebhooks } from '../output/webhook.js';
import { earlierSrs } from './predecessors.js';
import { scoreVsCutoff } from '../report/numbers.js';

const log = logger('process');

export interface ProcessorDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  /** Runs the analysis (a worker thread in the service; in-process in tests/CLI). */
  analyse: (input: AnalyseInput) => Promise<AnalyseResult>;
  version: string;
  /** Called after a scored study (drift statistics). */
  onScored?: (info: { scanner: string; terms: { sequence: string; feature: string; value: number }[] }) => void;
}

/** Folder of a study's outputs in the data folder. */
export function outputsDir(store: Store, studyUid: string): string {
  return path.join(store.dir, 'outputs', studyUid);
}

/** The job result as stored (and shown by the API / page). */
export function jobResultView(r: AnalyseResult) {
  const s = r.score && !('notAssessable' in r.score) ? r.score : null;
  return {
    kind: r.state === 'done' ? 'scored' : 'not-assessable',
    reason: r.reason,
    score: s?.score ?? null,
    cutoff: s?.cutoff ?? null,
    flag: s ? s.flag : null,
    calibrated: s?.calibrated ?? null,
    model: r.score?.model ?? null,
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
    const result = await deps.analyse({ studyUid: job.study_uid, series, features: 'model', reportDir, revision: previous + 1, earlierSrs: earlier, algorithmVersion: deps.version, attempt: job.attempts });
    for (const [stage, seconds] of Object.entries(result.timings)) metrics.stageSeconds.observe({ stage }, seconds);

    // Queue the outputs: every report file to every destination (persistent outbox), optionally a folder copy.
    for (const f of result.reportFiles) {
      for (const destination of instanceDestinationKeys(config)) {
        store.outbox.add({ studyUid: job.study_uid, jobId: job.id, kind: f.kind, destination, path: f.path, sopUid: f.sopInstanceUid });
      }
      if (config.output.folder) {
        const dir = path.join(config.output.folder, job.study_uid);
        mkdirSync(dir, { recursive: true });
        copyFileSync(f.path, path.join(dir, path.basename(f.path)));
      }
    }
    queueWebhooks({ config, store }, job, jobResultView(result), reportDir);
    if (result.summaryPng) copyFileSync(result.summaryPng, path.join(outputsDir(store, job.study_uid), 'summary.png'));
    if (result.state === 'done' && result.scanner && result.score && !('notAssessable' in result.score)) {
      const scanner = [result.scanner.manufacturer, result.scanner.model, result.scanner.station].map((s) => s || '?').join(' / ');
      deps.onScored?.({ scanner, terms: result.score.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.value })) });
    }
    const view = jobResultView(result);
    const pair = view.score !== null && view.cutoff !== null ? scoreVsCutoff(view.score, view.cutoff) : undefined;
    log.info('study analysed', {
      studyUid: job.study_uid,
      state: result.state,
      // The result, no identifiers: flag, score vs cut-off as the report shows them, or why not assessable.
      result: result.state !== 'done' ? 'not assessable' : view.flag === true ? 'abnormal bone mass suspected' : view.flag === false ? 'not suspected' : 'no flag (model not calibrated)',
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
