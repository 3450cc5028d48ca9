import { statements, type DB, type Statements } from './db.js';
import { jobResultColumns, parseJobResult } from './job-result.js';
import type { InstanceMeta, InstanceRow, JobRow, JobState, SeriesRow, StudyRow, StudyState } from './types.js';
import { JOB_TRANSITIONS } from './types.js';

export type StoreOutcome = 'new' | 'identical' | 'replaced';

export interface JobFilter {
  state?: string;
  since?: number;
  until?: number;
  flagged?: boolean;
  study?: string;
  limit: number;
}

/** A job row with its study's date, description and state (no patient identifiers). */
export type JobListRow = JobRow & { study_date: string | null; study_description: string | null; study_state: string };

export interface StudyCounts {
  series: number;
  /** Instances whose file is still stored (not deleted by retention or an admin). */
  files: number;
  instances: number;
  pending: number;
  sent: number;
  deadLetter: number;
}

/**
 * The SQLite index: studies, series, instances and the per-study job queue.
 * All writes are short transactions; files are written by BlobStore before their rows appear here.
 */
export class Index {
  private readonly sql: Statements;

  /** `clock`: the wall clock of the rows' timestamps (injectable for tests). */
  constructor(
    private readonly db: DB,
    private readonly clock: () => number = Date.now,
  ) {
    this.sql = statements(db);
  }

  now(): number {
    return this.clock();
  }

  /** Run `fn` in one transaction (a savepoint when already inside one): group commit of received instances. */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---------------------------------------------------------------- instances
  getInstance(sopUid: string): InstanceRow | undefined {
    return this.sql('SELECT * FROM instances WHERE sop_uid = ?').get(sopUid) as InstanceRow | undefined;
  }

  /** A resend with identical bytes: counted, the series is not re-opened. */
  countIdenticalResend(sopUid: string): void {
    const t = this.now();
    this.db.transaction(() => {
      const row = this.getInstance(sopUid);
      if (!row) return;
      this.sql('UPDATE instances SET resends = resends + 1 WHERE sop_uid = ?').run(sopUid);
      this.sql('UPDATE series SET resends = resends + 1 WHERE series_uid = ?').run(row.series_uid);
      this.sql('UPDATE studies SET updated_at = ? WHERE study_uid = ?').run(t, row.study_uid);
    })();
  }

  /**
   * Record a stored instance (new, or replacing one with different bytes). Creates/updates study and
   * series rows and (re-)opens the series: its state goes back to `receiving`.
   */
  recordInstance(meta: InstanceMeta, file: { path: string; size: number; sha256: string }, callingAe: string): StoreOutcome {
    const t = this.now();
    let outcome: StoreOutcome = 'new';
    this.db.transaction(() => {
      this.sql(
        `INSERT INTO studies (study_uid, patient_name, patient_id, patient_birth_date, patient_sex, study_date, study_time,
           accession_number, study_description, state, created_at, updated_at)
         VALUES (@study, @pn, @pid, @pbd, @ps, @sd, @st, @acc, @desc, 'receiving', @t, @t)
         ON CONFLICT(study_uid) DO UPDATE SET state = 'receiving', reason = NULL, updated_at = @t`,
      ).run({
        study: meta.studyInstanceUid, pn: meta.patientName ?? null, pid: meta.patientId ?? null, pbd: meta.patientBirthDate ?? null,
        ps: meta.patientSex ?? null, sd: meta.studyDate ?? null, st: meta.studyTime ?? null, acc: meta.accessionNumber ?? null,
        desc: meta.studyDescription ?? null, t,
      });
      this.sql(
        `INSERT INTO series (series_uid, study_uid, modality, description, body_part, series_number, sop_class_uid, image_orientation,
           repetition_time, echo_time, inversion_time, image_type, manufacturer, manufacturer_model, station_name,
           state, first_received, last_received)
         VALUES (@series, @study, @modality, @desc, @body, @num, @sop, @iop, @tr, @te, @ti, @it, @man, @model, @station, 'receiving', @t, @t)
         ON CONFLICT(series_uid) DO UPDATE SET state = 'receiving', reason = NULL, stable_at = NULL, last_received = @t`,
      ).run({
        series: meta.seriesInstanceUid, study: meta.studyInstanceUid, modality: meta.modality ?? null, desc: meta.seriesDescription ?? null,
        body: meta.bodyPartExamined ?? null, num: meta.seriesNumber ?? null, sop: meta.sopClassUid,
        iop: meta.imageOrientationPatient ? meta.imageOrientationPatient.join('\\') : null,
        tr: meta.repetitionTime ?? null, te: meta.echoTime ?? null, ti: meta.inversionTime ?? null,
        it: meta.imageType ? meta.imageType.join('\\') : null, man: meta.manufacturer ?? null, model: meta.manufacturerModelName ?? null,
        station: meta.stationName ?? null, t,
      });
      const existing = this.getInstance(meta.sopInstanceUid);
      if (existing) {
        outcome = 'replaced';
        this.sql('UPDATE series SET bytes = bytes - ? WHERE series_uid = ?').run(existing.size, existing.series_uid);
        if (existing.series_uid !== meta.seriesInstanceUid) {
          this.sql('UPDATE series SET instances = instances - 1 WHERE series_uid = ?').run(existing.series_uid);
        }
      }
      this.sql(
        `INSERT INTO instances (sop_uid, series_uid, study_uid, sop_class_uid, transfer_syntax, instance_number, slice_position,
           path, size, sha256, received_at, calling_ae)
         VALUES (@sop, @series, @study, @cls, @ts, @num, @pos, @path, @size, @sha, @t, @ae)
         ON CONFLICT(sop_uid) DO UPDATE SET series_uid=@series, study_uid=@study, sop_class_uid=@cls, transfer_syntax=@ts,
           instance_number=@num, slice_position=@pos, path=@path, size=@size, sha256=@sha, received_at=@t, calling_ae=@ae, files_deleted=0`,
      ).run({
        sop: meta.sopInstanceUid, series: meta.seriesInstanceUid, study: meta.studyInstanceUid, cls: meta.sopClassUid,
        ts: meta.transferSyntaxUid, num: meta.instanceNumber ?? null,
        pos: meta.imagePositionPatient ? meta.imagePositionPatient.join('\\') : null,
        path: file.path, size: file.size, sha: file.sha256, t, ae: callingAe,
      });
      const inc = existing && existing.series_uid === meta.seriesInstanceUid ? 0 : 1;
      this.sql('UPDATE series SET instances = instances + ?, bytes = bytes + ? WHERE series_uid = ?').run(inc, file.size, meta.seriesInstanceUid);
    })();
    return outcome;
  }

  instancesOfSeries(seriesUid: string): InstanceRow[] {
    return this.sql('SELECT * FROM instances WHERE series_uid = ? ORDER BY instance_number, sop_uid').all(seriesUid) as InstanceRow[];
  }

  instanceCount(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
  }

  // ---------------------------------------------------------------- series / studies
  getSeries(seriesUid: string): SeriesRow | undefined {
    return this.sql('SELECT * FROM series WHERE series_uid = ?').get(seriesUid) as SeriesRow | undefined;
  }

  listSeries(filter: { state?: string; studyUid?: string; limit?: number } = {}): SeriesRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state) (where.push('state = ?'), args.push(filter.state));
    if (filter.studyUid) (where.push('study_uid = ?'), args.push(filter.studyUid));
    const sql = `SELECT * FROM series ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY last_received DESC LIMIT ?`;
    return this.sql(sql).all(...args, filter.limit ?? 1000) as SeriesRow[];
  }

  getStudy(studyUid: string): StudyRow | undefined {
    return this.sql('SELECT * FROM studies WHERE study_uid = ?').get(studyUid) as StudyRow | undefined;
  }

  listStudies(filter: { state?: string; since?: number; until?: number; limit?: number; offset?: number } = {}): StudyRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state) (where.push('state = ?'), args.push(filter.state));
    if (filter.since !== undefined) (where.push('updated_at >= ?'), args.push(filter.since));
    if (filter.until !== undefined) (where.push('updated_at < ?'), args.push(filter.until));
    const sql = `SELECT * FROM studies ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY updated_at DESC LIMIT ? OFFSET ?`;
    return this.sql(sql).all(...args, filter.limit ?? 200, filter.offset ?? 0) as StudyRow[];
  }

  setStudyState(studyUid: string, state: StudyState, reason: string | null = null): void {
    this.sql('UPDATE studies SET state = ?, reason = ?, updated_at = ? WHERE study_uid = ?').run(state, reason, this.now(), studyUid);
  }

  /** Series still receiving instances (candidates for the stability check). */
  receivingSeries(): SeriesRow[] {
    return this.sql("SELECT * FROM series WHERE state = 'receiving'").all() as SeriesRow[];
  }

  /**
   * Mark these series stable. Returns the rows marked and the studies whose series are now all stable
   * (each gets one job). Which series are quiet is decided by the pipeline on a monotonic clock.
   */
  markSeriesStable(seriesUids: string[]): { series: SeriesRow[]; studies: string[] } {
    const t = this.now();
    const out = { series: [] as SeriesRow[], studies: [] as string[] };
    if (!seriesUids.length) return out;
    this.db.transaction(() => {
      const mark = this.sql("UPDATE series SET state = 'stable', stable_at = ? WHERE series_uid = ? AND state = 'receiving'");
      for (const uid of seriesUids) {
        const row = this.getSeries(uid);
        if (row && mark.run(t, uid).changes === 1) out.series.push(row);
      }
      for (const st of new Set(out.series.map((s) => s.study_uid))) {
        const open = this.sql("SELECT COUNT(*) AS n FROM series WHERE study_uid = ? AND state = 'receiving'").get(st) as { n: number };
        if (open.n === 0) out.studies.push(st);
      }
    })();
    return out;
  }

  /** Admin action: treat a series as complete now (last_received 0 = forced; the pipeline marks it on its next pass). */
  forceStable(seriesUid: string): string | null {
    const s = this.getSeries(seriesUid);
    if (!s) return null;
    this.sql("UPDATE series SET last_received = 0 WHERE series_uid = ? AND state = 'receiving'").run(seriesUid);
    return s.study_uid;
  }

  // ---------------------------------------------------------------- jobs
  /** Queue a job for a study unless one is already queued (a queued job always sees the latest series). */
  enqueueJob(studyUid: string, trigger: string): JobRow {
    const t = this.now();
    return this.db.transaction(() => {
      const queued = this.sql("SELECT * FROM jobs WHERE study_uid = ? AND state = 'queued'").get(studyUid) as JobRow | undefined;
      if (queued) return queued;
      const info = this.sql("INSERT INTO jobs (study_uid, state, trigger, created_at, updated_at) VALUES (?, 'queued', ?, ?, ?)").run(studyUid, trigger, t, t);
      this.sql("UPDATE studies SET state = 'queued', reason = NULL, updated_at = ? WHERE study_uid = ?").run(t, studyUid);
      return this.getJob(Number(info.lastInsertRowid))!;
    })();
  }

  getJob(id: number): JobRow | undefined {
    return this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  latestJob(studyUid: string): JobRow | undefined {
    return this.sql('SELECT * FROM jobs WHERE study_uid = ? ORDER BY id DESC LIMIT 1').get(studyUid) as JobRow | undefined;
  }

  jobsOfStudy(studyUid: string): JobRow[] {
    return this.sql('SELECT * FROM jobs WHERE study_uid = ? ORDER BY id').all(studyUid) as JobRow[];
  }

  /** Jobs, newest first, with their study's non-identifying summary; filtered by state, creation time, flag and study. */
  listJobs(f: JobFilter): JobListRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.state) (where.push('j.state = ?'), args.push(f.state));
    if (f.since !== undefined) (where.push('j.created_at >= ?'), args.push(f.since));
    if (f.until !== undefined) (where.push('j.created_at < ?'), args.push(f.until));
    if (f.study) (where.push('j.study_uid = ?'), args.push(f.study));
    if (f.flagged === true) where.push('j.flag = 1');
    if (f.flagged === false) where.push('(j.flag IS NULL OR j.flag = 0)');
    return this.sql(
      `SELECT j.*, s.study_date AS study_date, s.study_description AS study_description, s.state AS study_state
       FROM jobs j JOIN studies s ON s.study_uid = j.study_uid
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY j.id DESC LIMIT ?`,
    ).all(...args, f.limit) as JobListRow[];
  }

  /** Is a job of this study running now? */
  hasProcessingJob(studyUid: string): boolean {
    return this.sql("SELECT 1 FROM jobs WHERE study_uid = ? AND state = 'processing' LIMIT 1").get(studyUid) !== undefined;
  }

  /**
   * Atomically claim the oldest queued job whose study is not receiving new instances. A study that a backfill
   * campaign is still retrieving (or whose retrieval was interrupted) waits until it is complete; studies a
   * campaign retrieved wait behind pushed ones (new studies first).
   */
  claimJob(): JobRow | undefined {
    const t = this.now();
    return this.db.transaction(() => {
      const job = this.sql(
        `SELECT j.* FROM jobs j JOIN studies s ON s.study_uid = j.study_uid
         WHERE j.state = 'queued' AND NOT EXISTS (SELECT 1 FROM series r WHERE r.study_uid = j.study_uid AND r.state = 'receiving')
           AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.study_uid = j.study_uid AND p.state = 'processing')
           AND NOT EXISTS (SELECT 1 FROM backfill_studies b WHERE b.study_uid = j.study_uid
                           AND (b.state = 'retrieving' OR (b.state = 'found' AND b.started_at IS NOT NULL)))
         ORDER BY EXISTS (SELECT 1 FROM backfill_studies b WHERE b.study_uid = j.study_uid AND b.state IN ('retrieving', 'retrieved')), j.id
         LIMIT 1`,
      ).get() as JobRow | undefined;
      if (!job) return undefined;
      const r = this.sql("UPDATE jobs SET state = 'processing', attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ? AND state = 'queued'").run(t, t, job.id);
      if (r.changes !== 1) return undefined;
      this.sql("UPDATE studies SET state = 'processing', reason = NULL, updated_at = ? WHERE study_uid = ?").run(t, job.study_uid);
      return this.getJob(job.id);
    })();
  }

  /** Move a job to a new state (checked against JOB_TRANSITIONS) and mirror it on the study. */
  transitionJob(id: number, to: JobState, reason: string | null, extra: Partial<Pick<JobRow, 'selection' | 'segmentation' | 'result' | 'timings'>> = {}): void {
    const t = this.now();
    this.db.transaction(() => {
      const job = this.getJob(id);
      if (!job) throw new Error(`job ${id} not found`);
      if (!JOB_TRANSITIONS[job.state].includes(to)) throw new Error(`job ${id}: illegal transition ${job.state} -> ${to}`);
      const final = to !== 'queued' && to !== 'processing';
      this.sql(
        `UPDATE jobs SET state = ?, reason = ?, updated_at = ?, finished_at = ?,
           selection = COALESCE(?, selection), segmentation = COALESCE(?, segmentation), result = COALESCE(?, result), timings = COALESCE(?, timings)
         WHERE id = ?`,
      ).run(to, reason, t, final ? t : null, extra.selection ?? null, extra.segmentation ?? null, extra.result ?? null, extra.timings ?? null, id);
      if (extra.result) this.writeResultColumns(id, extra.result);
      // The study mirrors its newest job unless new instances re-opened it meanwhile.
      const latest = this.latestJob(job.study_uid);
      const open = this.sql("SELECT COUNT(*) AS n FROM series WHERE study_uid = ? AND state = 'receiving'").get(job.study_uid) as { n: number };
      if (latest?.id === id && open.n === 0) {
        this.sql('UPDATE studies SET state = ?, reason = ?, updated_at = ? WHERE study_uid = ?').run(to, reason, t, job.study_uid);
      }
    })();
  }

  /** Save partial results of a running job (selection, segmentation) as stages finish. */
  updateJobData(id: number, extra: Partial<Pick<JobRow, 'selection' | 'segmentation' | 'result' | 'timings'>>): void {
    this.sql(
      `UPDATE jobs SET selection = COALESCE(?, selection), segmentation = COALESCE(?, segmentation), result = COALESCE(?, result),
         timings = COALESCE(?, timings), updated_at = ? WHERE id = ?`,
    ).run(extra.selection ?? null, extra.segmentation ?? null, extra.result ?? null, extra.timings ?? null, this.now(), id);
    if (extra.result) this.writeResultColumns(id, extra.result);
  }

  /** Flag, score, cut-off and model version of a job's result as columns (filters and counts in SQL). */
  private writeResultColumns(id: number, resultJson: string): void {
    const c = jobResultColumns(parseJobResult(resultJson));
    this.sql('UPDATE jobs SET flag = ?, score = ?, cutoff = ?, model_version = ? WHERE id = ?').run(c.flag, c.score, c.cutoff, c.modelVersion, id);
  }

  /** Jobs finished since `since` that ended done with a flag (the daily summary). */
  countFlaggedSince(since: number): number {
    return (this.sql("SELECT COUNT(*) AS n FROM jobs WHERE finished_at >= ? AND state = 'done' AND flag = 1").get(since) as { n: number }).n;
  }

  /** After a crash: jobs that were processing are queued again (they re-run from the start). */
  recoverInterruptedJobs(): number {
    const t = this.now();
    return this.db.transaction(() => {
      const rows = this.sql("SELECT id, study_uid FROM jobs WHERE state = 'processing'").all() as { id: number; study_uid: string }[];
      for (const r of rows) {
        this.sql("UPDATE jobs SET state = 'queued', reason = 'interrupted by restart; re-queued', updated_at = ? WHERE id = ?").run(t, r.id);
        this.sql("UPDATE studies SET state = 'queued', reason = 'interrupted by restart; re-queued', updated_at = ? WHERE study_uid = ?").run(t, r.study_uid);
      }
      return rows.length;
    })();
  }

  /** Series, instances (all, and those whose file is still stored) and outputs by state of one study. */
  studyCounts(studyUid: string): StudyCounts {
    return this.sql(
      `SELECT (SELECT COUNT(*) FROM series WHERE study_uid = @u) AS series,
              (SELECT COUNT(*) FROM instances WHERE study_uid = @u AND files_deleted = 0) AS files,
              (SELECT COUNT(*) FROM instances WHERE study_uid = @u) AS instances,
              (SELECT COUNT(*) FROM outbox WHERE study_uid = @u AND state = 'pending') AS pending,
              (SELECT COUNT(*) FROM outbox WHERE study_uid = @u AND state = 'sent') AS sent,
              (SELECT COUNT(*) FROM outbox WHERE study_uid = @u AND state = 'dead-letter') AS deadLetter`,
    ).get({ u: studyUid }) as StudyCounts;
  }

  /** What arrived and finished since `since` (the daily summary): studies and instances received, jobs finished by state. */
  activitySince(since: number): { studiesReceived: number; instancesReceived: number; jobsFinished: Record<string, number>; studiesTotal: number } {
    const n = (sql: string, ...args: unknown[]) => (this.sql(sql).get(...args) as { n: number }).n;
    const jobs = this.sql('SELECT state, COUNT(*) AS n FROM jobs WHERE finished_at >= ? GROUP BY state').all(since) as Array<{ state: string; n: number }>;
    return {
      studiesReceived: n('SELECT COUNT(*) AS n FROM studies WHERE created_at >= ?', since),
      instancesReceived: n('SELECT COUNT(*) AS n FROM instances WHERE received_at >= ?', since),
      jobsFinished: Object.fromEntries(jobs.map((j) => [j.state, j.n])),
      studiesTotal: n('SELECT COUNT(*) AS n FROM studies'),
    };
  }

  countBy(table: 'jobs' | 'studies' | 'series' | 'outbox', column = 'state'): Record<string, number> {
    const rows = this.sql(`SELECT ${column} AS k, COUNT(*) AS n FROM ${table} GROUP BY ${column}`).all() as { k: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }

  /** Delete a study's rows (instances, series, jobs cascade). Outbox rows stay for audit. */
  deleteStudyRows(studyUid: string): void {
    this.sql('DELETE FROM studies WHERE study_uid = ?').run(studyUid);
  }
}
