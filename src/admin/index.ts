/**
 * Admin console public surface: routes beyond the core read API (page, jobs, actions, audit, drift, model card,
 * summary image, outbox, housekeeping) and scheduled housekeeping. The drift monitor is src/pipeline/drift.ts.
 */
import type { Route } from './http.js';
import { adminRoutes as buildRoutes, type AdminDeps } from './routes.js';
import { startHousekeeping as startHk, type Housekeeping, type HousekeepingDeps } from './housekeeping.js';

export { listJobs, type AdminDeps } from './routes.js';
export { HOUSEKEEPING_TASKS, outboxSweep, dailySummary, type Housekeeping, type HousekeepingTask, type HousekeepingDeps } from './housekeeping.js';
export { runRetention, retentionCandidates, deleteStudyFiles, deleteStudyCompletely, outputsDir, type FileDeletion } from './retention.js';
export { findSummaryPng } from './summary-image.js';
export { calibrationReport, approveCalibration, dismissCalibration, scannerCsv, scannerId, scannerModelRefs, proposeModel, type CalibrationDeps } from './calibration.js';
export { modelCard, loadConfiguredModel } from './model-card.js';

/**
 * Housekeeping handles by store: `adminRoutes` and `startHousekeeping` are called separately by the service,
 * and the routes (status, "run now") find the running housekeeping of the same store here.
 */
const running = new WeakMap<object, Housekeeping>();

/** Every admin route beyond the core routes. */
export function adminRoutes(svc: AdminDeps): Route[] {
  return buildRoutes(svc, () => running.get(svc.store));
}

/** Start scheduled housekeeping (config `housekeeping`); `stop()` cancels the schedules. */
export function startHousekeeping(svc: HousekeepingDeps): Housekeeping {
  const prev = running.get(svc.store);
  prev?.stop();
  const hk = startHk(svc);
  running.set(svc.store, hk);
  return {
    ...hk,
    stop() {
      hk.stop();
      if (running.get(svc.store) === hk) running.delete(svc.store);
    },
  };
}
