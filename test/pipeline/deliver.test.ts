/**
 * The Deliverer (src/pipeline/deliver.ts) in-process with a fake C-STORE sender and a fake clock: one association
 * per destination per pass, sent rows never sent again, back-off min(retryBase * 2^(n-1), 1 h), dead-letter after
 * output.maxAgeHours or at a permanent refusal.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics, type Metrics } from '../../src/common/metrics.js';
import { Deliverer } from '../../src/pipeline/deliver.js';
import type { SendResult, ScuDestination } from '../../src/dicom/scu.js';
import type { Store } from '../../src/store/index.js';
import { memoryStore, type FakeClock } from '../helpers/memory-store.js';

const HOUR = 3_600_000;
const PACS = 'PACS@10.0.0.1:104';
const ARCHIVE = 'ARCHIVE@10.0.0.2:11112';

/** Records every association; answers each file with `answer(file, callNumber)`. */
class FakeSender {
  calls: { dest: ScuDestination; files: string[] }[] = [];
  answer: (file: string, call: number) => Omit<SendResult, 'file'> = () => ({ ok: true, status: 0 });
  readonly send = async (dest: ScuDestination, files: string[]): Promise<SendResult[]> => {
    this.calls.push({ dest, files });
    return files.map((file) => ({ file, ...this.answer(file, this.calls.length) }));
  };
}

let store: Store & { clock: FakeClock };
let metrics: Metrics;
let sender: FakeSender;

function make(output: Record<string, unknown> = {}): Deliverer {
  const config = configSchema.parse({
    dicom: { aeTitle: 'OSTEO' },
    output: { destinations: [{ aeTitle: 'PACS', host: '10.0.0.1', port: 104 }, { aeTitle: 'ARCHIVE', host: '10.0.0.2', port: 11112, callingAeTitle: 'OSTEO2' }], retryBaseSeconds: 10, maxAgeHours: 72, ...output },
  });
  return new Deliverer(config, store, metrics, { send: sender.send, now: store.clock.now });
}

function queue(sop: string, destination = PACS, kind = 'sr'): number {
  store.outbox.add({ studyUid: '1.2.3', jobId: 1, kind, destination, path: `/out/${sop}.dcm`, sopUid: sop });
  return store.outbox.ofStudy('1.2.3').find((r) => r.sop_uid === sop && r.destination === destination)!.id;
}

const retryable = { ok: false, error: 'network error', retryable: true } as const;

beforeEach(() => {
  store = memoryStore();
  metrics = createMetrics();
  sender = new FakeSender();
});
afterEach(() => store.close());

describe('Deliverer', () => {
  it('sends due rows over one association per destination per pass, with the configured AE titles', async () => {
    const d = make();
    queue('1.1');
    queue('1.2', PACS, 'summary');
    queue('1.1', ARCHIVE);
    expect(await d.tick()).toBe(3);
    expect(sender.calls).toEqual([
      { dest: { aeTitle: 'PACS', host: '10.0.0.1', port: 104, callingAeTitle: 'OSTEO' }, files: ['/out/1.1.dcm', '/out/1.2.dcm'] },
      { dest: { aeTitle: 'ARCHIVE', host: '10.0.0.2', port: 11112, callingAeTitle: 'OSTEO2' }, files: ['/out/1.1.dcm'] },
    ]);
    expect(store.outbox.ofStudy('1.2.3').map((r) => r.state)).toEqual(['sent', 'sent', 'sent']);
    expect(metrics.outputsSent.get({ destination: PACS, result: 'sent' })).toBe(2);
  });

  it('a sent row is never sent again, however many passes follow', async () => {
    const d = make();
    queue('1.1');
    await d.tick();
    for (let i = 0; i < 50; i++) {
      store.clock.advance(HOUR);
      expect(await d.tick()).toBe(0);
    }
    expect(sender.calls).toHaveLength(1);
  });

  it('a retryable failure backs off retryBase * 2^(n-1) up to 1 h; the row is attempted exactly when due', async () => {
    const d = make({ retryBaseSeconds: 30, maxAgeHours: 1000 });
    const id = queue('1.1');
    sender.answer = () => retryable;
    const gaps: number[] = [];
    let last = store.clock.t;
    await d.tick();
    for (let n = 1; n <= 9; n++) {
      const next = store.outbox.get(id)!.next_attempt_at;
      store.clock.advance(next - store.clock.t - 1);
      expect(await d.tick(), `attempt ${n + 1} a millisecond early`).toBe(0);
      store.clock.advance(1);
      expect(await d.tick()).toBe(1);
      gaps.push(store.clock.t - last);
      last = store.clock.t;
    }
    expect(gaps).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600].map((s) => s * 1000));
    expect(sender.calls).toHaveLength(10);
    expect(store.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 10, last_error: 'network error' });
    expect(metrics.outputsSent.get({ destination: PACS, result: 'retry' })).toBe(10);
    // The destination comes back: delivered once, then never again.
    sender.answer = () => ({ ok: true, status: 0 });
    store.clock.advance(HOUR);
    await d.tick();
    await d.tick();
    expect(store.outbox.get(id)!.state).toBe('sent');
    expect(sender.calls).toHaveLength(11);
  });

  it('dead-letters a row that still fails once it is older than output.maxAgeHours, and stops trying it', async () => {
    const d = make({ retryBaseSeconds: 600, maxAgeHours: 3 });
    const id = queue('1.1');
    sender.answer = () => retryable;
    let attempts = 0;
    while (store.outbox.get(id)!.state === 'pending' && attempts < 100) {
      store.clock.t = Math.max(store.clock.t, store.outbox.get(id)!.next_attempt_at);
      attempts += await d.tick();
    }
    const row = store.outbox.get(id)!;
    expect(row.state).toBe('dead-letter');
    // Attempts at 0, 10, 30, 70, 130 min (the 80 min step is capped at 60), then at 190 min >= 3 h: dead-letter.
    expect(store.clock.t - row.created_at).toBe(190 * 60_000);
    expect(attempts).toBe(6);
    expect(metrics.outputsSent.get({ destination: PACS, result: 'dead-letter' })).toBe(1);
    store.clock.advance(100 * HOUR);
    expect(await d.tick()).toBe(0);
    expect(sender.calls).toHaveLength(6);
    // An admin retry gives it a fresh maximum age.
    expect(store.outbox.retryDeadLetters()).toBe(1);
    sender.answer = () => ({ ok: true, status: 0 });
    await d.tick();
    expect(store.outbox.get(id)!.state).toBe('sent');
  });

  it('a permanent refusal dead-letters at once; other files of the same association keep their own outcome', async () => {
    const d = make();
    const [a, b, c] = ['1.1', '1.2', '1.3'].map((s) => queue(s));
    sender.answer = (file) =>
      file.endsWith('1.1.dcm') ? { ok: true, status: 0 } : file.endsWith('1.2.dcm') ? { ok: false, status: 0xc000, error: 'C000', retryable: false } : { ok: false, status: 0xa700, error: 'A700', retryable: true };
    expect(await d.tick()).toBe(3);
    expect([a, b, c].map((id) => store.outbox.get(id)!.state)).toEqual(['sent', 'dead-letter', 'pending']);
    expect(store.outbox.get(b)!.last_error).toBe('C000');
  });

  it('rows for a destination no longer configured are dead-lettered without any association', async () => {
    const d = make();
    const id = queue('1.1', 'GONE@10.9.9.9:104');
    expect(await d.tick()).toBe(1);
    expect(sender.calls).toEqual([]);
    expect(store.outbox.get(id)).toMatchObject({ state: 'dead-letter', last_error: 'destination GONE@10.9.9.9:104 is no longer configured' });
  });

  it('at start, rows still pending for a destination no longer configured are dead-lettered at once (not when next due), with the reason; the others stay', async () => {
    const gone = queue('1.1', 'GONE@10.9.9.9:104');
    const kept = queue('1.2');
    // Both in back-off: the next attempt is an hour away.
    sender.answer = () => retryable;
    await make({ retryBaseSeconds: 3600 }).tick();
    expect(store.outbox.get(gone)).toMatchObject({ state: 'dead-letter' }); // tick path (due now)
    const later = queue('1.3', 'GONE@10.9.9.9:104');
    store.outbox.markFailed(later, 'network error', { baseMs: HOUR, maxAgeMs: 72 * HOUR });
    const d = make();
    d.start();
    d.stop();
    expect(store.outbox.get(later)).toMatchObject({ state: 'dead-letter', attempts: 1, last_error: 'destination GONE@10.9.9.9:104 is no longer configured' });
    expect(store.outbox.get(kept)).toMatchObject({ state: 'pending', attempts: 1, last_error: 'network error' });
    expect(metrics.outputsSent.get({ destination: 'GONE@10.9.9.9:104', result: 'dead-letter' })).toBe(1);
    expect(sender.calls.map((c) => c.dest.aeTitle)).toEqual(['PACS']);
  });

  it('passes do not overlap: a tick during a slow association does nothing', async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const config = configSchema.parse({ output: { destinations: [{ aeTitle: 'PACS', host: '10.0.0.1', port: 104 }] } });
    const blocking = new Deliverer(config, store, metrics, {
      now: store.clock.now,
      send: async (dest, files) => {
        await slow;
        return sender.send(dest, files);
      },
    });
    queue('1.1');
    const first = blocking.tick();
    expect(await blocking.tick()).toBe(0);
    release();
    expect(await first).toBe(1);
    expect(sender.calls).toHaveLength(1);
    expect(store.outbox.ofStudy('1.2.3')[0]!.state).toBe('sent');
  });

  it('a sender that throws does not lose the rows: the pass fails, the rows stay pending and due', async () => {
    const config = configSchema.parse({ output: { destinations: [{ aeTitle: 'PACS', host: '10.0.0.1', port: 104 }] } });
    const d = new Deliverer(config, store, metrics, { now: store.clock.now, send: async () => Promise.reject(new Error('socket exploded')) });
    const id = queue('1.1');
    expect(await d.tick()).toBe(0);
    expect(store.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 0 });
    expect(store.outbox.due().map((r) => r.id)).toEqual([id]);
  });
});
