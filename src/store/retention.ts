import { statements, type Statements, type DB } from './db.js';

/** Study states after which the received instances are no longer needed by the pipeline. */
export const FINISHED_STATES = ['done', 'failed', 'not-assessable'] as const;

/** A received instance whose file is still stored. */
export interface StoredFile {
  sop_uid: string;
  path: string;
  size: number;
  received_at: number;
}

const FINISHED_SQL = FINISHED_STATES.map((s) => `'${s}'`).join(', ');

/**
 * The index's view of received instance files for retention and the admin's deletions: which studies are
 * finished and idle, which files they still have, and marking a deleted file (its row stays, files_deleted = 1).
 */
export class Retention {
  private readonly sql: Statements;

  constructor(db: DB) {
    this.sql = statements(db);
  }

  /** Is the study finished and idle (no open series, no queued/processing job)? */
  studyIsIdle(studyUid: string): boolean {
    const st = this.sql('SELECT state FROM studies WHERE study_uid = ?').get(studyUid) as { state: string } | undefined;
    if (!st || !(FINISHED_STATES as readonly string[]).includes(st.state)) return false;
    const busy = this.sql(
      `SELECT (SELECT COUNT(*) FROM series WHERE study_uid = ? AND state = 'receiving') +
              (SELECT COUNT(*) FROM jobs WHERE study_uid = ? AND state IN ('queued', 'processing')) AS n`,
    ).get(studyUid, studyUid) as { n: number };
    return busy.n === 0;
  }

  /** The study's instances whose file is still stored. */
  storedFiles(studyUid: string): StoredFile[] {
    return this.sql('SELECT sop_uid, path, size, received_at FROM instances WHERE study_uid = ? AND files_deleted = 0').all(studyUid) as StoredFile[];
  }

  /** How many of the study's instance files are still stored. */
  storedFileCount(studyUid: string): number {
    return (this.sql('SELECT COUNT(*) AS n FROM instances WHERE study_uid = ? AND files_deleted = 0').get(studyUid) as { n: number }).n;
  }

  /** Mark one instance's file deleted, unless its row changed since it was read (a resend re-wrote it). */
  markFileDeleted(sopUid: string, receivedAt: number): boolean {
    return this.sql('UPDATE instances SET files_deleted = 1 WHERE sop_uid = ? AND received_at = ? AND files_deleted = 0').run(sopUid, receivedAt).changes === 1;
  }

  /** Finished, idle studies not updated since `updatedBefore` that still have stored files, oldest first. */
  candidates(updatedBefore: number): string[] {
    const rows = this.sql(
      `SELECT s.study_uid AS uid FROM studies s
       WHERE s.state IN (${FINISHED_SQL}) AND s.updated_at < ?
         AND EXISTS (SELECT 1 FROM instances i WHERE i.study_uid = s.study_uid AND i.files_deleted = 0)
       ORDER BY s.updated_at`,
    ).all(updatedBefore) as Array<{ uid: string }>;
    return rows.map((r) => r.uid).filter((uid) => this.studyIsIdle(uid));
  }
}
