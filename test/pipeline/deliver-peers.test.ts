/**
 * The Deliverer (src/pipeline/deliver.ts) with the REAL C-STORE sender (src/dicom/scu.ts) against real DICOM peers
 * on loopback (dcmjs-dimse SCPs in this process) and a port where nothing listens, on a fake wall clock for the
 * outbox: the back-off schedule min(retryBase·2^(n-1), 1 h) as computed, expiry by output.maxAgeHours (at a failed
 * attempt and by the housekeeping sweep), a permanent refusal dead-lettered with the peer's reason, and two
 * destinations at once with one of them down. test/pipeline/deliver.test.ts covers the same policy with a fake sender.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { createMetrics, type Metrics } from '../../src/common/metrics.js';
import { Deliverer } from '../../src/pipeline/deliver.js';
import { outboxSweep } from '../../src/admin/housekeeping.js';
import { writePart10 } from '../../src/dicom/write.js';
import { buildSr, buildSummaryImage } from '../../src/report/index.js';
import type { Store } from '../../src/store/index.js';
import { freePort } from '../helpers/ports.js';
import { Peer } from '../helpers/peer.js';
import { memoryStore, type FakeClock } from '../helpers/memory-store.js';
import { makeInput } from '../report/inputs.js';

const MIN = 60_000;
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), 'deliver-peers-'));
let files: { path: string; sop: string }[] = [];
let store: Store & { clock: FakeClock };
let metrics: Metrics;
const peers: Peer[] = [];

async function peer(aeTitle: string, listening = true): Promise<Peer> {
  const p = new Peer(aeTitle, await freePort());
  if (listening) await p.start();
  peers.push(p);
  return p;
}

function deliverer(dests: Peer[], output: Record<string, unknown> = {}): Deliverer {
  const config = configSchema.parse({
    dicom: { aeTitle: 'OSTEOTEST' },
    output: { destinations: dests.map((p) => ({ aeTitle: p.aeTitle, host: '127.0.0.1', port: p.port })), ...output },
  });
  return new Deliverer(config, store, metrics, { now: store.clock.now });
}

/** Queue every test file for `dest`; returns the row ids. */
function queue(dest: Peer): number[] {
  for (const f of files) store.outbox.add({ studyUid: '1.2.3', jobId: 1, kind: 'sr', destination: dest.key, path: f.path, sopUid: f.sop });
  return store.outbox
    .ofStudy('1.2.3')
    .filter((r) => r.destination === dest.key)
    .map((r) => r.id);
}

beforeAll(() => {
  const input = makeInput('scored');
  const sr = buildSr(input);
  const sc = buildSummaryImage(input);
  files = [
    { path: writePart10(sr, join(dir, 'sr.dcm')), sop: String(sr.SOPInstanceUID) },
    { path: writePart10(sc, join(dir, 'sc.dcm')), sop: String(sc.SOPInstanceUID) },
  ];
  expect(new Set(files.map((f) => f.sop)).size).toBe(2);
});
beforeEach(() => {
  store = memoryStore();
  metrics = createMetrics();
});
afterEach(() => {
  for (const p of peers.splice(0)) p.stop();
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Deliverer over real associations (fake outbox clock)', () => {
  it('a destination that refuses connections: each next attempt is scheduled min(retryBase·2^(n-1), 1 h) after the failure, and not tried before', async () => {
    const down = await peer('DOWN', false);
    const d = deliverer([down], { retryBaseSeconds: 600, maxAgeHours: 1000 });
    const [id] = queue(down);
    const delays: number[] = [];
    for (let n = 1; n <= 6; n++) {
      expect(await d.tick(), `attempt ${n}`).toBe(2);
      const row = store.outbox.get(id!)!;
      expect(row).toMatchObject({ state: 'pending', attempts: n });
      expect(row.last_error).toMatch(/ECONNREFUSED|refused/i);
      delays.push(row.next_attempt_at - store.clock.t);
      // One millisecond early: not due, no association attempted.
      store.clock.t = row.next_attempt_at - 1;
      expect(await d.tick(), `attempt ${n + 1} a millisecond early`).toBe(0);
      store.clock.t = row.next_attempt_at;
    }
    // 600 s, 1200 s, 2400 s, then 4800 s and more capped at 3600 s.
    expect(delays).toEqual([10, 20, 40, 60, 60, 60].map((m) => m * MIN));
    expect(metrics.outputsSent.get({ destination: down.key, result: 'retry' })).toBe(12);
    // It comes up: delivered at the next due pass, once.
    await down.start();
    expect(await d.tick()).toBe(2);
    expect(store.outbox.ofStudy('1.2.3').map((r) => r.state)).toEqual(['sent', 'sent']);
    expect(down.stored.sort()).toEqual(files.map((f) => f.sop).sort());
  });

  it('expiry by output.maxAgeHours: dead-letter at the first failed attempt past the age, or by the housekeeping sweep when the next attempt lies beyond it', async () => {
    const down = await peer('DOWN', false);
    const d = deliverer([down], { retryBaseSeconds: 600, maxAgeHours: 2 });
    const [id] = queue(down);
    const attemptsAt: number[] = [];
    const t0 = store.clock.t;
    while (store.outbox.get(id!)!.state === 'pending' && attemptsAt.length < 20) {
      store.clock.t = store.outbox.get(id!)!.next_attempt_at;
      attemptsAt.push((store.clock.t - t0) / MIN);
      await d.tick();
    }
    // Attempts at 0, 10, 30, 70 min, then 70 + 60 (capped) = 130 min >= 2 h: dead-letter at that failure.
    expect(attemptsAt).toEqual([0, 10, 30, 70, 130]);
    expect(store.outbox.get(id!)).toMatchObject({ state: 'dead-letter', attempts: 5 });
    expect(store.outbox.get(id!)!.last_error).toMatch(/ECONNREFUSED|refused/i);
    expect(metrics.outputsSent.get({ destination: down.key, result: 'dead-letter' })).toBe(2);
    store.clock.advance(100 * HOUR);
    expect(await d.tick()).toBe(0);

    // The sweep: a row tried once whose next attempt (at 130 min) lies past the 2 h age is expired at 121 min.
    store.outbox.retryDeadLetters(); // fresh age from now
    const t1 = store.clock.t;
    for (const m of [0, 10, 30, 70]) {
      store.clock.t = t1 + m * MIN;
      await d.tick();
    }
    expect(outboxSweep(store, 2, t1 + 119 * MIN).expired).toBe(0);
    expect(store.outbox.get(id!)!.state).toBe('pending');
    expect(outboxSweep(store, 2, t1 + 121 * MIN)).toMatchObject({ expired: 2, pending: 0, deadLetter: 2 });
    expect(store.outbox.get(id!)!.last_error).toMatch(/(ECONNREFUSED|refused).* \(expired after 2(\.0)? h\)$/i);
  });

  it('a permanent association rejection dead-letters at the first attempt with the peer\'s refusal as the reason, and is never tried again', async () => {
    const refusing = await peer('REFUSER');
    refusing.mode = 'reject-permanent';
    const d = deliverer([refusing], { retryBaseSeconds: 1, maxAgeHours: 1000 });
    const ids = queue(refusing);
    expect(await d.tick()).toBe(2);
    for (const id of ids) {
      const row = store.outbox.get(id)!;
      expect(row).toMatchObject({ state: 'dead-letter', attempts: 1 });
      expect(row.last_error).toBe(`association rejected by REFUSER@127.0.0.1:${refusing.port}: permanent; service user: called AE title not recognized (result 1, source 1, reason 7)`);
    }
    store.clock.advance(10 * HOUR);
    expect(await d.tick()).toBe(0);
    expect(refusing.associations).toBe(1);
    // A failure status that is permanent (C000) also dead-letters at once, with the status in the reason.
    refusing.mode = 'status-c000';
    expect(store.outbox.retryDeadLetters()).toBe(2);
    expect(await d.tick()).toBe(2);
    for (const id of ids) expect(store.outbox.get(id)).toMatchObject({ state: 'dead-letter', attempts: 2, last_error: expect.stringMatching(/C000/) });
    expect(refusing.stored).toEqual([]);
  });

  it('two destinations, one down: the up one gets every output at once, the down one retries and gets each exactly once when it comes up', async () => {
    const up = await peer('UPPACS');
    const down = await peer('DOWNPACS', false);
    const d = deliverer([up, down], { retryBaseSeconds: 30, maxAgeHours: 1000 });
    const upIds = queue(up);
    const downIds = queue(down);
    expect(await d.tick()).toBe(4);
    expect(upIds.map((id) => store.outbox.get(id)!.state)).toEqual(['sent', 'sent']);
    expect(downIds.map((id) => store.outbox.get(id)!)).toMatchObject([
      { state: 'pending', attempts: 1 },
      { state: 'pending', attempts: 1 },
    ]);
    expect(up.stored.sort()).toEqual(files.map((f) => f.sop).sort());
    // Still down at the second attempt; up again before the third.
    store.clock.advance(30_000);
    expect(await d.tick()).toBe(2);
    expect(store.outbox.get(downIds[0]!)).toMatchObject({ state: 'pending', attempts: 2 });
    await down.start();
    store.clock.advance(60_000 - 1);
    expect(await d.tick()).toBe(0);
    store.clock.advance(1);
    expect(await d.tick()).toBe(2);
    expect(downIds.map((id) => store.outbox.get(id)!.state)).toEqual(['sent', 'sent']);
    for (let i = 0; i < 5; i++) {
      store.clock.advance(2 * HOUR);
      expect(await d.tick()).toBe(0);
    }
    expect(down.stored.sort()).toEqual(files.map((f) => f.sop).sort());
    expect(up.stored).toHaveLength(2);
    expect([up.associations, down.associations]).toEqual([1, 1]);
  });
});
