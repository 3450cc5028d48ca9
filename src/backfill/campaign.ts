/**
 * The backfill runner: works through the running campaigns (durable in SQLite, src/store/backfill.ts).
 *
 * Per campaign: the date range is queried slice by slice (`backfill.queryDays`, the cursor is stored); every study
 * found is recorded (`found`, or `skipped` with the reason when it is already known here: pushed, analysed, or
 * retrieved by another campaign). Then, paced, each found study is claimed (`retrieving`), its series are queried
 * and judged (candidates.ts), the candidate series that are not complete here yet are retrieved (C-MOVE to our
 * own listener, C-GET or WADO-RS through the listener's store function) and the study is `retrieved`: from there it is
 * an ordinary study of the pipeline (stability, job, analysis, outputs). When its analysis has finished the
 * campaign records `analysed` (or `failed` with the reason) and, with `backfill.deleteAfterAnalysis`, deletes the
 * retrieved instance files (rows, results, reports and the audit trail stay).
 *
 * Pacing: `backfill.maxConcurrent` studies retrieving at once, `backfill.maxPerHour` retrievals started per hour
 * (counted from the stored start times, so a restart does not reset it), the `backfill.schedule` window, a back-off
 * (doubling from `backfill.backoffSeconds`, at most 1 h) after a refusal, a time-out or a query slower than
 * `backfill.slowAnswerSeconds`, and no retrieval while free disk is below twice `storage.minFreeMb` (the listener
 * refuses below once: pushed studies keep their room).
 *
 * After a restart (kill -9 included) studies left `retrieving` are claimed again and only their series that are
 * not complete in the index are retrieved; instances that arrive twice are counted, not re-processed.
 */
import type { Config } from '../config/schema.js';
import type { ScpContext } from '../dicom/scp.js';
import type { BackfillStudyRow, CampaignQuery, CampaignRow, Store } from '../store/index.js';
import { diskFree } from '../store/index.js';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { deleteStudyFiles } from '../admin/retention.js';
import { judgeStudy, studyFilterReason } from './candidates.js';
import { inWindow, nextBackoff, paceAndEta, retrievalSlots } from './pacing.js';
import { openSource, type BackfillSource, type SourceAnswer } from './sources.js';

const log = logger('backfill');
const DAY_MS = 86_400_000;

/** YYYYMMDD <-> Date (UTC, dates only). */
export function parseDicomDate(s: string): Date {
  return new Date(Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8))));
}
export function formatDicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

/** Failures that say the PACS could not be reached (they do not count against the study: the campaign backs off). */
const UNREACHABLE = /network error|timed out|association rejected|cannot start association|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|no answer within|HTTP 5\d\d|HTTP 429/;

export interface RunnerOptions {
  /** Wall clock (ms). */
  now?: () => number;
  /** Poll interval (ms); default pipeline.pollMs. */
  pollMs?: number;
}

export class BackfillRunner {
  private timer?: NodeJS.Timeout;
  private readonly active = new Map<string, Promise<void>>();
  private ticking = false;
  private stopping = false;
  private readonly now: () => number;
  private readonly config: Config;
  private readonly store: Store;

  constructor(
    private readonly ctx: ScpContext,
    private readonly opts: RunnerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.config = ctx.config;
    this.store = ctx.store;
  }

  start(): void {
    const interrupted = this.store.backfill.allRetrieving();
    for (const r of interrupted) this.store.backfill.setStudyState(r.campaign_id, r.study_uid, 'found', 'retrieval interrupted by a restart: the missing series are retrieved again');
    if (interrupted.length) log.warn('backfill retrievals interrupted by a restart are resumed', { studies: interrupted.length });
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs ?? Math.max(200, this.config.pipeline.pollMs));
    this.timer.unref();
    void this.tick();
  }

  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.race([Promise.allSettled([...this.active.values()]), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  /** Studies retrieving now (all campaigns). */
  get retrieving(): number {
    return this.active.size;
  }

  /** One pass over the running campaigns. Safe to call at any time. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      // Retrieved studies of paused or cancelled campaigns finish their analysis too.
      for (const c of this.store.backfill.listCampaigns(1000)) if (c.state === 'paused' || c.state === 'cancelled') this.trackAnalysis(c);
      for (const c of this.store.backfill.runningCampaigns()) {
        if (this.stopping) break;
        await this.step(c);
      }
    } catch (e) {
      log.error('backfill tick failed', { error: errorMessage(e) });
    } finally {
      this.ticking = false;
    }
  }

  private async step(c: CampaignRow): Promise<void> {
    const bf = this.store.backfill;
    this.trackAnalysis(c);
    const now = this.now();
    if (c.backoff_until > now) return;
    const query = JSON.parse(c.query) as CampaignQuery;
    const cfg = this.config.backfill;
    if (!inWindow(cfg.schedule, new Date(now))) return bf.setCampaignReason(c.id, `outside the allowed window (backfill.schedule "${cfg.schedule}")`);
    if (c.reason?.startsWith('outside the allowed window')) bf.setCampaignReason(c.id, null);
    if (c.cursor) {
      // Slices follow each other while the PACS answers promptly (at most 50 per pass: the loop stays responsive).
      let row: CampaignRow | undefined = c;
      for (let k = 0; k < 50 && row?.cursor && row.state === 'running' && !this.stopping; k++) {
        if (!(await this.querySlice(row, query))) break;
        row = bf.getCampaign(c.id);
      }
      return;
    }
    const counts = bf.counts(c.id);
    if (counts.found + counts.retrieving + counts.retrieved === 0 && !this.activeIn(c.id)) {
      bf.setCampaignState(c.id, 'done', ['running'], null);
      log.info('backfill campaign done', { campaign: c.id, ...counts });
      return;
    }
    if (!counts.found) return;
    const free = diskFree(this.store.dir);
    const need = 2 * this.config.storage.minFreeMb * 1048576;
    if (free !== null && free < need) {
      return bf.setCampaignReason(c.id, `stopped: free disk ${(free / 1048576).toFixed(0)} MB is below 2 x storage.minFreeMb (${(need / 1048576).toFixed(0)} MB)`);
    }
    let slots = retrievalSlots({ maxConcurrent: cfg.maxConcurrent, maxPerHour: cfg.maxPerHour, active: this.active.size, startedLastHour: bf.retrievalsSince(now - 3_600_000) });
    if (slots === 0 && this.active.size < cfg.maxConcurrent) bf.setCampaignReason(c.id, `hourly limit reached (backfill.maxPerHour ${cfg.maxPerHour})`);
    else if (c.reason && !c.backoff_seconds) bf.setCampaignReason(c.id, null);
    let source: BackfillSource;
    try {
      source = openSource(this.ctx, c.source, query.retrieve);
    } catch (e) {
      bf.setCampaignState(c.id, 'paused', ['running'], `cannot use the source: ${errorMessage(e)}`);
      return;
    }
    while (slots-- > 0 && !this.stopping) {
      const row = bf.claimFound(c.id);
      if (!row) break;
      const key = `${c.id}:${row.study_uid}`;
      const p = this.retrieve(c, query, source, row)
        .catch((e) => log.error('backfill retrieval failed unexpectedly', { campaign: c.id, studyUid: row.study_uid, error: errorMessage(e) }))
        .finally(() => this.active.delete(key));
      this.active.set(key, p);
    }
  }

  private activeIn(campaignId: number): boolean {
    for (const k of this.active.keys()) if (k.startsWith(`${campaignId}:`)) return true;
    return false;
  }

  private backoff(c: CampaignRow, reason: string): void {
    const fresh = this.store.backfill.getCampaign(c.id) ?? c;
    const seconds = nextBackoff(fresh.backoff_seconds, this.config.backfill.backoffSeconds);
    this.store.backfill.setBackoff(c.id, this.now() + seconds * 1000, seconds, `backing off ${seconds} s: ${reason}`);
    log.warn('backfill backing off', { campaign: c.id, seconds, reason });
  }

  /** Query one slice of the date range and record what was found; true when the next slice may follow at once. */
  private async querySlice(c: CampaignRow, query: CampaignQuery): Promise<boolean> {
    const q = query;
    const bf = this.store.backfill;
    const from = parseDicomDate(c.cursor!);
    const end = parseDicomDate(q.studyDateTo);
    const to = new Date(Math.min(end.getTime(), from.getTime() + (this.config.backfill.queryDays - 1) * DAY_MS));
    let source: BackfillSource;
    try {
      source = openSource(this.ctx, c.source, query.retrieve);
    } catch (e) {
      bf.setCampaignState(c.id, 'paused', ['running'], `cannot use the source: ${errorMessage(e)}`);
      return false;
    }
    const r = await source.findStudies(formatDicomDate(from), formatDicomDate(to));
    if (!r.ok) {
      if (r.retryable) this.backoff(c, `query ${formatDicomDate(from)}-${formatDicomDate(to)}: ${r.error}`);
      else bf.setCampaignState(c.id, 'paused', ['running'], `query refused: ${r.error}`);
      return false;
    }
    let found = 0;
    let skipped = 0;
    for (const s of r.studies) {
      // The PACS filtered by date and modality; check again (a PACS may ignore a key).
      let reason: string | null = null;
      if (s.studyDate && (s.studyDate < q.studyDateFrom || s.studyDate > q.studyDateTo)) reason = `study date ${s.studyDate} outside ${q.studyDateFrom}-${q.studyDateTo}`;
      else if (s.modalities.length && !s.modalities.some((m) => m.toUpperCase() === 'MR')) reason = `no MR in the study (${s.modalities.join(', ')})`;
      else {
        const other = bf.otherCampaignOf(s.studyUid, c.id);
        const known = this.store.index.getStudy(s.studyUid);
        if (other !== undefined) reason = `already backfilled by campaign ${other}`;
        else if (known) reason = `already here (pushed or retrieved before), study state ${known.state}`;
        else reason = studyFilterReason(s, [], { descriptionFilter: q.descriptionFilter }); // body parts: judged with the series
      }
      const added = bf.addStudy(c.id, { studyUid: s.studyUid, studyDate: s.studyDate, accession: s.accession, description: s.description, modalities: s.modalities.join('\\') }, reason ? 'skipped' : 'found', reason);
      if (added) (reason ? skipped++ : found++);
    }
    const next = new Date(to.getTime() + DAY_MS);
    bf.setCursor(c.id, next.getTime() > end.getTime() ? null : formatDicomDate(next));
    bf.clearBackoff(c.id);
    const slow = this.config.backfill.slowAnswerSeconds > 0 && r.ms > this.config.backfill.slowAnswerSeconds * 1000;
    if (slow) this.backoff(c, `the PACS answered the query in ${(r.ms / 1000).toFixed(1)} s`);
    if (r.studies.length || slow) log.info('backfill query', { campaign: c.id, from: formatDicomDate(from), to: formatDicomDate(to), studies: r.studies.length, found, skipped, ms: r.ms });
    return !slow;
  }

  /** Whether the index holds every instance the PACS announced for this series (unknown count: any instance). */
  private seriesComplete(uid: string, expected: number | null): boolean {
    const s = this.store.index.getSeries(uid);
    if (!s) return false;
    return expected === null ? s.instances > 0 : s.instances >= expected;
  }

  private async retrieve(c: CampaignRow, q: CampaignQuery, source: BackfillSource, row: BackfillStudyRow): Promise<void> {
    const bf = this.store.backfill;
    const uid = row.study_uid;
    const t0 = this.now();
    const fail = (a: SourceAnswer, what: string) => {
      const error = `${what}: ${a.error ?? 'failed'}`;
      const unreachable = UNREACHABLE.test(error);
      if (a.retryable && (unreachable || row.attempts < this.config.backfill.maxAttempts)) {
        // An unreachable PACS is the campaign's problem, not the study's: the attempt does not count.
        bf.setStudyState(c.id, uid, 'found', `attempt ${row.attempts} failed (${error}); retrying`);
        if (unreachable) bf.uncountAttempt(c.id, uid);
        this.backoff(c, error);
      } else {
        bf.setStudyState(c.id, uid, 'failed', a.retryable ? `failed after ${row.attempts} attempts: ${error}` : error);
        log.warn('backfill study failed', { campaign: c.id, studyUid: uid, error });
      }
    };
    let slow = false;
    let series = row.series ? (JSON.parse(row.series) as { uid: string; instances: number | null }[]) : undefined;
    if (!series) {
      const f = await source.findSeries(uid);
      if (!f.ok) return fail(f, 'series query');
      const slowLimit = this.config.backfill.slowAnswerSeconds;
      if (slowLimit > 0 && f.ms > slowLimit * 1000) {
        slow = true;
        this.backoff(c, `the PACS answered a series query in ${(f.ms / 1000).toFixed(1)} s`);
      }
      const j = judgeStudy({ description: row.description ?? '', bodyPart: '' }, f.series, this.config.selection, q);
      if (j.skipReason) {
        bf.setStudyState(c.id, uid, 'skipped', j.skipReason);
        log.info('backfill study skipped', { campaign: c.id, studyUid: uid, reason: j.skipReason });
        return;
      }
      series = j.candidates;
      bf.setSeries(c.id, uid, j.candidates);
      log.info('backfill series chosen', { campaign: c.id, studyUid: uid, basis: j.basis, series: j.candidates.length, rejected: j.rejected.length });
    }
    const missing = series.filter((s) => !this.seriesComplete(s.uid, s.instances));
    let instances = 0;
    if (missing.length) {
      const r = await source.retrieve(uid, missing.map((s) => s.uid));
      if (!r.ok) return fail(r, 'retrieval');
      instances = r.instances;
    }
    if (!this.store.index.getStudy(uid)) {
      bf.setStudyState(c.id, uid, 'failed', `the PACS reported success but no instance of the study arrived (${instances} sent)`);
      return;
    }
    bf.setStudyState(c.id, uid, 'retrieved', null, { instances, retrieveSeconds: (this.now() - t0) / 1000 });
    if (!slow) bf.clearBackoff(c.id);
    log.info('backfill study retrieved', { campaign: c.id, studyUid: uid, series: missing.length, instances, seconds: (this.now() - t0) / 1000 });
  }

  /** Retrieved studies whose analysis has finished: analysed / failed; retention of the retrieved files. */
  private trackAnalysis(c: CampaignRow): void {
    const bf = this.store.backfill;
    for (const row of bf.studiesInState(c.id, 'retrieved')) {
      const st = this.store.index.getStudy(row.study_uid);
      if (!st) {
        bf.setStudyState(c.id, row.study_uid, 'failed', 'the study was deleted here before its analysis finished');
        continue;
      }
      if (st.state !== 'done' && st.state !== 'not-assessable' && st.state !== 'failed') continue;
      if (st.state === 'failed') bf.setStudyState(c.id, row.study_uid, 'failed', `analysis failed: ${st.reason ?? 'no reason'}`);
      else bf.setStudyState(c.id, row.study_uid, 'analysed', st.state === 'not-assessable' ? `not assessable: ${st.reason ?? ''}` : null);
      if (this.config.backfill.deleteAfterAnalysis) {
        try {
          const d = deleteStudyFiles(this.store, row.study_uid);
          log.info('backfill study analysed; retrieved files deleted', { campaign: c.id, studyUid: row.study_uid, state: st.state, files: d.files, bytes: d.bytes });
        } catch (e) {
          log.warn('could not delete the retrieved files', { studyUid: row.study_uid, error: errorMessage(e) });
        }
      } else log.info('backfill study analysed', { campaign: c.id, studyUid: row.study_uid, state: st.state });
    }
  }
}

/** The state, counts, pace and ETA of a campaign (API, page, CLI). No patient data. */
export function campaignView(store: Store, c: CampaignRow, now = Date.now()) {
  const counts = store.backfill.counts(c.id);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const remaining = counts.found + counts.retrieving + counts.retrieved;
  const windowMs = Math.min(3_600_000, Math.max(1, now - c.created_at));
  const recent = store.backfill.finishedSince(c.id, now - windowMs);
  const { perHour, etaSeconds } = paceAndEta(recent.n, windowMs, remaining);
  const query = JSON.parse(c.query) as CampaignQuery;
  return {
    id: c.id,
    source: c.source,
    query,
    sendToPacs: c.send_to_pacs === 1,
    state: c.state,
    reason: c.reason,
    queryComplete: c.cursor === null,
    queryCursor: c.cursor,
    backoffUntil: c.backoff_until > now ? new Date(c.backoff_until).toISOString() : null,
    counts,
    total,
    done: total - remaining,
    /** Studies finished (retrieved and analysed, skipped after the series query, failed) per hour over the last hour. */
    ratePerHour: perHour === null ? null : Math.round(perHour * 10) / 10,
    etaSeconds: c.state === 'running' && etaSeconds !== null && c.cursor === null ? Math.round(etaSeconds) : null,
    meanRetrieveSeconds: recent.retrieved ? Math.round((recent.retrieveSeconds / recent.retrieved) * 100) / 100 : null,
    createdAt: new Date(c.created_at).toISOString(),
    updatedAt: new Date(c.updated_at).toISOString(),
    finishedAt: c.finished_at ? new Date(c.finished_at).toISOString() : null,
    actor: c.actor,
  };
}
export type CampaignView = ReturnType<typeof campaignView>;
