/**
 * Backfill HTTP API (behind the admin token, audit-logged):
 *   GET  /api/backfill                      campaigns with counts, pace, ETA
 *   POST /api/backfill                      {source, studyDateFrom, studyDateTo, descriptionFilter?, bodyPartFilter?, sendToPacs?, retrieve?}
 *   GET  /api/backfill/:id                  one campaign
 *   GET  /api/backfill/:id/studies?state=   its studies with state and reason (no patient data)
 *   GET  /api/backfill/:id/worklist.csv     the worklist export
 *   POST /api/backfill/:id/pause|resume|cancel
 */
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Store, BackfillStudyState, CampaignState, WorklistRow } from '../store/index.js';
import { BACKFILL_STUDY_STATES } from '../store/index.js';
import type { Route, Request } from '../admin/http.js';
import { OsteoError } from '../common/errors.js';
import { formatCsv } from '../common/csv.js';
import { scannerKey } from '../common/scanner.js';
import { parseJobResult } from '../store/index.js';
import { studyLink } from '../output/webhook.js';
import { parseSource } from './sources.js';
import { campaignView } from './campaign.js';

/** YYYYMMDD or YYYY-MM-DD -> YYYYMMDD (a real date). */
const dicomDate = z
  .string()
  .transform((s) => s.trim().replace(/^(\d{4})-(\d{2})-(\d{2})$/, '$1$2$3'))
  .refine((s) => /^\d{8}$/.test(s) && !Number.isNaN(Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8))) && +s.slice(4, 6) >= 1 && +s.slice(4, 6) <= 12 && +s.slice(6, 8) >= 1 && +s.slice(6, 8) <= 31, 'expected a date YYYYMMDD or YYYY-MM-DD');

const regex = z
  .string()
  .max(200)
  .refine((s) => {
    try {
      new RegExp(s, 'i');
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

export const campaignRequestSchema = z
  .strictObject({
    source: z.string().min(1).describe('AET@host:port (DIMSE) or a DICOMweb base URL'),
    studyDateFrom: dicomDate,
    studyDateTo: dicomDate,
    descriptionFilter: regex.optional(),
    bodyPartFilter: regex.optional(),
    sendToPacs: z.boolean().default(false).describe('Also send SR/summary images into the PACS (default: non-DICOM outputs only)'),
    retrieve: z.enum(['move', 'get']).optional().describe('DIMSE sources: C-MOVE to our own AE or C-GET (default: backfill.retrieve)'),
  })
  .refine((r) => r.studyDateFrom <= r.studyDateTo, { message: 'studyDateFrom is after studyDateTo', path: ['studyDateFrom'] });
export type CampaignRequest = z.infer<typeof campaignRequestSchema>;

export const WORKLIST_COLUMNS = ['campaign', 'study_date', 'accession', 'scanner', 'state', 'result', 'radscore', 'cutoff', 'calibration', 'reason', 'link'];

/** The worklist rows as CSV: study date, accession, scanner, result, radscore, calibration state, reason, link. No name. */
export function worklistCsv(config: Config, campaignId: number, rows: WorklistRow[]): string {
  return formatCsv(
    WORKLIST_COLUMNS,
    rows.map((r) => {
      const res = r.result ? parseJobResult(r.result) : null;
      const scored = r.state === 'analysed' && res?.kind === 'scored';
      const result = r.state !== 'analysed' ? '' : !scored ? 'not assessable' : r.flag === 1 ? 'abnormal bone mass suspected' : r.flag === 0 ? 'not suspected' : 'no flag';
      return [
        campaignId,
        r.study_date ?? '',
        r.study_accession ?? r.accession ?? '',
        res?.scanner ? scannerKey(res.scanner) : '',
        r.state,
        result,
        scored && r.score !== null ? r.score.toFixed(4) : '',
        scored && r.cutoff !== null ? r.cutoff.toFixed(4) : '',
        scored ? (res?.calibrated ? 'calibrated' : 'uncalibrated') : '',
        r.reason ?? (scored ? (res?.flagSuppressed ?? '') : res?.reason ?? ''),
        r.state === 'analysed' ? studyLink(config, r.study_uid) : '',
      ];
    }),
  );
}

export interface BackfillRouteDeps {
  config: Config;
  store: Store;
  /** Runs a pass now (after a change), so a test or an admin does not wait for the next poll. */
  kick?: () => void;
}

export function backfillRoutes(deps: BackfillRouteDeps): Route[] {
  const { store, config } = deps;
  const campaign = (req: Request) => {
    const id = Number(req.params.id);
    const c = Number.isInteger(id) ? store.backfill.getCampaign(id) : undefined;
    if (!c) throw new OsteoError('not-found', `no backfill campaign ${req.params.id}`, 404);
    return c;
  };
  const audit = (req: Request, action: string, target: string, detail?: unknown) => store.audit.record({ actor: req.actor, ip: req.ip, action, target, detail });
  const transition = (action: string, to: CampaignState, from: CampaignState[]): Route => ({
    method: 'POST',
    pattern: `/api/backfill/:id/${action}`,
    auth: true,
    handler: (req) => {
      const c = campaign(req);
      if (!store.backfill.setCampaignState(c.id, to, from, action === 'pause' ? `paused by ${req.actor}` : action === 'cancel' ? `cancelled by ${req.actor}` : null))
        throw new OsteoError('conflict', `campaign ${c.id} is ${c.state}: cannot ${action} it`, 409);
      if (to === 'running') store.backfill.clearBackoff(c.id);
      if (to === 'cancelled') store.backfill.skipRemaining(c.id, `campaign cancelled by ${req.actor}`);
      audit(req, `backfill-${action}`, String(c.id));
      deps.kick?.();
      return { json: campaignView(store, store.backfill.getCampaign(c.id)!) };
    },
  });
  return [
    { method: 'GET', pattern: '/api/backfill', auth: true, handler: () => ({ json: store.backfill.listCampaigns().map((c) => campaignView(store, c)) }) },
    {
      method: 'POST',
      pattern: '/api/backfill',
      auth: true,
      handler: (req) => {
        const parsed = campaignRequestSchema.safeParse(req.body ?? {});
        if (!parsed.success) throw new OsteoError('bad-request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 400);
        const b = parsed.data;
        const kind = parseSource(b.source).kind;
        if (kind !== 'dimse' && b.retrieve) throw new OsteoError('bad-request', 'retrieve (move or get) applies to a DIMSE source (AET@host:port) only; a DICOMweb source is retrieved with WADO-RS', 400);
        const retrieve = kind === 'dimse' ? (b.retrieve ?? config.backfill.retrieve) : undefined;
        const c = store.backfill.createCampaign({
          source: b.source.trim(),
          query: { studyDateFrom: b.studyDateFrom, studyDateTo: b.studyDateTo, descriptionFilter: b.descriptionFilter, bodyPartFilter: b.bodyPartFilter, retrieve },
          sendToPacs: b.sendToPacs,
          actor: req.actor,
        });
        audit(req, 'backfill-start', String(c.id), { source: c.source, from: b.studyDateFrom, to: b.studyDateTo, sendToPacs: b.sendToPacs, retrieve });
        deps.kick?.();
        return { status: 201, json: campaignView(store, c) };
      },
    },
    { method: 'GET', pattern: '/api/backfill/:id', auth: true, handler: (req) => ({ json: campaignView(store, campaign(req)) }) },
    {
      method: 'GET',
      pattern: '/api/backfill/:id/studies',
      auth: true,
      handler: (req) => {
        const c = campaign(req);
        const state = req.query.get('state') ?? undefined;
        if (state && !BACKFILL_STUDY_STATES.includes(state as BackfillStudyState)) throw new OsteoError('bad-request', `state must be one of ${BACKFILL_STUDY_STATES.join(', ')}`, 400);
        const rows = store.backfill.worklist(c.id, state as BackfillStudyState | undefined, Number(req.query.get('limit') ?? 1000));
        return {
          json: rows.map((r) => ({
            studyInstanceUid: r.study_uid,
            studyDate: r.study_date,
            description: r.description,
            state: r.state,
            reason: r.reason,
            attempts: r.attempts,
            instances: r.instances,
            retrieveSeconds: r.retrieve_seconds,
            series: r.series ? JSON.parse(r.series) : null,
            job: r.job_id,
            flag: r.flag === null ? null : r.flag === 1,
            score: r.score,
          })),
        };
      },
    },
    {
      method: 'GET',
      pattern: '/api/backfill/:id/worklist.csv',
      auth: true,
      handler: (req) => {
        const c = campaign(req);
        const state = req.query.get('state') ?? undefined;
        const csv = worklistCsv(config, c.id, store.backfill.worklist(c.id, state as BackfillStudyState | undefined));
        audit(req, 'backfill-export', String(c.id));
        return { body: csv, contentType: 'text/csv; charset=utf-8', headers: { 'content-disposition': `attachment; filename="backfill-${c.id}-worklist.csv"` } };
      },
    },
    transition('pause', 'paused', ['running']),
    transition('resume', 'running', ['paused']),
    transition('cancel', 'cancelled', ['running', 'paused']),
  ];
}
