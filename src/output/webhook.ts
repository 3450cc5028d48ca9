/**
 * Webhooks: when a study finishes (scored or not assessable), a small JSON is POSTed to each configured URL
 * (optionally only for flagged studies). No patient name, ID or birth date: the study UID, accession number,
 * the result, radscore, cut-off, model and a link to the study on the admin page.
 *
 * The body is written once to a file next to the job's reports (`webhook.json`) and one outbox row per webhook
 * points to it, so every retry sends identical bytes. Signature (see README, Webhook):
 *   X-OsteoScreen-Timestamp: <Unix time of this attempt, seconds>
 *   X-OsteoScreen-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 *   X-OsteoScreen-Event: <eventId, also in the body: the same for every retry; receivers deduplicate on it>
 * Answers: 2xx delivered; 408/425/429, 5xx or no answer retried with the outbox back-off; 3xx and other 4xx
 * (401/403 included) dead-lettered at once with the receiver's status and text.
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config, WebhookDestination } from '../config/schema.js';
import type { SendResult } from '../dicom/scu.js';
import type { Store } from '../store/index.js';
import { deterministicUid } from '../dicom/uid.js';
import { describeAnswer, describeNetworkError, httpPost, isRetryableHttpStatus, readCaFile, readPayloadFile } from './http-post.js';
import { urlKey } from './keys.js';

export const SIGNATURE_HEADER = 'x-osteoscreen-signature';
export const TIMESTAMP_HEADER = 'x-osteoscreen-timestamp';
export const EVENT_HEADER = 'x-osteoscreen-event';

/** The outbox's key for a webhook: "webhook:<url>" (a query string, if any, is hashed). */
export function webhookKey(w: Pick<WebhookDestination, 'url'>): string {
  return `webhook:${urlKey(w.url)}`;
}

/** What the processor knows of a finished job (jobResultView's fields used here). */
export interface FinishedResult {
  kind: string;
  reason?: string | null;
  score: number | null;
  cutoff: number | null;
  flag: boolean | null;
  calibrated: boolean | null;
  model: { name: string; version: string; hash?: string } | null;
}

export type WebhookResult = 'flagged' | 'not-flagged' | 'no-flag' | 'not-assessable';

export interface WebhookBody {
  event: 'study.finished';
  eventId: string;
  studyInstanceUid: string;
  accessionNumber: string | null;
  result: WebhookResult;
  reason: string | null;
  radscore: number | null;
  cutoff: number | null;
  calibrated: boolean | null;
  model: { name: string; version: string } | null;
  link: string;
  finishedAt: string;
  status: string;
}

export function webhookResult(r: FinishedResult): WebhookResult {
  if (r.kind !== 'scored') return 'not-assessable';
  return r.flag === true ? 'flagged' : r.flag === false ? 'not-flagged' : 'no-flag';
}

/** The admin page's link to one study (the page opens its detail from the #study= fragment). */
export function studyLink(config: Config, studyUid: string): string {
  const base = config.http.publicUrl.replace(/\/+$/, '') || `http://${os.hostname()}:${config.http.port}`;
  return `${base}/#study=${encodeURIComponent(studyUid)}`;
}

export function webhookBody(a: { config: Config; studyUid: string; accessionNumber: string | null; jobId: number; result: FinishedResult; finishedAt: number }): WebhookBody {
  const r = a.result;
  const result = webhookResult(r);
  return {
    event: 'study.finished',
    eventId: deterministicUid('osteoscreen-webhook', a.studyUid, a.jobId),
    studyInstanceUid: a.studyUid,
    accessionNumber: a.accessionNumber || null,
    result,
    reason: result === 'no-flag' ? (r.reason ?? 'no flag given (model not calibrated)') : result === 'not-assessable' ? (r.reason ?? 'not assessable') : null,
    radscore: r.score,
    cutoff: r.cutoff,
    calibrated: r.calibrated,
    model: r.model ? { name: r.model.name, version: r.model.version } : null,
    link: studyLink(a.config, a.studyUid),
    finishedAt: new Date(a.finishedAt).toISOString(),
    status: 'UNVERIFIED - screening support, not a diagnosis',
  };
}

/**
 * Queue the study's notification for every webhook that wants it: the body goes to `<dir>/webhook.json`, one
 * outbox row per webhook (kind "webhook", the event id in the SOP UID column). Returns the rows queued.
 */
export function queueWebhooks(deps: { config: Config; store: Store }, job: { id: number; study_uid: string }, result: FinishedResult, dir: string, now = Date.now()): number {
  const hooks = deps.config.output.webhooks.filter((w) => !w.onlyFlagged || webhookResult(result) === 'flagged');
  if (!hooks.length) return 0;
  const study = deps.store.index.getStudy(job.study_uid);
  const body = webhookBody({ config: deps.config, studyUid: job.study_uid, accessionNumber: study?.accession_number ?? null, jobId: job.id, result, finishedAt: now });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'webhook.json');
  writeFileSync(file, JSON.stringify(body));
  for (const w of hooks) deps.store.outbox.add({ studyUid: job.study_uid, jobId: job.id, kind: 'webhook', destination: webhookKey(w), path: file, sopUid: body.eventId });
  return hooks.length;
}

/** "sha256=<hex>": HMAC-SHA256 with the webhook's secret over `${timestamp}.${body}`. */
export function signWebhook(secret: string, timestamp: string, body: Buffer | string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** POST each row's body (one request per event); one result per row, in order. Never rejects. */
export async function sendWebhook(w: WebhookDestination, items: { path: string; sopUid: string }[], now: () => number = Date.now): Promise<SendResult[]> {
  const { ca, error } = readCaFile(w.caFile);
  if (error) return items.map((it) => ({ file: it.path, ok: false, error, retryable: true }));
  const out: SendResult[] = [];
  for (const it of items) {
    const payload = readPayloadFile(it.path);
    if ('error' in payload) {
      out.push({ file: it.path, ok: false, error: payload.error, retryable: false });
      continue;
    }
    const body = payload.bytes;
    const timestamp = String(Math.floor(now() / 1000));
    try {
      const a = await httpPost(w.url, {
        headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhook(w.secret, timestamp, body), [EVENT_HEADER]: it.sopUid },
        body,
        ca,
        timeoutMs: w.timeoutSeconds * 1000,
      });
      if (a.status >= 200 && a.status < 300) out.push({ file: it.path, ok: true, status: a.status });
      else out.push({ file: it.path, ok: false, status: a.status, error: describeAnswer(a), retryable: a.status < 300 || a.status >= 400 ? isRetryableHttpStatus(a.status) : false });
    } catch (e) {
      out.push({ file: it.path, ok: false, error: describeNetworkError(e), retryable: true });
    }
  }
  return out;
}
