import { readdirSync, rmdirSync, statSync, unlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/index.js';
import { isPathSafeUid } from '../store/index.js';
import { OsteoError } from '../common/errors.js';

/** Study states after which the received instances are no longer needed by the pipeline. */
export const FINISHED_STATES = ['done', 'failed', 'not-assessable'] as const;

export interface FileDeletion {
  studies: number;
  files: number;
  bytes: number;
  /** Files skipped because they changed after the row was written (a resend racing with the deletion). */
  skipped: number;
}

const DAY_MS = 86_400_000;

/** Is the study finished and idle (no open series, no queued/processing job)? */
export function studyIsIdle(store: Pick<Store, 'db'>, studyUid: string): boolean {
  const st = store.db.prepare('SELECT state FROM studies WHERE study_uid = ?').get(studyUid) as { state: string } | undefined;
  if (!st || !(FINISHED_STATES as readonly string[]).includes(st.state)) return false;
  const busy = store.db
    .prepare(
      `SELECT (SELECT COUNT(*) FROM series WHERE study_uid = ? AND state = 'receiving') +
              (SELECT COUNT(*) FROM jobs WHERE study_uid = ? AND state IN ('queued', 'processing')) AS n`,
    )
    .get(studyUid, studyUid) as { n: number };
  return busy.n === 0;
}

/**
 * Delete the received instance files of one study, keeping every index row (instances get files_deleted = 1)
 * and the outputs (reports). Safe while the service runs: the study must be finished and idle, and a file is
 * only removed when its row is unchanged and the file is not newer than the row (a resend arriving meanwhile
 * re-opens the study and keeps its file).
 */
export function deleteStudyFiles(store: Pick<Store, 'db' | 'blobs'>, studyUid: string): FileDeletion {
  const out: FileDeletion = { studies: 0, files: 0, bytes: 0, skipped: 0 };
  if (!isPathSafeUid(studyUid)) throw new OsteoError('bad-uid', 'StudyInstanceUID is not a valid DICOM UID', 400);
  const rows = store.db
    .prepare('SELECT sop_uid, path, size, received_at FROM instances WHERE study_uid = ? AND files_deleted = 0')
    .all(studyUid) as Array<{ sop_uid: string; path: string; size: number; received_at: number }>;
  if (!rows.length) return out;
  const mark = store.db.prepare('UPDATE instances SET files_deleted = 1 WHERE sop_uid = ? AND received_at = ? AND files_deleted = 0');
  const root = store.blobs.studiesDir + path.sep;
  const dirs = new Set<string>();
  for (const r of rows) {
    // Checked per file, synchronously: nothing else in this process runs between the check and the unlink.
    if (!studyIsIdle(store, studyUid)) break;
    const p = path.resolve(r.path);
    if (!p.startsWith(root)) {
      out.skipped++;
      continue; // never delete outside the instance store
    }
    let size = 0;
    try {
      const st = statSync(p);
      if (st.mtimeMs > r.received_at + 5_000) {
        out.skipped++; // written after its row: a resend in flight
        continue;
      }
      size = st.size;
      unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (mark.run(r.sop_uid, r.received_at).changes === 1) {
      out.files++;
      out.bytes += size;
    }
    dirs.add(path.dirname(p));
  }
  for (const d of dirs) removeEmptyDirs(d, store.blobs.studiesDir);
  if (out.files) out.studies = 1;
  return out;
}

function removeEmptyDirs(dir: string, stopAt: string): void {
  let d = dir;
  while (d.startsWith(stopAt + path.sep)) {
    try {
      if (readdirSync(d).length) return;
      rmdirSync(d);
    } catch {
      return;
    }
    d = path.dirname(d);
  }
}

/** Studies whose instance files retention would delete now. */
export function retentionCandidates(store: Pick<Store, 'db'>, days: number, now = Date.now()): string[] {
  if (!(days > 0)) return [];
  const cutoff = now - days * DAY_MS;
  const rows = store.db
    .prepare(
      `SELECT s.study_uid AS uid FROM studies s
       WHERE s.state IN ('done', 'failed', 'not-assessable') AND s.updated_at < ?
         AND EXISTS (SELECT 1 FROM instances i WHERE i.study_uid = s.study_uid AND i.files_deleted = 0)
       ORDER BY s.updated_at`,
    )
    .all(cutoff) as Array<{ uid: string }>;
  return rows.map((r) => r.uid).filter((uid) => studyIsIdle(store, uid));
}

/**
 * Retention: delete received instance files of finished studies not updated for `days` days.
 * Index rows (studies, series, instances, jobs), outbox rows and outputs (reports) are kept.
 * 0 days = keep forever.
 */
export function runRetention(store: Pick<Store, 'db' | 'blobs'>, days: number, now = Date.now()): FileDeletion {
  const total: FileDeletion = { studies: 0, files: 0, bytes: 0, skipped: 0 };
  for (const uid of retentionCandidates(store, days, now)) {
    const r = deleteStudyFiles(store, uid);
    total.studies += r.studies;
    total.files += r.files;
    total.bytes += r.bytes;
    total.skipped += r.skipped;
  }
  return total;
}

/** Folder of a study's outputs (SR, summary image, PNG thumbnail): `<data>/outputs/<StudyUID>`. */
export function outputsDir(dataDir: string, studyUid: string): string {
  if (!isPathSafeUid(studyUid)) throw new OsteoError('bad-uid', 'StudyInstanceUID is not a valid DICOM UID', 400);
  return path.join(dataDir, 'outputs', studyUid);
}

/** Admin "delete study": instance files, outputs folder and index rows (outbox and audit rows stay). */
export function deleteStudyCompletely(store: Store, studyUid: string): { files: number; bytes: number } {
  if (!isPathSafeUid(studyUid)) throw new OsteoError('bad-uid', 'StudyInstanceUID is not a valid DICOM UID', 400);
  const rows = store.db.prepare('SELECT size FROM instances WHERE study_uid = ? AND files_deleted = 0').all(studyUid) as Array<{ size: number }>;
  store.blobs.removeStudy(studyUid);
  rmSync(outputsDir(store.dir, studyUid), { recursive: true, force: true });
  store.index.deleteStudyRows(studyUid);
  return { files: rows.length, bytes: rows.reduce((a, r) => a + r.size, 0) };
}
