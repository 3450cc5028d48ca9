/** The persistent outbox (src/store/outbox.ts): back-off min(base * 2^(n-1), 1 h), dead-letter after the maximum age. */
import { describe, it, expect, beforeEach } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { memoryStore, type FakeClock } from '../helpers/memory-store.js';

const HOUR = 3_600_000;
let store: Store & { clock: FakeClock };
beforeEach(() => {
  store = memoryStore();
});

function add(sop = '1.2.3.1', destination = 'PACS@h:104'): number {
  store.outbox.add({ studyUid: '1.2.3', jobId: 1, kind: 'sr', destination, path: `/out/${sop}.dcm`, sopUid: sop });
  return store.outbox.ofStudy('1.2.3').find((r) => r.sop_uid === sop && r.destination === destination)!.id;
}

describe('outbox', () => {
  it('a new row is pending and due at once', () => {
    const id = add();
    expect(store.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 0, next_attempt_at: store.clock.t, created_at: store.clock.t });
    expect(store.outbox.due().map((r) => r.id)).toEqual([id]);
    expect(store.outbox.depth()).toEqual({ pending: 1, deadLetter: 0 });
  });

  it('backs off base * 2^(attempts-1), capped at one hour', () => {
    const id = add();
    const policy = { baseMs: 10_000, maxAgeMs: 1000 * HOUR };
    const delays: number[] = [];
    for (let n = 1; n <= 12; n++) {
      const t = store.clock.t;
      expect(store.outbox.markFailed(id, `refused ${n}`, policy)).toBe('pending');
      const row = store.outbox.get(id)!;
      expect(row.attempts).toBe(n);
      expect(row.last_error).toBe(`refused ${n}`);
      delays.push(row.next_attempt_at - t);
      // Not due a millisecond early; due exactly then.
      store.clock.advance(row.next_attempt_at - t - 1);
      expect(store.outbox.due()).toEqual([]);
      store.clock.advance(1);
      expect(store.outbox.due().map((r) => r.id)).toEqual([id]);
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600].map((s) => s * 1000));
  });

  it('dead-letters a failing row once it is older than the maximum age (measured from its creation), not before', () => {
    const id = add();
    const policy = { baseMs: 60_000, maxAgeMs: 72 * HOUR };
    store.clock.advance(72 * HOUR - 1);
    expect(store.outbox.markFailed(id, 'down', policy)).toBe('pending');
    store.clock.advance(1);
    expect(store.outbox.markFailed(id, 'still down', policy)).toBe('dead-letter');
    expect(store.outbox.get(id)).toMatchObject({ state: 'dead-letter', attempts: 2, last_error: 'still down' });
    expect(store.outbox.due(store.clock.t + 100 * HOUR)).toEqual([]);
    expect(store.outbox.depth()).toEqual({ pending: 0, deadLetter: 1 });
  });

  it('maxAgeMs 0 (a permanent refusal) dead-letters at the first failure', () => {
    const id = add();
    expect(store.outbox.markFailed(id, 'rejected permanently', { baseMs: 1000, maxAgeMs: 0 })).toBe('dead-letter');
  });

  it('a sent row is never due again; re-adding the same instance for the destination makes it pending afresh', () => {
    const id = add();
    store.outbox.markFailed(id, 'x', { baseMs: 1000, maxAgeMs: HOUR });
    store.clock.advance(1000);
    store.outbox.markSent(id);
    expect(store.outbox.get(id)).toMatchObject({ state: 'sent', attempts: 2, sent_at: store.clock.t, last_error: null });
    expect(store.outbox.due(store.clock.t + 1000 * HOUR)).toEqual([]);
    store.clock.advance(HOUR);
    expect(add()).toBe(id);
    expect(store.outbox.get(id)).toMatchObject({ state: 'pending', attempts: 0, created_at: store.clock.t, sent_at: null });
    // A second destination is a second row.
    expect(add('1.2.3.1', 'OTHER@h:104')).not.toBe(id);
  });

  it('retryDeadLetters gives dead-letter rows (all, or of one study) a fresh maximum age; wakeAll makes pending rows due', () => {
    const a = add('1.2.3.1');
    const b = add('1.2.3.2');
    for (const id of [a, b]) store.outbox.markFailed(id, 'x', { baseMs: 1000, maxAgeMs: 0 });
    store.clock.advance(HOUR);
    expect(store.outbox.retryDeadLetters('9.9.9')).toBe(0);
    expect(store.outbox.retryDeadLetters('1.2.3')).toBe(2);
    expect(store.outbox.get(a)).toMatchObject({ state: 'pending', created_at: store.clock.t, next_attempt_at: store.clock.t });
    store.outbox.markFailed(a, 'y', { baseMs: 60_000, maxAgeMs: HOUR });
    expect(store.outbox.due().map((r) => r.id)).toEqual([b]);
    expect(store.outbox.wakeAll()).toBe(2);
    expect(store.outbox.due().map((r) => r.id).sort()).toEqual([a, b].sort());
  });

  it('due() lists the longest-waiting rows first, up to the limit', () => {
    const ids = ['1.1', '1.2', '1.3'].map((s) => add(s));
    store.outbox.markFailed(ids[0]!, 'x', { baseMs: 1000, maxAgeMs: HOUR });
    store.clock.advance(5000);
    expect(store.outbox.due().map((r) => r.id)).toEqual([ids[1], ids[2], ids[0]]);
    expect(store.outbox.due(store.clock.t, 2).map((r) => r.id)).toEqual([ids[1], ids[2]]);
  });
});
