/**
 * Webhooks through the real processor hand-off (createProcessor queues them; the analysis is replaced by a
 * result with real report files), the outbox (real SQLite, fake clock for the back-off) and the Deliverer, to a
 * real HTTP listener (node:http) that verifies the HMAC-SHA256 signature as the README tells receivers to.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createMetrics } from '../../src/common/metrics.js';
import { Deliverer } from '../../src/pipeline/deliver.js';
import { createProcessor } from '../../src/pipeline/process.js';
import { webhookKey } from '../../src/output/webhook.js';
import type { Store } from '../../src/store/index.js';
import { memoryStore, receive, type FakeClock } from '../helpers/memory-store.js';
import { freePort } from '../helpers/ports.js';
import { analysisResult, writeStudyOutputs } from './files.js';

const SECRET = 'webhook-secret-0123456789';
const HOUR = 3_600_000;
const STUDY = '1.2.826.0.1.3680043.8.498.4711';
const PATIENT = { patientName: 'Phantom^Müller', patientId: 'PID-4711-X', patientBirthDate: '19600101' };

/** A receiver that checks the signature like the README's recipe; `answer` decides the status of each request. */
class Receiver {
  server?: http.Server;
  received: { body: Buffer; timestamp: string; signatureOk: boolean; event: string }[] = [];
  answer: () => [number, string] = () => [204, ''];
  constructor(readonly port: number) {}
  start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const timestamp = String(req.headers['x-osteoscreen-timestamp']);
        const expected = Buffer.from('sha256=' + createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex'));
        const got = Buffer.from(String(req.headers['x-osteoscreen-signature']));
        this.received.push({ body, timestamp, signatureOk: got.length === expected.length && timingSafeEqual(got, expected), event: String(req.headers['x-osteoscreen-event']) });
        const [status, text] = this.answer();
        res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
      });
    });
    return new Promise((resolve) => this.server!.listen(this.port, '127.0.0.1', () => resolve()));
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
  get url() {
    return `http://127.0.0.1:${this.port}/hooks/osteoscreen`;
  }
}

let store: Store & { clock: FakeClock };
let receiver: Receiver;
const dir = mkdtempSync(join(tmpdir(), 'webhook-test-'));

function configFor(webhooks: Record<string, unknown>[]): Config {
  return configSchema.parse({ http: { publicUrl: 'https://osteoscreen.example:8443/' }, output: { webhooks, retryBaseSeconds: 10 } });
}

/** Run the processor on a job of `study` whose analysis gives `flag` (null: not assessable). */
async function finishStudy(config: Config, flag: boolean | null, study = STUDY): Promise<number> {
  receive(store, study, `${study}.1`, { ...PATIENT, accessionNumber: 'ACC-2026-77' });
  const job = store.index.enqueueJob(study, 'test');
  const files = writeStudyOutputs(dir, job.id);
  const model = { name: 'paper-t1t2', version: '1.1.0', hash: 'abc' };
  const result = analysisResult(
    files,
    flag === null ? { notAssessable: 'no sagittal T1 series', missing: [], model } : { score: flag ? 0.61 : 0.4, cutoff: 0.542, flag, calibrated: true, normalisation: 'calibration', intercept: 0.5, terms: [], model },
    flag === null ? 'no sagittal T1 series' : null,
  );
  const processor = createProcessor({ config, store, metrics: createMetrics(), analyse: async () => result, version: 'test' });
  await processor(job);
  return job.id;
}

const deliverer = (config: Config) => new Deliverer(config, store, createMetrics(), { now: store.clock.now });
const hookRows = () => store.outbox.list().filter((r) => r.kind === 'webhook').reverse();

beforeEach(async () => {
  store = memoryStore();
  receiver = new Receiver(await freePort());
  await receiver.start();
});
afterEach(async () => {
  await receiver.stop();
  store.close();
});

describe('webhook', () => {
  it('a finished study is POSTed once, signed, with the result and a link, and no patient name, ID or birth date', async () => {
    const config = configFor([{ url: receiver.url, secret: SECRET }]);
    await finishStudy(config, true);
    expect(hookRows()).toMatchObject([{ state: 'pending', destination: webhookKey({ url: receiver.url }) }]);
    await deliverer(config).tick();
    expect(hookRows()).toMatchObject([{ state: 'sent' }]);
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.signatureOk).toBe(true);
    expect(got.timestamp).toMatch(/^\d{10}$/); // Unix time, seconds
    const body = JSON.parse(got.body.toString('utf8'));
    expect(body).toMatchObject({
      event: 'study.finished',
      studyInstanceUid: STUDY,
      accessionNumber: 'ACC-2026-77',
      result: 'flagged',
      reason: null,
      radscore: 0.61,
      cutoff: 0.542,
      model: { name: 'paper-t1t2', version: '1.1.0' },
      link: `https://osteoscreen.example:8443/#study=${STUDY}`,
    });
    expect(got.event).toBe(body.eventId);
    expect(store.index.getStudy(STUDY)).toMatchObject({ patient_name: PATIENT.patientName, patient_id: PATIENT.patientId }); // known to the service
    for (const v of Object.values(PATIENT)) expect(got.body.includes(Buffer.from(v)), v).toBe(false);
    expect(got.body.toString()).not.toMatch(/Phantom|Müller|4711-X|patient/i);
    // Sent is final.
    store.clock.advance(HOUR);
    expect(await deliverer(config).tick()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('not assessable: result and reason; onlyFlagged webhooks skip studies that are not flagged', async () => {
    const other = new Receiver(await freePort());
    await other.start();
    try {
      const config = configFor([{ url: receiver.url, secret: SECRET }, { url: other.url, secret: SECRET, onlyFlagged: true }]);
      await finishStudy(config, null, `${STUDY}.91`);
      await finishStudy(config, false, `${STUDY}.92`);
      expect(hookRows().map((r) => r.destination)).toEqual([webhookKey({ url: receiver.url }), webhookKey({ url: receiver.url })]);
      await finishStudy(config, true, `${STUDY}.93`);
      expect(hookRows().map((r) => r.destination)).toEqual([receiver.url, receiver.url, receiver.url, other.url].map((url) => webhookKey({ url })));
      await deliverer(config).tick();
      const bodies = receiver.received.map((r) => JSON.parse(r.body.toString()));
      expect(bodies.map((b) => [b.result, b.reason])).toEqual([['not-assessable', 'no sagittal T1 series'], ['not-flagged', null], ['flagged', null]]);
      expect(other.received.map((r) => JSON.parse(r.body.toString()).result)).toEqual(['flagged']);
    } finally {
      await other.stop();
    }
  });

  it('receiver down, then failing with 503, then up: retried with the back-off, identical bytes each time, delivered exactly once', async () => {
    const config = configFor([{ url: receiver.url, secret: SECRET }]);
    const d = deliverer(config);
    await receiver.stop();
    await finishStudy(config, true);
    await d.tick();
    expect(hookRows()).toMatchObject([{ state: 'pending', attempts: 1, last_error: expect.stringContaining('ECONNREFUSED') }]);
    await receiver.start();
    receiver.answer = () => [503, 'maintenance'];
    expect(await d.tick()).toBe(0); // not due for 10 s
    store.clock.advance(10_000);
    await d.tick();
    expect(hookRows()).toMatchObject([{ state: 'pending', attempts: 2, last_error: 'HTTP 503 Service Unavailable: maintenance' }]);
    receiver.answer = () => [200, 'ok'];
    store.clock.advance(20_000);
    await d.tick();
    expect(hookRows()).toMatchObject([{ state: 'sent', attempts: 3 }]);
    for (let i = 0; i < 5; i++) {
      store.clock.advance(HOUR);
      expect(await d.tick()).toBe(0);
    }
    expect(receiver.received).toHaveLength(2);
    const file = readFileSync(hookRows()[0]!.path);
    for (const r of receiver.received) {
      expect(r.body.equals(file)).toBe(true);
      expect(r.signatureOk).toBe(true);
    }
    expect(receiver.received.filter((r) => r.signatureOk && r.body.equals(file))).toHaveLength(2);
  });

  it('a refusal (4xx) is dead-lettered at once with the receiver’s reason, and not retried', async () => {
    receiver.answer = () => [422, 'unknown accession number ACC-2026-77'];
    const config = configFor([{ url: receiver.url, secret: SECRET }]);
    await finishStudy(config, true);
    await deliverer(config).tick();
    expect(hookRows()).toMatchObject([{ state: 'dead-letter', attempts: 1, last_error: 'HTTP 422 Unprocessable Entity: unknown accession number ACC-2026-77' }]);
    store.clock.advance(100 * HOUR);
    expect(await deliverer(config).tick()).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('a wrong secret fails the receiver’s check (the signature covers the body)', async () => {
    const config = configFor([{ url: receiver.url, secret: 'another-secret-of-16+' }]);
    await finishStudy(config, true);
    await deliverer(config).tick();
    expect(receiver.received.map((r) => r.signatureOk)).toEqual([false]);
  });
});
