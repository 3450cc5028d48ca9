import { readdirSync, rmdirSync, statSync, unlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../store/index.js';
import { isPathSafeUid } from '../store/index.js';
import { OsteoError } from '../common/errors.js';

export interface FileDeletion {
  studies: number;
  files: number;
  bytes: number;
  /** Files skipped because they changed after the row was written (a resend racing with the deletion). */
  skipped: number;
}

const DAY_MS = 86_400_000;

/**
 * Delete the received instance files of one study, keeping every index row (instances get files_deleted = 1)
 * and the outputs (reports). Safe while the service runs: the study must be finished and idle, and a file is
 * only removed when its row is unchanged and the file is not newer than the row (a resend arriving meanwhile
 * re-opens the study and keeps its file).
 */
export function deleteStudyFiles(store: Pick<Store, 'retention' | 'blobs'>, studyUid: string): FileDeletion {
  const out: FileDeletion = { studies: 0, files: 0, bytes: 0, skipped: 0 };
  if (!isPathSafeUid(studyUid)) throw new OsteoError('bad-uid', 'StudyInstanceUID is not a valid DICOM UID', 400);
  const rows = store.retention.storedFiles(studyUid);
  if (!rows.length) return out;
  const root = store.blobs.studiesDir + path.sep;
  const dirs = new Set<string>();
  for (const r of rows) {
    // Checked per file, synchronously: nothing else in this process runs between the check and the unlink.
    if (!store.retention.studyIsIdle(studyUid)) break;
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
    if (store.retention.markFileDeleted(r.sop_uid, r.received_at)) {
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
export function retentionCandidates(store: Pick<Store, 'retention'>, days: number, now = Date.now()): string[] {
  return days > 0 ? store.retention.candidates(now - days * DAY_MS) : [];
}

/**
 * Retention: delete received instance files of finished studies not updated for `days` days.
 * Index rows (studies, series, instances, jobs), outbox rows and outputs (reports) are kept.
 * 0 days = keep forever.
 */
export function runRetention(store: Pick<Store, 'retention' | 'blobs'>, days: number, now = Date.now()): FileDeletion {
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
  const rows = store.retention.storedFiles(studyUid);
  store.blobs.removeStudy(studyUid);
  rmSync(outputsDir(store.dir, studyUid), { recursive: true, force: true });
  store.index.deleteStudyRows(studyUid);
  return { files: rows.length, bytes: rows.reduce((a, r) => a + r.size, 0) };
}
