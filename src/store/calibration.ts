import { statements, type DB, type Statements } from './db.js';

/**
 * Per-scanner calibration data: each assessable study's raw model-term values under its scanner key (one row per
 * scanner and study; a re-run replaces it), and the admin's decisions on calibration proposals (approved models,
 * dismissals). No patient identifiers: studies are keyed by Study Instance UID only to replace re-runs, and
 * exported as "job-<id>".
 */

export interface TermValue {
  sequence: string;
  feature: string;
  value: number;
}

export interface ScannerStudy {
  jobId: number;
  recordedAt: number;
  terms: TermValue[];
}

export type CalibrationState = 'approved' | 'dismissed' | 'superseded';

export interface CalibrationRow {
  id: number;
  scanner: string;
  state: CalibrationState;
  /** Studies the decision was made on. */
  n: number;
  modelFile: string | null;
  modelName: string | null;
  modelVersion: string | null;
  modelHash: string | null;
  baseHash: string | null;
  actor: string;
  at: number;
  detail: unknown;
}

interface RawRow {
  id: number;
  scanner: string;
  state: CalibrationState;
  n: number;
  model_file: string | null;
  model_name: string | null;
  model_version: string | null;
  model_hash: string | null;
  base_hash: string | null;
  actor: string;
  at: number;
  detail: string | null;
}

const view = (r: RawRow): CalibrationRow => ({
  id: r.id,
  scanner: r.scanner,
  state: r.state,
  n: r.n,
  modelFile: r.model_file,
  modelName: r.model_name,
  modelVersion: r.model_version,
  modelHash: r.model_hash,
  baseHash: r.base_hash,
  actor: r.actor,
  at: r.at,
  detail: r.detail ? JSON.parse(r.detail) : null,
});

export class CalibrationStore {
  private readonly sql: Statements;

  constructor(private readonly db: DB) {
    this.sql = statements(db);
  }

  /** Record (or replace, for a re-run) one assessable study's term values under its scanner. Non-finite values are dropped. */
  recordStudy(e: { scanner: string; studyUid: string; jobId: number; terms: TermValue[]; at?: number }): void {
    const terms = e.terms.filter((t) => typeof t.value === 'number' && Number.isFinite(t.value)).map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.value }));
    this.sql(
      `INSERT INTO scanner_studies (scanner, study_uid, job_id, terms, recorded_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(scanner, study_uid) DO UPDATE SET job_id = excluded.job_id, terms = excluded.terms, recorded_at = excluded.recorded_at`,
    ).run(e.scanner, e.studyUid, e.jobId, JSON.stringify(terms), e.at ?? Date.now());
  }

  /** Scanners with recorded studies: key, study count, last recording. */
  scanners(): { scanner: string; studies: number; lastAt: number }[] {
    return this.sql('SELECT scanner, COUNT(*) AS studies, MAX(recorded_at) AS lastAt FROM scanner_studies GROUP BY scanner ORDER BY scanner')
      .all() as { scanner: string; studies: number; lastAt: number }[];
  }

  /** The recorded studies of one scanner, oldest first. */
  studies(scanner: string): ScannerStudy[] {
    const rows = this.sql('SELECT job_id, terms, recorded_at FROM scanner_studies WHERE scanner = ? ORDER BY recorded_at, job_id').all(scanner) as {
      job_id: number;
      terms: string;
      recorded_at: number;
    }[];
    return rows.map((r) => ({ jobId: r.job_id, recordedAt: r.recorded_at, terms: JSON.parse(r.terms) as TermValue[] }));
  }

  /** Every decision, newest first (optionally of one scanner). */
  decisions(scanner?: string): CalibrationRow[] {
    const rows = (
      scanner
        ? this.sql('SELECT * FROM calibrations WHERE scanner = ? ORDER BY id DESC').all(scanner)
        : this.sql('SELECT * FROM calibrations ORDER BY id DESC').all()
    ) as RawRow[];
    return rows.map(view);
  }

  /** The approved (active) calibration of each scanner. */
  approved(): CalibrationRow[] {
    return (this.sql("SELECT * FROM calibrations WHERE state = 'approved' ORDER BY scanner").all() as RawRow[]).map(view);
  }

  /** Record an approval; an earlier approval of the same scanner becomes 'superseded'. */
  approve(e: { scanner: string; n: number; modelFile: string; modelName: string; modelVersion: string; modelHash: string; baseHash: string; actor: string; detail?: unknown }): CalibrationRow {
    let id = 0;
    this.db.transaction(() => {
      this.sql("UPDATE calibrations SET state = 'superseded' WHERE scanner = ? AND state = 'approved'").run(e.scanner);
      id = Number(
        this.sql(
          `INSERT INTO calibrations (scanner, state, n, model_file, model_name, model_version, model_hash, base_hash, actor, at, detail)
           VALUES (?, 'approved', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(e.scanner, e.n, e.modelFile, e.modelName, e.modelVersion, e.modelHash, e.baseHash, e.actor, Date.now(), e.detail === undefined ? null : JSON.stringify(e.detail)).lastInsertRowid,
      );
    })();
    return view(this.sql('SELECT * FROM calibrations WHERE id = ?').get(id) as RawRow);
  }

  /** Record a dismissal of the proposal made on `n` studies. */
  dismiss(e: { scanner: string; n: number; baseHash: string; actor: string; detail?: unknown }): CalibrationRow {
    const id = this.sql(`INSERT INTO calibrations (scanner, state, n, base_hash, actor, at, detail) VALUES (?, 'dismissed', ?, ?, ?, ?, ?)`)
      .run(e.scanner, e.n, e.baseHash, e.actor, Date.now(), e.detail === undefined ? null : JSON.stringify(e.detail)).lastInsertRowid;
    return view(this.sql('SELECT * FROM calibrations WHERE id = ?').get(Number(id)) as RawRow);
  }
}
