import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { Store, JobFilter } from '../store/index.js';
import { JOB_STATES, OUTBOX_STATES, diskFree } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { OsteoError } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { Route, Request } from './http.js';
import { parseFlagged, parseLimit, parseTime } from './query.js';
import { jobView, outputView } from './api.js';
import { driftReport } from '../pipeline/drift.js';
import { loadModel } from '../model/load.js';
import type { RadscoreModel } from '../model/schema.js';
import { loadConfiguredModel, modelCard, type LoadedModel } from './model-card.js';
import { deleteStudyCompletely, deleteStudyFiles } from './retention.js';
import { findSummaryPng } from './summary-image.js';
import { PAGE_HTML, PAGE_CSS, PAGE_JS } from './page.js';
import { destinationStates } from './destinations.js';
import { HOUSEKEEPING_TASKS, type Housekeeping, type HousekeepingTask } from './housekeeping.js';
import { registerModelReadyMetric, segmentationReadiness } from './readiness.js';
import { calibrationRoutes } from './calibration-routes.js';
import { calibrationReport } from './calibration.js';
import { outcomeRoutes } from './outcomes-routes.js';

const log = logger('admin');

/** What the admin routes need from the running service (a subset of `Service`). */
export interface AdminDeps {
  config: Config;
  store: Store;
  metrics: Metrics;
  pipeline?: { tick(): Promise<void> } | null;
  version?: string;
}

function jsonOr<T>(s: string | null): T | null {
  if (!s) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

/** Jobs with their study's non-identifying summary, filtered by state, creation time and flag. */
export function listJobs(store: Pick<Store, 'index'>, f: JobFilter) {
  return store.index.listJobs(f).map((r) => ({
    ...jobView(r)!,
    studyInstanceUid: r.study_uid,
    studyDate: r.study_date,
    studyDescription: r.study_description,
    studyState: r.study_state,
    flag: r.flag === null ? null : r.flag === 1,
    score: r.score,
    cutoff: r.cutoff,
  }));
}

/**
 * Admin routes beyond the core read API: the page and its assets, jobs, actions (audited), audit log, drift,
 * model card, summary image, outbox, housekeeping.
 */
export function adminRoutes(deps: AdminDeps, getHousekeeping: () => Housekeeping | undefined = () => undefined): Route[] {
  const { config, store, metrics } = deps;
  let loaded: LoadedModel | null = null;
  const model = () => (loaded ??= loadConfiguredModel(config));
  // Drift of a scanner with an approved calibration is judged against that model (loaded once per approval).
  const approvedModels = new Map<string, RadscoreModel | null>();
  const driftModelFor = (scanner: string) => {
    const a = store.calibration.approved().find((x) => x.scanner === scanner);
    if (!a?.modelFile) return null;
    const key = `${a.modelFile}#${a.modelHash}`;
    if (!approvedModels.has(key)) {
      try {
        approvedModels.set(key, loadModel(a.modelFile));
      } catch {
        approvedModels.set(key, null);
      }
    }
    return approvedModels.get(key) ?? null;
  };
  const drift = () => driftReport(store, model().model, config.drift, driftModelFor);
  const m0 = model();
  if (m0.error) log.warn('radscore model could not be loaded for the admin view', { file: m0.file, error: m0.error });

  metrics.registry.gauge('osteoscreen_model_info', 'Loaded radscore model (value 1; labels name, version, hash, calibrated)', () => {
    const m = model().model;
    return m ? [[{ name: m.name, version: m.version, hash: m.hash, calibrated: String(m.calibrated), normalisation: m.normalisation.source }, 1]] : [];
  });
  registerModelReadyMetric(metrics, config, () => model().error);
  metrics.registry.gauge('osteoscreen_jobs', 'Jobs by state (current)', () => {
    const c = store.index.countBy('jobs');
    return JOB_STATES.map((s) => [{ state: s }, c[s] ?? 0]);
  });
  metrics.registry.gauge('osteoscreen_outbox_dead_letters', 'Output instances in the dead-letter state', () => [[{}, store.outbox.depth().deadLetter]]);
  metrics.registry.gauge('osteoscreen_drift_warnings', 'Scanners whose feature distribution drifted beyond drift.maxZ', () => {
    return [[{}, drift().scanners.filter((s) => s.warn).length]];
  });
  const actions = metrics.registry.counter('osteoscreen_admin_actions_total', 'Admin actions, by action');

  const audit = (req: Request, action: string, target: string | null, detail?: unknown) => {
    store.audit.record({ actor: req.actor, ip: req.ip, action, target, detail });
    actions.inc({ action });
    log.info('admin action', { action, target: target ?? undefined, actor: req.actor, ip: req.ip });
  };
  const wake = () => void deps.pipeline?.tick().catch(() => undefined);
  const study = (uid: string) => {
    const st = store.index.getStudy(uid);
    if (!st) throw new OsteoError('not-found', 'no such study', 404);
    return st;
  };

  const asset = (pattern: string, body: string, contentType: string): Route => ({
    method: 'GET',
    pattern,
    auth: false,
    handler: () => ({
      body,
      contentType,
      headers: {
        'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    }),
  });

  return [
    asset('/', PAGE_HTML, 'text/html; charset=utf-8'),
    asset('/assets/admin.css', PAGE_CSS, 'text/css; charset=utf-8'),
    asset('/assets/admin.js', PAGE_JS, 'text/javascript; charset=utf-8'),

    // ------------------------------------------------------------------ reads
    {
      method: 'GET',
      pattern: '/api/jobs',
      auth: true,
      handler: (req) => {
        const state = req.query.get('state') || undefined;
        if (state && !(JOB_STATES as readonly string[]).includes(state)) throw new OsteoError('bad-filter', `state must be one of ${JOB_STATES.join(', ')}`, 400);
        return {
          json: listJobs(store, {
            state,
            since: parseTime(req.query.get('since'), 'since'),
            until: parseTime(req.query.get('until'), 'until'),
            flagged: parseFlagged(req.query.get('flagged')),
            study: req.query.get('study') || undefined,
            limit: parseLimit(req.query.get('limit'), 200),
          }),
        };
      },
    },
    {
      method: 'GET',
      pattern: '/api/jobs/:id',
      auth: true,
      handler: (req) => {
        const j = store.index.getJob(Number(req.params.id));
        if (!j) throw new OsteoError('not-found', 'no such job', 404);
        return { json: { ...jobView(j), studyInstanceUid: j.study_uid } };
      },
    },
    {
      method: 'GET',
      pattern: '/api/overview',
      auth: true,
      handler: () => {
        const m = model().model;
        const driftNow = drift();
        return {
          json: {
            version: deps.version ?? null,
            aeTitle: config.dicom.aeTitle,
            dicomPort: config.dicom.port,
            studies: store.index.countBy('studies'),
            jobs: store.index.countBy('jobs'),
            outbox: store.outbox.depth(),
            diskFreeBytes: diskFree(store.dir),
            model: m ? { name: m.name, version: m.version, hash: m.hash, calibrated: m.calibrated } : null,
            modelError: model().error ?? segmentationReadiness(config).reason ?? null,
            segmentationModel: segmentationReadiness(config),
            driftWarnings: driftNow.scanners.filter((s) => s.warn).map((s) => s.scanner),
            calibrationProposals: calibrationReport({ config, store, model: m }, { histograms: false, proposals: false }).scanners.filter((s) => s.state === 'proposal').map((s) => s.scanner),
            housekeeping: getHousekeeping()?.status() ?? null,
          },
        };
      },
    },
    {
      method: 'GET',
      pattern: '/api/outbox',
      auth: true,
      handler: (req) => {
        const state = req.query.get('state') || undefined;
        if (state && !(OUTBOX_STATES as readonly string[]).includes(state)) throw new OsteoError('bad-filter', `state must be one of ${OUTBOX_STATES.join(', ')}`, 400);
        return { json: store.outbox.list({ state, limit: parseLimit(req.query.get('limit'), 200) }).map((o) => ({ ...outputView(o), studyInstanceUid: o.study_uid })) };
      },
    },
    {
      method: 'GET',
      pattern: '/api/outbox/destinations',
      auth: true,
      handler: () => ({ json: destinationStates(config, store) }),
    },
    {
      method: 'GET',
      pattern: '/api/audit',
      auth: true,
      handler: (req) => ({
        json: store.audit.list(parseLimit(req.query.get('limit'), 100)).map((a) => ({
          id: a.id,
          at: new Date(a.at).toISOString(),
          actor: a.actor,
          ip: a.ip,
          action: a.action,
          target: a.target,
          detail: jsonOr(a.detail),
        })),
      }),
    },
    {
      method: 'GET',
      pattern: '/api/drift',
      auth: true,
      handler: () => ({ json: drift() }),
    },
    {
      method: 'GET',
      pattern: '/api/model',
      auth: true,
      handler: () => ({ json: modelCard(config, model()) }),
    },
    {
      method: 'GET',
      pattern: '/api/studies/:uid/summary.png',
      auth: true,
      handler: (req) => {
        study(req.params.uid!);
        const p = findSummaryPng(store, req.params.uid!);
        if (!p) throw new OsteoError('not-found', 'no summary image for this study (yet)', 404);
        return { body: readFileSync(p), contentType: 'image/png' };
      },
    },
    {
      method: 'GET',
      pattern: '/api/housekeeping',
      auth: true,
      handler: () => ({ json: getHousekeeping()?.status() ?? [] }),
    },

    ...calibrationRoutes({ config, store, model: () => model().model, audit }),
    ...outcomeRoutes({ config, store, metrics, model: () => model().model, audit }),

    // ------------------------------------------------------------------ actions (audited)
    {
      method: 'POST',
      pattern: '/api/studies/:uid/rerun',
      auth: true,
      handler: (req) => {
        const uid = req.params.uid!;
        const st = study(uid);
        if (store.retention.storedFileCount(uid) === 0) throw new OsteoError('no-files', 'the instance files of this study were deleted (retention or admin); it cannot be re-run', 409);
        const job = store.index.enqueueJob(uid, 'rerun');
        audit(req, 'rerun', uid, { job: job.id, previousState: st.state });
        wake();
        return { status: 202, json: { job: jobView(job), studyInstanceUid: uid } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/studies/:uid/retry-outputs',
      auth: true,
      handler: (req) => {
        const uid = req.params.uid!;
        study(uid);
        const retried = store.outbox.retryDeadLetters(uid);
        audit(req, 'retry-outputs', uid, { retried });
        return { json: { retried } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/outbox/retry',
      auth: true,
      handler: (req) => {
        const retried = store.outbox.retryDeadLetters();
        audit(req, 'retry-outputs', null, { retried });
        return { json: { retried } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/series/:uid/complete',
      auth: true,
      handler: (req) => {
        const uid = req.params.uid!;
        const before = store.index.getSeries(uid);
        if (!before) throw new OsteoError('not-found', 'no such series', 404);
        if (before.state !== 'receiving') throw new OsteoError('not-receiving', `series is already ${before.state}`, 409);
        const studyUid = store.index.forceStable(uid);
        audit(req, 'force-complete', uid, { studyInstanceUid: studyUid, instances: before.instances });
        wake();
        return { status: 202, json: { seriesInstanceUid: uid, studyInstanceUid: studyUid } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/studies/:uid/delete-files',
      auth: true,
      handler: (req) => {
        const uid = req.params.uid!;
        study(uid);
        if (!store.retention.studyIsIdle(uid)) throw new OsteoError('busy', 'the study is receiving or being processed; try again when it is finished', 409);
        const r = deleteStudyFiles(store, uid);
        audit(req, 'delete-files', uid, r);
        return { json: r };
      },
    },
    {
      method: 'DELETE',
      pattern: '/api/studies/:uid',
      auth: true,
      handler: (req) => {
        const uid = req.params.uid!;
        const st = study(uid);
        if (store.index.hasProcessingJob(uid)) throw new OsteoError('busy', 'the study is being processed; try again when it is finished', 409);
        const r = deleteStudyCompletely(store, uid);
        audit(req, 'delete-study', uid, { ...r, state: st.state });
        return { json: { deleted: uid, ...r } };
      },
    },
    {
      method: 'POST',
      pattern: '/api/housekeeping/:task',
      auth: true,
      handler: async (req) => {
        const hk = getHousekeeping();
        if (!hk) throw new OsteoError('unavailable', 'housekeeping is not running', 503);
        const task = req.params.task as HousekeepingTask;
        if (!(HOUSEKEEPING_TASKS as readonly string[]).includes(task)) throw new OsteoError('bad-task', `task must be one of ${HOUSEKEEPING_TASKS.join(', ')}`, 404);
        audit(req, 'housekeeping', task);
        const result = await hk.runNow(task);
        return { json: { task, result } };
      },
    },
  ];
}
