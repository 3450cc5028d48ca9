import path from 'node:path';
import { openDb, type DB } from './db.js';
import { BlobStore } from './blobs.js';
import { Index } from './index-db.js';
import { Outbox } from './outbox.js';
import { AuditLog } from './audit.js';
import { CalibrationStore } from './calibration.js';

export * from './types.js';
export { BlobStore, isValidUid, isPathSafeUid } from './blobs.js';
export { Index, type StoreOutcome } from './index-db.js';
export { Outbox, type DestinationCounts } from './outbox.js';
export { AuditLog, type AuditRow } from './audit.js';
export { CalibrationStore, type CalibrationRow, type CalibrationState, type ScannerStudy, type TermValue } from './calibration.js';
export { openDb, type DB } from './db.js';
export { jobResultSchema, parseJobResult, jobResultColumns, type JobResult, type JobResultInput } from './job-result.js';

/** Storage, index, outbox and audit log of one data folder, wired once (Orthanc's ServerContext, small). */
export interface Store {
  dir: string;
  db: DB;
  blobs: BlobStore;
  index: Index;
  outbox: Outbox;
  audit: AuditLog;
  calibration: CalibrationStore;
  close(): void;
}

export function openStore(dir: string): Store {
  const root = path.resolve(dir);
  const blobs = new BlobStore(root);
  const db = openDb(path.join(root, 'index.sqlite'));
  return {
    dir: root,
    db,
    blobs,
    index: new Index(db),
    outbox: new Outbox(db),
    audit: new AuditLog(db),
    calibration: new CalibrationStore(db),
    close: () => db.close(),
  };
}
