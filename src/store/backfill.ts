import { statements, type DB, type Statements } from './db.js';

/** A campaign's state: running (querying / retrieving), paused by an admin, cancelled, or done. */
export type CampaignState = 'running' | 'paused' | 'cancelled' | 'done';
export const CAMPAIGN_STATES: CampaignState[] = ['running', 'paused', 'cancelled', 'done'];

/**
 * A study found by a campaign: found (to retrieve) -> retrieving -> retrieved (in the normal pipeline) -> analysed;
 * or skipped / failed, each with its reason.
 */
export type BackfillStudyState = 'found' | 'retrieving' | 'retrieved' | 'analysed' | 'skipped' | 'failed';
export const BACKFILL_STUDY_STATES: BackfillStudyState[] = ['found', 'retrieving', 'retrieved', 'analysed', 'skipped', 'failed'];

/** What a campaign asks the PACS for (stored as JSON). */
export interface CampaignQuery {
  /** YYYYMMDD */
  studyDateFrom: string;
  /** YYYYMMDD */
  studyDateTo: string;
  /** Regex (case-insensitive) the study description must match; empty = any. */
  descriptionFilter?: string;
  /** Regex (case-insensitive) the body part (study or any series) must match; empty = any. */
  bodyPartFilter?: string;
  /** DIMSE sources: C-MOVE or C-GET, fixed when the campaign is created (absent, e.g. DICOMweb: backfill.retrieve). */
  retrieve?: 'move' | 'get';
}

export interface CampaignRow {
  id: number;
  source: string;
  query: string;
  send_to_pacs: number;
  state: CampaignState;
  reason: string | null;
  cursor: string | null;
  backoff_until: number;
  backoff_seconds: number;
  actor: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** A candidate series to retrieve and the number of instances the PACS said it holds (null: not told). */
export interface CandidateSeries {
  uid: string;
  instances: number | null;
  description?: string;
}

export interface BackfillStudyRow {
  campaign_id: number;
  study_uid: string;
  study_date: string | null;
  accession: string | null;
  description: string | null;
  modalities: string | null;
  state: BackfillStudyState;
  reason: string | null;
  series: string | null;
  attempts: number;
  instances: number | null;
  retrieve_seconds: number | null;
  found_at: number;
  started_at: number | null;
  retrieved_at: number | null;
  finished_at: number | null;
}

export interface FoundStudy {
  studyUid: string;
  studyDate?: string | null;
  accession?: string | null;
  description?: string | null;
  modalities?: string | null;
}

/** A worklist row: the campaign's study with its analysis result (no patient name or ID). */
export interface WorklistRow extends BackfillStudyRow {
  job_id: number | null;
  job_state: string | null;
  flag: number | null;
  score: number | null;
  cutoff: number | null;
  result: string | null;
  study_accession: string | null;
}

/** Backfill campaigns and the studies they found (src/backfill/ runs them). */
export class BackfillStore {
  private readonly sql: Statements;

  constructor(
    private readonly db: DB,
    private readonly clock: () => number = Date.now,
  ) {
    this.sql = statements(db);
  }

  // ---------------------------------------------------------------- campaigns
  createCampaign(c: { source: string; query: CampaignQuery; sendToPacs: boolean; actor: string }): CampaignRow {
    const t = this.clock();
    const info = this.sql(
      `INSERT INTO backfill_campaigns (source, query, send_to_pacs, state, cursor, actor, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
    ).run(c.source, JSON.stringify(c.query), c.sendToPacs ? 1 : 0, c.query.studyDateFrom, c.actor, t, t);
    return this.getCampaign(Number(info.lastInsertRowid))!;
  }

  getCampaign(id: number): CampaignRow | undefined {
    return this.sql('SELECT * FROM backfill_campaigns WHERE id = ?').get(id) as CampaignRow | undefined;
  }

  listCampaigns(limit = 100): CampaignRow[] {
    return this.sql('SELECT * FROM backfill_campaigns ORDER BY id DESC LIMIT ?').all(limit) as CampaignRow[];
  }

  /** Running campaigns, oldest first. */
  runningCampaigns(): CampaignRow[] {
    return this.sql("SELECT * FROM backfill_campaigns WHERE state = 'running' ORDER BY id").all() as CampaignRow[];
  }

  /** Admin state change; returns false when the campaign is not in one of `from`. */
  setCampaignState(id: number, to: CampaignState, from: CampaignState[], reason: string | null = null): boolean {
    const t = this.clock();
    const placeholders = from.map(() => '?').join(', ');
    const r = this.sql(
      `UPDATE backfill_campaigns SET state = ?, reason = ?, updated_at = ?, finished_at = CASE WHEN ? IN ('done', 'cancelled') THEN ? ELSE NULL END
       WHERE id = ? AND state IN (${placeholders})`,
    ).run(to, reason, t, to, t, id, ...from);
    return r.changes === 1;
  }

  /** Cancel: the studies still to retrieve are skipped (a partly retrieved one is then analysed as it is). */
  skipRemaining(id: number, reason: string): number {
    return this.sql("UPDATE backfill_studies SET state = 'skipped', reason = ?, finished_at = ? WHERE campaign_id = ? AND state = 'found'").run(reason, this.clock(), id).changes;
  }

  /** Why the campaign is waiting (back-off, window, disk), or null. */
  setCampaignReason(id: number, reason: string | null): void {
    this.sql('UPDATE backfill_campaigns SET reason = ?, updated_at = ? WHERE id = ? AND coalesce(reason, \'\') != coalesce(?, \'\')').run(reason, this.clock(), id, reason);
  }

  /** The next date to query (null: the query is complete). */
  setCursor(id: number, cursor: string | null): void {
    this.sql('UPDATE backfill_campaigns SET cursor = ?, updated_at = ? WHERE id = ?').run(cursor, this.clock(), id);
  }

  /** Back off: no PACS request for this campaign before `until`; `seconds` is the current delay (doubles). */
  setBackoff(id: number, until: number, seconds: number, reason: string): void {
    this.sql('UPDATE backfill_campaigns SET backoff_until = ?, backoff_seconds = ?, reason = ?, updated_at = ? WHERE id = ?').run(until, seconds, reason, this.clock(), id);
  }

  clearBackoff(id: number): void {
    this.sql("UPDATE backfill_campaigns SET backoff_until = 0, backoff_seconds = 0, reason = NULL, updated_at = ? WHERE id = ? AND backoff_seconds > 0").run(this.clock(), id);
  }

  // ---------------------------------------------------------------- studies
  /** Record a study found by the query; known ones (same campaign) are left alone. Returns whether it was new. */
  addStudy(campaignId: number, s: FoundStudy, state: BackfillStudyState, reason: string | null): boolean {
    const t = this.clock();
    const r = this.sql(
      `INSERT INTO backfill_studies (campaign_id, study_uid, study_date, accession, description, modalities, state, reason, found_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, study_uid) DO NOTHING`,
    ).run(campaignId, s.studyUid, s.studyDate ?? null, s.accession ?? null, s.description ?? null, s.modalities ?? null, state, reason, t, state === 'found' ? null : t);
    return r.changes === 1;
  }

  getStudy(campaignId: number, studyUid: string): BackfillStudyRow | undefined {
    return this.sql('SELECT * FROM backfill_studies WHERE campaign_id = ? AND study_uid = ?').get(campaignId, studyUid) as BackfillStudyRow | undefined;
  }

  /** Another campaign that retrieved or is retrieving this study (its id), if any. */
  otherCampaignOf(studyUid: string, campaignId: number): number | undefined {
    const r = this.sql(
      "SELECT campaign_id FROM backfill_studies WHERE study_uid = ? AND campaign_id != ? AND state IN ('retrieving', 'retrieved', 'analysed') LIMIT 1",
    ).get(studyUid, campaignId) as { campaign_id: number } | undefined;
    return r?.campaign_id;
  }

  /** The oldest found study of a campaign, moved to `retrieving` (attempts + 1) in one transaction. */
  claimFound(campaignId: number): BackfillStudyRow | undefined {
    const t = this.clock();
    return this.db.transaction(() => {
      const row = this.sql("SELECT * FROM backfill_studies WHERE campaign_id = ? AND state = 'found' ORDER BY study_date, found_at, study_uid LIMIT 1").get(campaignId) as
        | BackfillStudyRow
        | undefined;
      if (!row) return undefined;
      this.sql("UPDATE backfill_studies SET state = 'retrieving', attempts = attempts + 1, started_at = ?, reason = NULL WHERE campaign_id = ? AND study_uid = ?").run(
        t,
        campaignId,
        row.study_uid,
      );
      return this.getStudy(campaignId, row.study_uid);
    })();
  }

  /** The series chosen for retrieval (kept so that a restart retrieves only what is missing). */
  setSeries(campaignId: number, studyUid: string, series: CandidateSeries[]): void {
    this.sql('UPDATE backfill_studies SET series = ? WHERE campaign_id = ? AND study_uid = ?').run(JSON.stringify(series), campaignId, studyUid);
  }

  setStudyState(campaignId: number, studyUid: string, state: BackfillStudyState, reason: string | null, extra: { instances?: number; retrieveSeconds?: number } = {}): void {
    const t = this.clock();
    this.sql(
      `UPDATE backfill_studies SET state = ?, reason = ?,
         instances = coalesce(?, instances), retrieve_seconds = coalesce(?, retrieve_seconds),
         retrieved_at = CASE WHEN ? = 'retrieved' THEN ? ELSE retrieved_at END,
         finished_at = CASE WHEN ? IN ('analysed', 'skipped', 'failed') THEN ? ELSE NULL END
       WHERE campaign_id = ? AND study_uid = ?`,
    ).run(state, reason, extra.instances ?? null, extra.retrieveSeconds ?? null, state, t, state, t, campaignId, studyUid);
  }

  /** An attempt that failed because the PACS could not be reached does not count against the study. */
  uncountAttempt(campaignId: number, studyUid: string): void {
    this.sql('UPDATE backfill_studies SET attempts = max(0, attempts - 1) WHERE campaign_id = ? AND study_uid = ?').run(campaignId, studyUid);
  }

  studiesInState(campaignId: number, state: BackfillStudyState, limit = 1000): BackfillStudyRow[] {
    return this.sql('SELECT * FROM backfill_studies WHERE campaign_id = ? AND state = ? ORDER BY study_date, study_uid LIMIT ?').all(campaignId, state, limit) as BackfillStudyRow[];
  }

  /** Studies retrieving in any campaign (after a restart: their retrieval was interrupted). */
  allRetrieving(): BackfillStudyRow[] {
    return this.sql("SELECT * FROM backfill_studies WHERE state = 'retrieving'").all() as BackfillStudyRow[];
  }

  /** Retrievals started since `since` (ms), over all campaigns: the hourly pace. */
  retrievalsSince(since: number): number {
    return (this.sql('SELECT COUNT(*) AS n FROM backfill_studies WHERE started_at >= ?').get(since) as { n: number }).n;
  }

  /** Studies per state of a campaign. */
  counts(campaignId: number): Record<BackfillStudyState, number> {
    const out = Object.fromEntries(BACKFILL_STUDY_STATES.map((s) => [s, 0])) as Record<BackfillStudyState, number>;
    for (const r of this.sql('SELECT state, COUNT(*) AS n FROM backfill_studies WHERE campaign_id = ? GROUP BY state').all(campaignId) as { state: BackfillStudyState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Studies per state over every campaign (the metrics gauge). */
  countsAll(): Record<BackfillStudyState, number> {
    const out = Object.fromEntries(BACKFILL_STUDY_STATES.map((s) => [s, 0])) as Record<BackfillStudyState, number>;
    for (const r of this.sql('SELECT state, COUNT(*) AS n FROM backfill_studies GROUP BY state').all() as { state: BackfillStudyState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Finished studies (analysed / skipped after retrieval / failed) of a campaign since `since`, and retrieval seconds. */
  finishedSince(campaignId: number, since: number): { n: number; retrieveSeconds: number; retrieved: number } {
    return this.sql(
      `SELECT COUNT(*) AS n, coalesce(SUM(retrieve_seconds), 0) AS retrieveSeconds, COUNT(retrieve_seconds) AS retrieved
       FROM backfill_studies WHERE campaign_id = ? AND finished_at >= ? AND started_at IS NOT NULL`,
    ).get(campaignId, since) as { n: number; retrieveSeconds: number; retrieved: number };
  }

  /** The campaign's studies (optionally one state) with their latest job's result: the worklist. */
  worklist(campaignId: number, state?: BackfillStudyState, limit = 100_000): WorklistRow[] {
    return this.sql(
      `SELECT b.*, j.id AS job_id, j.state AS job_state, j.flag, j.score, j.cutoff, j.result, s.accession_number AS study_accession
       FROM backfill_studies b
       LEFT JOIN studies s ON s.study_uid = b.study_uid
       LEFT JOIN jobs j ON j.id = (SELECT max(id) FROM jobs WHERE study_uid = b.study_uid)
       WHERE b.campaign_id = ? AND (? IS NULL OR b.state = ?)
       ORDER BY b.study_date, b.study_uid LIMIT ?`,
    ).all(campaignId, state ?? null, state ?? null, limit) as WorklistRow[];
  }

  /** How the outputs of a study's analysis are routed: the campaign it was retrieved for, if any. */
  routingOf(studyUid: string): { campaignId: number; sendToPacs: boolean } | undefined {
    const r = this.sql(
      `SELECT b.campaign_id, c.send_to_pacs FROM backfill_studies b JOIN backfill_campaigns c ON c.id = b.campaign_id
       WHERE b.study_uid = ? AND b.state IN ('retrieving', 'retrieved') ORDER BY b.campaign_id DESC LIMIT 1`,
    ).get(studyUid) as { campaign_id: number; send_to_pacs: number } | undefined;
    return r ? { campaignId: r.campaign_id, sendToPacs: r.send_to_pacs === 1 } : undefined;
  }
}
