import { statements, type DB, type Statements } from './db.js';
import type { OutboxRow } from './types.js';

export interface DestinationCounts {
  destination: string;
  pending: number;
  sent: number;
  deadLetter: number;
  lastSentAt: number | null;
  nextAttemptAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

/**
 * Persistent outbox: one row per (output instance, destination). A row is `pending` until a C-STORE
 * succeeds (`sent`, never sent again) or it is older than the maximum age (`dead-letter`, retryable by an admin).
 * Retries back off exponentially: base * 2^(attempts-1), capped at one hour.
 */
export class Outbox {
  private readonly sql: Statements;

  /** `now`: the wall clock of created_at / next_attempt_at and the maximum age (injectable for tests). */
  constructor(
    db: DB,
    private readonly now: () => number = Date.now,
  ) {
    this.sql = statements(db);
  }

  add(item: { studyUid: string; jobId: number | null; kind: string; destination: string; path: string; sopUid: string }): void {
    const t = this.now();
    // Re-adding the same instance for the same destination (a re-run producing the same SOP UID) makes it pending again.
    this.sql(
      `INSERT INTO outbox (study_uid, job_id, kind, destination, path, sop_uid, state, attempts, next_attempt_at, created_at, updated_at)
       VALUES (@study, @job, @kind, @dest, @path, @sop, 'pending', 0, @t, @t, @t)
       ON CONFLICT(sop_uid, destination) DO UPDATE SET state='pending', attempts=0, last_error=NULL, next_attempt_at=@t,
         path=@path, job_id=@job, created_at=@t, updated_at=@t, sent_at=NULL`,
    ).run({ study: item.studyUid, job: item.jobId, kind: item.kind, dest: item.destination, path: item.path, sop: item.sopUid, t });
  }

  due(now = this.now(), limit = 50): OutboxRow[] {
    return this.sql("SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?")
      .all(now, limit) as OutboxRow[];
  }

  markSent(id: number): void {
    const t = this.now();
    this.sql("UPDATE outbox SET state = 'sent', sent_at = ?, updated_at = ?, last_error = NULL, attempts = attempts + 1 WHERE id = ?").run(t, t, id);
  }

  /** A failed attempt: schedule the next one, or dead-letter it once the row is older than maxAgeMs. */
  markFailed(id: number, error: string, opts: { baseMs: number; maxAgeMs: number }): 'pending' | 'dead-letter' {
    const t = this.now();
    const row = this.get(id);
    if (!row) return 'dead-letter';
    const attempts = row.attempts + 1;
    if (t - row.created_at >= opts.maxAgeMs) {
      this.sql("UPDATE outbox SET state = 'dead-letter', attempts = ?, last_error = ?, updated_at = ? WHERE id = ?").run(attempts, error, t, id);
      return 'dead-letter';
    }
    const delay = Math.min(opts.baseMs * 2 ** (attempts - 1), 3_600_000);
    this.sql('UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?').run(attempts, error, t + delay, t, id);
    return 'pending';
  }

  /** Admin: retry dead-letter rows (all, or of one study): they get a fresh maximum age. */
  retryDeadLetters(studyUid?: string): number {
    const t = this.now();
    const sql = `UPDATE outbox SET state = 'pending', next_attempt_at = ?, created_at = ?, updated_at = ? WHERE state = 'dead-letter' ${studyUid ? 'AND study_uid = ?' : ''}`;
    const args: unknown[] = [t, t, t];
    if (studyUid) args.push(studyUid);
    return this.sql(sql).run(...args).changes;
  }

  /** Destinations that have pending rows. */
  pendingDestinations(): string[] {
    return (this.sql("SELECT DISTINCT destination FROM outbox WHERE state = 'pending' ORDER BY destination").all() as { destination: string }[]).map((r) => r.destination);
  }

  /** Dead-letter every pending row of one destination at once, with the reason (not counted as an attempt). */
  deadLetterDestination(destination: string, error: string): number {
    const t = this.now();
    return this.sql("UPDATE outbox SET state = 'dead-letter', last_error = ?, updated_at = ? WHERE state = 'pending' AND destination = ?").run(error, t, destination).changes;
  }

  /** Sweep: make every pending row due now (used when a destination comes back). */
  wakeAll(): number {
    return this.sql("UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending'").run(this.now()).changes;
  }

  get(id: number): OutboxRow | undefined {
    return this.sql('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
  }

  ofStudy(studyUid: string): OutboxRow[] {
    return this.sql('SELECT * FROM outbox WHERE study_uid = ? ORDER BY id').all(studyUid) as OutboxRow[];
  }

  list(filter: { state?: string; limit?: number } = {}): OutboxRow[] {
    const sql = `SELECT * FROM outbox ${filter.state ? 'WHERE state = ?' : ''} ORDER BY id DESC LIMIT ?`;
    const args: unknown[] = filter.state ? [filter.state] : [];
    return this.sql(sql).all(...args, filter.limit ?? 200) as OutboxRow[];
  }

  /** Per destination: rows by state, the last success, the newest error and the next attempt due. */
  byDestination(): DestinationCounts[] {
    return this.sql(
      `SELECT destination,
              SUM(state = 'pending') AS pending, SUM(state = 'sent') AS sent, SUM(state = 'dead-letter') AS deadLetter,
              MAX(sent_at) AS lastSentAt,
              MIN(CASE WHEN state = 'pending' THEN next_attempt_at END) AS nextAttemptAt,
              (SELECT last_error FROM outbox o2 WHERE o2.destination = outbox.destination AND o2.state != 'sent' AND o2.last_error IS NOT NULL ORDER BY updated_at DESC, id DESC LIMIT 1) AS lastError,
              (SELECT MAX(updated_at) FROM outbox o3 WHERE o3.destination = outbox.destination AND o3.state != 'sent' AND o3.last_error IS NOT NULL) AS lastErrorAt
       FROM outbox GROUP BY destination ORDER BY destination`,
    ).all() as DestinationCounts[];
  }

  /**
   * Dead-letter pending rows created more than `maxAgeHours` before `now` that were tried at least once
   * (markFailed only expires a row on a failure; rows never tried are left for the sender).
   */
  expireStale(maxAgeHours: number, now = this.now()): number {
    return this.sql(
      `UPDATE outbox SET state = 'dead-letter', updated_at = ?, last_error = COALESCE(last_error, 'not delivered') || ' (expired after ' || ? || ' h)'
       WHERE state = 'pending' AND attempts > 0 AND created_at < ?`,
    ).run(now, maxAgeHours, now - maxAgeHours * 3_600_000).changes;
  }

  /** Pending rows due by `now`. */
  dueCount(now = this.now()): number {
    return (this.sql("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?").get(now) as { n: number }).n;
  }

  /** Rows delivered since `since`. */
  sentSince(since: number): number {
    return (this.sql("SELECT COUNT(*) AS n FROM outbox WHERE state = 'sent' AND sent_at >= ?").get(since) as { n: number }).n;
  }

  depth(): { pending: number; deadLetter: number } {
    const r = this.sql("SELECT SUM(state = 'pending') AS p, SUM(state = 'dead-letter') AS d FROM outbox")
      .get() as { p: number | null; d: number | null };
    return { pending: r.p ?? 0, deadLetter: r.d ?? 0 };
  }
}
