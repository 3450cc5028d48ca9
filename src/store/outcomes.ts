import { statements, type DB, type Statements } from './db.js';

/**
 * DXA outcomes (the truth a site holds for many screened patients) and the identity of every scored study, so
 * that outcomes can be linked to screened studies after the instance files are gone (retention). One stored form
 * for the three ways in (CSV, HL7 v2 ORU, API): one row per patient, issuer and DXA date; a second report of the
 * same scan replaces the first. Patient identifiers live here behind the admin token and never reach a log.
 */

export interface Outcome {
  patientId: string;
  issuer: string;
  /** YYYY-MM-DD */
  dxaDate: string;
  /** Lowest L1–L4 T-score. */
  tScore: number | null;
  zScore: number | null;
  /** Where the T-/Z-score was measured (e.g. "L2", "L1-L4"), when known. */
  tSite: string | null;
  zSite: string | null;
  age: number | null;
  sex: 'F' | 'M' | null;
  source: 'csv' | 'api' | 'hl7';
  /** File and line, HL7 control id, or API (no patient data). */
  sourceRef: string | null;
}

export interface OutcomeRow extends Outcome {
  id: number;
  receivedAt: number;
}

export interface ScreenedStudy {
  studyUid: string;
  jobId: number;
  scanner: string;
  patientId: string | null;
  issuer: string | null;
  /** Why the patient identity is missing (then the study cannot be matched). */
  identityProblem: string | null;
  /** YYYY-MM-DD, or null when the study has no valid StudyDate. */
  studyDate: string | null;
  score: number;
  cutoff: number;
  modelName: string;
  modelVersion: string;
  modelHash: string;
  recordedAt: number;
}

interface RawOutcome {
  id: number;
  patient_id: string;
  issuer: string;
  dxa_date: string;
  t_score: number | null;
  z_score: number | null;
  t_site: string | null;
  z_site: string | null;
  age: number | null;
  sex: 'F' | 'M' | null;
  source: Outcome['source'];
  source_ref: string | null;
  received_at: number;
}

interface RawScreened {
  study_uid: string;
  job_id: number;
  scanner: string;
  patient_id: string | null;
  issuer: string | null;
  identity_problem: string | null;
  study_date: string | null;
  score: number;
  cutoff: number;
  model_name: string;
  model_version: string;
  model_hash: string;
  recorded_at: number;
}

const outcomeView = (r: RawOutcome): OutcomeRow => ({
  id: r.id,
  patientId: r.patient_id,
  issuer: r.issuer,
  dxaDate: r.dxa_date,
  tScore: r.t_score,
  zScore: r.z_score,
  tSite: r.t_site,
  zSite: r.z_site,
  age: r.age,
  sex: r.sex,
  source: r.source,
  sourceRef: r.source_ref,
  receivedAt: r.received_at,
});

const screenedView = (r: RawScreened): ScreenedStudy => ({
  studyUid: r.study_uid,
  jobId: r.job_id,
  scanner: r.scanner,
  patientId: r.patient_id,
  issuer: r.issuer,
  identityProblem: r.identity_problem,
  studyDate: r.study_date,
  score: r.score,
  cutoff: r.cutoff,
  modelName: r.model_name,
  modelVersion: r.model_version,
  modelHash: r.model_hash,
  recordedAt: r.recorded_at,
});

export class OutcomeStore {
  private readonly sql: Statements;

  constructor(
    private readonly db: DB,
    private readonly clock: () => number = Date.now,
  ) {
    this.sql = statements(db);
  }

  /** Store outcomes in one transaction (a repeat of patient + issuer + DXA date replaces the earlier values). */
  upsert(list: Outcome[]): void {
    const t = this.clock();
    const st = this.sql(
      `INSERT INTO outcomes (patient_id, issuer, dxa_date, t_score, z_score, t_site, z_site, age, sex, source, source_ref, received_at)
       VALUES (@patientId, @issuer, @dxaDate, @tScore, @zScore, @tSite, @zSite, @age, @sex, @source, @sourceRef, @t)
       ON CONFLICT(patient_id, issuer, dxa_date) DO UPDATE SET t_score = excluded.t_score, z_score = excluded.z_score,
         t_site = excluded.t_site, z_site = excluded.z_site, age = excluded.age, sex = excluded.sex, source = excluded.source,
         source_ref = excluded.source_ref, received_at = excluded.received_at`,
    );
    this.db.transaction(() => {
      for (const o of list) st.run({ ...o, t });
    })();
  }

  /** Every outcome, oldest first. */
  list(): OutcomeRow[] {
    return (this.sql('SELECT * FROM outcomes ORDER BY id').all() as RawOutcome[]).map(outcomeView);
  }

  count(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM outcomes').get() as { n: number }).n;
  }

  /** Record (or replace, for a re-run) the identity, date, score and model of a scored study. */
  recordScreened(s: Omit<ScreenedStudy, 'recordedAt'> & { recordedAt?: number }): void {
    this.sql(
      `INSERT INTO screened_studies (study_uid, job_id, scanner, patient_id, issuer, identity_problem, study_date, score, cutoff, model_name, model_version, model_hash, recorded_at)
       VALUES (@studyUid, @jobId, @scanner, @patientId, @issuer, @identityProblem, @studyDate, @score, @cutoff, @modelName, @modelVersion, @modelHash, @recordedAt)
       ON CONFLICT(study_uid) DO UPDATE SET job_id = excluded.job_id, scanner = excluded.scanner, patient_id = excluded.patient_id,
         issuer = excluded.issuer, identity_problem = excluded.identity_problem, study_date = excluded.study_date, score = excluded.score,
         cutoff = excluded.cutoff, model_name = excluded.model_name, model_version = excluded.model_version, model_hash = excluded.model_hash,
         recorded_at = excluded.recorded_at`,
    ).run({ ...s, recordedAt: s.recordedAt ?? this.clock() });
  }

  /** Every scored study, oldest first. */
  screened(): ScreenedStudy[] {
    return (this.sql('SELECT * FROM screened_studies ORDER BY recorded_at, study_uid').all() as RawScreened[]).map(screenedView);
  }

  /** Changes when outcomes or screened studies change (a cache key for the performance report). */
  signature(): string {
    const a = this.sql('SELECT COUNT(*) AS n, MAX(received_at) AS t, MAX(id) AS i FROM outcomes').get() as { n: number; t: number | null; i: number | null };
    const b = this.sql('SELECT COUNT(*) AS n, MAX(recorded_at) AS t, SUM(job_id) AS j FROM screened_studies').get() as { n: number; t: number | null; j: number | null };
    return `${a.n}:${a.t}:${a.i}|${b.n}:${b.t}:${b.j}`;
  }
}
