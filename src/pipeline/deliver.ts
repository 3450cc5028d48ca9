import type { Config, Destination } from '../config/schema.js';
import type { Store, OutboxRow } from '../store/index.js';
import type { Metrics } from '../common/metrics.js';
import { sendFiles, type ScuDestination, type SendResult } from '../dicom/scu.js';
import { logger } from '../common/log.js';
import { errorMessage } from '../common/errors.js';
import { pauseAt } from '../common/test-pause.js';
import { sendStow, stowKey } from '../output/stow.js';
import { sendWebhook, webhookKey } from '../output/webhook.js';
import { hl7Key, sendHl7 } from '../output/hl7.js';
import { fhirKey, sendFhir } from '../output/fhir.js';

const log = logger('deliver');

/** The outbox's key for a destination: "AET@host:port". */
export function destinationKey(d: Pick<Destination, 'aeTitle' | 'host' | 'port'>): string {
  return `${d.aeTitle}@${d.host}:${d.port}`;
}

export function configuredDestinations(config: Config): Map<string, ScuDestination> {
  const out = new Map<string, ScuDestination>();
  for (const d of config.output.destinations) {
    out.set(destinationKey(d), { aeTitle: d.aeTitle, host: d.host, port: d.port, callingAeTitle: d.callingAeTitle ?? config.dicom.aeTitle });
  }
  return out;
}

/**
 * The outbox keys every output instance (SR, summary image, SEG) is queued for: the DICOM destinations
 * ("AET@host:port") and the STOW-RS ones ("stow:<url>"). Webhooks and FHIR resources are queued per study
 * (output/webhook.ts, output/fhir.ts).
 */
export function instanceDestinationKeys(config: Config): string[] {
  return [...config.output.destinations.map(destinationKey), ...config.output.stow.map(stowKey)];
}

/** Sends the due rows of one destination: one result per row, in order; never rejects. */
type RowSender = (rows: OutboxRow[]) => Promise<SendResult[]>;

const unconfigured = (key: string) => `destination ${key} is no longer configured`;

/** Seams for in-process tests; the service uses the defaults. */
export interface DelivererOptions {
  /** Poll period of start() (default max(200 ms, pipeline.pollMs)). */
  everyMs?: number;
  /** The C-STORE sender (default: sendFiles over dcmjs-dimse). */
  send?: typeof sendFiles;
  /** Wall clock deciding which rows are due (default Date.now; the outbox must use the same clock). */
  now?: () => number;
}

/**
 * Sends due outbox rows: by C-STORE (one association per destination per pass), by STOW-RS (one request per
 * destination per pass, output/stow.ts), to webhooks (one POST per event, output/webhook.ts), to HL7 v2
 * receivers (one MLLP connection per receiver per pass, output/hl7.ts) and to FHIR servers (two conditional
 * creates per result, output/fhir.ts). Success → `sent` (never
 * sent again); retryable failure → back-off; permanent refusal, or older than output.maxAgeHours → `dead-letter`.
 * Files are never deleted here, so a failed association cannot lose an output.
 */
export class Deliverer {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly senders = new Map<string, RowSender>();
  private readonly everyMs: number;
  private readonly send: typeof sendFiles;
  private readonly now: () => number;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly metrics: Metrics,
    opts: DelivererOptions = {},
  ) {
    this.everyMs = opts.everyMs ?? Math.max(200, config.pipeline.pollMs);
    this.send = opts.send ?? sendFiles;
    this.now = opts.now ?? Date.now;
    // One association / request per destination per pass; the C-STORE sender is the test seam.
    for (const [key, dest] of configuredDestinations(config)) this.senders.set(key, (rows) => this.send(dest, rows.map((r) => r.path), { timeoutMs: 30_000 }));
    for (const d of config.output.stow) this.senders.set(stowKey(d), (rows) => sendStow(d, rows.map((r) => ({ path: r.path, sopUid: r.sop_uid }))));
    for (const w of config.output.webhooks) this.senders.set(webhookKey(w), (rows) => sendWebhook(w, rows.map((r) => ({ path: r.path, sopUid: r.sop_uid }))));
    for (const h of config.output.hl7) this.senders.set(hl7Key(h), (rows) => sendHl7(h, rows.map((r) => ({ path: r.path, sopUid: r.sop_uid }))));
    for (const f of config.output.fhir) this.senders.set(fhirKey(f), (rows) => sendFhir(f, rows));
  }

  start(): void {
    this.deadLetterUnconfigured();
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  /**
   * Outputs still pending for a destination that is no longer in the config (removed or changed while they were
   * queued) cannot be delivered: dead-letter them now, with the reason, instead of when their next attempt is due
   * (up to an hour later). Re-adding the destination and POST /api/outbox/retry sends them.
   */
  deadLetterUnconfigured(): number {
    let total = 0;
    for (const key of this.store.outbox.pendingDestinations()) {
      if (this.senders.has(key)) continue;
      const n = this.store.outbox.deadLetterDestination(key, unconfigured(key));
      for (let i = 0; i < n; i++) this.metrics.outputsSent.inc({ destination: key, result: 'dead-letter' });
      log.error('outputs for an unconfigured destination dead-lettered', { destination: key, count: n });
      total += n;
    }
    return total;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One delivery pass; returns how many rows were attempted. */
  async tick(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      const due = this.store.outbox.due(this.now(), 100);
      if (!due.length) return 0;
      const byDest = new Map<string, OutboxRow[]>();
      for (const r of due) byDest.set(r.destination, [...(byDest.get(r.destination) ?? []), r]);
      for (const [key, rows] of byDest) await this.sendTo(key, rows);
      return due.length;
    } catch (e) {
      log.error('delivery pass failed', { error: errorMessage(e) });
      return 0;
    } finally {
      this.busy = false;
    }
  }

  private async sendTo(key: string, rows: OutboxRow[]): Promise<void> {
    const policy = { baseMs: this.config.output.retryBaseSeconds * 1000, maxAgeMs: this.config.output.maxAgeHours * 3_600_000 };
    const send = this.senders.get(key);
    if (!send) {
      for (const r of rows) this.store.outbox.markFailed(r.id, unconfigured(key), { ...policy, maxAgeMs: 0 });
      log.error('outputs for an unconfigured destination dead-lettered', { destination: key, count: rows.length });
      return;
    }
    const t0 = Date.now();
    const results = await send(rows);
    const seconds = (Date.now() - t0) / 1000;
    // Test-only: the destination has answered (and may have stored the outputs), the outbox has not recorded it.
    await pauseAt('sending', { destination: key, files: rows.length, ok: results.filter((r) => r.ok).length });
    results.forEach((res, i) => {
      const row = rows[i]!;
      if (res.ok) {
        this.store.outbox.markSent(row.id);
        this.metrics.outputsSent.inc({ destination: key, result: 'sent' });
        this.metrics.stageSeconds.observe({ stage: 'send' }, seconds);
        return;
      }
      const permanent = res.retryable === false;
      const state = this.store.outbox.markFailed(row.id, res.error ?? 'unknown error', permanent ? { ...policy, maxAgeMs: 0 } : policy);
      this.metrics.outputsSent.inc({ destination: key, result: state === 'dead-letter' ? 'dead-letter' : 'retry' });
      const fields = { destination: key, kind: row.kind, studyUid: row.study_uid, attempt: row.attempts + 1, error: res.error };
      if (state === 'dead-letter') log.error('output dead-lettered', fields);
      else log.warn('output not delivered, will retry', fields);
    });
  }
}
