import path from 'node:path';
import { openDb, INDEX_FILE } from './db.js';
import { BlobStore } from './blobs.js';
import { Index } from './index-db.js';
import { Outbox } from './outbox.js';
import { AuditLog } from './audit.js';
import { CalibrationStore } from './calibration.js';
import { DriftStore } from './drift.js';
import { OutcomeStore } from './outcomes.js';
import { Retention } from './retention.js';
import { vacuumDb, type VacuumResult } from './disk.js';
import { BackfillStore } from './backfill.js';

export * from './types.js';
export { BlobStore, isValidUid, isPathSafeUid } from './blobs.js';
export { Index, type StoreOutcome, type JobFilter, type JobListRow, type StudyCounts } from './index-db.js';
export { Outbox, type DestinationCounts } from './outbox.js';
export { AuditLog, type AuditRow } from './audit.js';
export { CalibrationStore, type CalibrationRow, type CalibrationState, type ScannerStudy, type TermValue } from './calibration.js';
export { DriftStore, type DriftRow } from './drift.js';
export { OutcomeStore, type Outcome, type OutcomeRow, type ScreenedStudy } from './outcomes.js';
export { Retention, FINISHED_STATES, type StoredFile } from './retention.js';
export { freeBytes, diskFree, type VacuumResult } from './disk.js';
export * from './backfill.js';
export { jobResultSchema, parseJobResult, jobResultColumns, type JobResult, type JobResultInput } from './job-result.js';

/**
 * Storage, index, outbox and audit log of one data folder, wired once (Orthanc's ServerContext, small).
 * All SQL lives in these classes; the connection itself is not part of it.
 */
export interface Store {
  dir: string;
  blobs: BlobStore;
  index: Index;
  outbox: Outbox;
  audit: AuditLog;
  calibration: CalibrationStore;
  drift: DriftStore;
  /** DXA outcomes and screened studies' identities (issue 26). */
  outcomes: OutcomeStore;
  retention: Retention;
  /** Retrospective backfill campaigns (src/backfill/). */
  backfill: BackfillStore;
  /** WAL checkpoint, VACUUM when over 20 % of the pages are free, PRAGMA optimize (housekeeping). */
  vacuum(): VacuumResult;
  close(): void;
}

export interface StoreOptions {
  /** The wall clock of the rows' timestamps (tests inject a fake one). */
  clock?: () => number;
  /** Keep the index in memory instead of `<dir>/index.sqlite` (tests). */
  inMemory?: boolean;
}

export function openStore(dir: string, opts: StoreOptions = {}): Store {
  const root = path.resolve(dir);
  const blobs = new BlobStore(root);
  const db = openDb(opts.inMemory ? ':memory:' : path.join(root, INDEX_FILE));
  const clock = opts.clock ?? Date.now;
  return {
    dir: root,
    blobs,
    index: new Index(db, clock),
    outbox: new Outbox(db, clock),
    audit: new AuditLog(db),
    calibration: new CalibrationStore(db),
    drift: new DriftStore(db, clock),
    outcomes: new OutcomeStore(db, clock),
    retention: new Retention(db),
    backfill: new BackfillStore(db, clock),
    vacuum: () => vacuumDb(db),
    close: () => db.close(),
  };
}
