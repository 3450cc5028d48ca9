import type { Config } from '../config/schema.js';
import { parseJobResult } from '../store/job-result.js';
import { maskedConfig } from '../config/load.js';
import type { Store, SeriesRow, StudyRow, JobRow, OutboxRow } from '../store/index.js';
import { STUDY_STATES } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { OsteoError } from '../common/errors.js';
import type { Route } from './http.js';
import { parseFlagged, parseLimit, parseTime } from './query.js';
import { findSummaryPng } from './summary-image.js';
import { healthReply } from './readiness.js';

function parseJson(s: string | null): unknown {
  if (!s) return null;
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

export function seriesView(s: SeriesRow) {
  return {
    seriesInstanceUid: s.series_uid,
    studyInstanceUid: s.study_uid,
    modality: s.modality,
    description: s.description,
    seriesNumber: s.series_number,
    instances: s.instances,
    bytes: s.bytes,
    resends: s.resends,
    state: s.state,
    reason: s.reason,
    repetitionTime: s.repetition_time,
    echoTime: s.echo_time,
    manufacturer: s.manufacturer,
    firstReceived: new Date(s.first_received).toISOString(),
    lastReceived: new Date(s.last_received).toISOString(),
  };
}

export function jobView(j: JobRow | undefined) {
  if (!j) return null;
  return {
    id: j.id,
    state: j.state,
    reason: j.reason,
    attempts: j.attempts,
    trigger: j.trigger,
    createdAt: new Date(j.created_at).toISOString(),
    startedAt: j.started_at ? new Date(j.started_at).toISOString() : null,
    finishedAt: j.finished_at ? new Date(j.finished_at).toISOString() : null,
    selection: parseJson(j.selection),
    segmentation: parseJson(j.segmentation),
    result: parseJobResult(j.result),
    timings: parseJson(j.timings),
  };
}

export function outputView(o: OutboxRow) {
  return {
    id: o.id,
    kind: o.kind,
    destination: o.destination,
    sopInstanceUid: o.sop_uid,
    state: o.state,
    attempts: o.attempts,
    lastError: o.last_error,
    nextAttemptAt: o.state === 'pending' ? new Date(o.next_attempt_at).toISOString() : null,
    sentAt: o.sent_at ? new Date(o.sent_at).toISOString() : null,
  };
}

export function studyView(store: Store, st: StudyRow, detail: boolean) {
  const job = store.index.latestJob(st.study_uid);
  const jv = jobView(job);
  const result = jv?.result ?? null;
  const counts = store.index.studyCounts(st.study_uid);
  const base = {
    studyInstanceUid: st.study_uid,
    state: st.state,
    reason: st.reason,
    studyDate: st.study_date,
    description: st.study_description,
    patientName: st.patient_name,
    patientId: st.patient_id,
    updatedAt: new Date(st.updated_at).toISOString(),
    flag: result?.flag ?? null,
    /** Why a scored study has no flag (uncalibrated model / out-of-range terms), in words. */
    flagSuppressed: result?.flagSuppressed ?? null,
    noFlagKinds: [...new Set((result?.noFlag ?? []).map((n) => n.kind))],
    score: result?.score ?? null,
    cutoff: result?.cutoff ?? null,
    model: result?.model ?? null,
    modelChoice: result?.modelChoice?.reason ?? null,
    job: detail ? jv : jv ? { id: jv.id, state: jv.state, reason: jv.reason, attempts: jv.attempts } : null,
    selection: jv?.selection ?? null,
    kind: result?.kind ?? null,
    calibrated: result?.calibrated ?? null,
    seriesCount: counts.series,
    filesDeleted: counts.instances > 0 && counts.files === 0,
    outputCounts: { pending: counts.pending, sent: counts.sent, deadLetter: counts.deadLetter },
    hasSummary: safeSummary(store, st.study_uid),
  };
  if (!detail) return base;
  return {
    ...base,
    series: store.index.listSeries({ studyUid: st.study_uid }).map(seriesView),
    jobs: store.index.jobsOfStudy(st.study_uid).map((j) => ({ id: j.id, state: j.state, reason: j.reason, attempts: j.attempts, trigger: j.trigger })),
    outputs: store.outbox.ofStudy(st.study_uid).map(outputView),
  };
}

function safeSummary(store: Store, studyUid: string): boolean {
  try {
    return findSummaryPng(store, studyUid) !== null;
  } catch {
    return false;
  }
}

/** Core read API: health, metrics, series, studies. The admin actions extend this list. */
export function coreRoutes(deps: { config: Config; store: Store; metrics: Metrics; startedAt: number; version: string }): Route[] {
  const { store } = deps;
  return [
    {
      method: 'GET',
      pattern: '/health',
      auth: false,
      // 200 "ok", or 503 "degraded" with `problems` (e.g. the segmentation model is missing): see readiness.ts.
      handler: () => healthReply(deps.config, { version: deps.version, uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000), aeTitle: deps.config.dicom.aeTitle, dicomPort: deps.config.dicom.port }),
    },
    {
      method: 'GET',
      pattern: '/metrics',
      auth: false,
      handler: () => ({ body: deps.metrics.registry.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
    },
    {
      method: 'GET',
      pattern: '/api/series',
      auth: true,
      handler: (req) => ({ json: store.index.listSeries({ state: req.query.get('state') ?? undefined, studyUid: req.query.get('study') ?? undefined, limit: parseLimit(req.query.get('limit'), 1000) }).map(seriesView) }),
    },
    {
      method: 'GET',
      pattern: '/api/studies',
      auth: true,
      handler: (req) => {
        const state = req.query.get('state') ?? undefined;
        if (state && !(STUDY_STATES as readonly string[]).includes(state)) throw new OsteoError('bad-filter', `state must be one of ${STUDY_STATES.join(', ')}`, 400);
        const since = parseTime(req.query.get('since'), 'since');
        const until = parseTime(req.query.get('until'), 'until');
        let rows = store.index.listStudies({ state, since, until, limit: parseLimit(req.query.get('limit'), 200) }).map((s) => studyView(store, s, false));
        const flagged = parseFlagged(req.query.get('flagged'));
        if (flagged !== undefined) rows = rows.filter((s) => (s.flag === true) === flagged);
        return { json: rows };
      },
    },
    {
      method: 'GET',
      pattern: '/api/studies/:uid',
      auth: true,
      handler: (req) => {
        const st = store.index.getStudy(req.params.uid!);
        if (!st) throw new OsteoError('not-found', 'no such study', 404);
        return { json: studyView(store, st, true) };
      },
    },
    {
      method: 'GET',
      pattern: '/api/config',
      auth: true,
      handler: () => ({ json: maskedConfig(deps.config) }),
    },
  ];
}
