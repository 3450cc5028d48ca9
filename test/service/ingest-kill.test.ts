/**
 * kill -9 in the middle of a 4-sender burst (issue 28): no acknowledged instance is lost. The instances are
 * group-committed (a batch of files fsynced + one index transaction), so at the kill there are batches in flight;
 * every C-STORE-RSP Success that a sender saw must still be a complete file and an index row after the restart.
 *
 * Deterministic: the senders run in this process and the kill is sent from inside the callback of the ACKED-th
 * Success, so no sender can send anything more before it; the kill lands mid-burst whatever the machine's speed.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startService, type RunningService } from '../helpers/service.js';
import { writeMrSeries } from '../helpers/mr.js';
import { loadInstance, sendInstances, type ScuInstance } from '../../src/bench/nodelay-scu.js';
import { splitPart10 } from '../../src/dicom/part10.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-ingest-kill-'));
const SENDERS = 4;
const PER_SENDER = 40;
const ACKED = 50;
const services: RunningService[] = [];

afterAll(async () => {
  for (const s of services) await s.stop('SIGKILL');
});

describe('kill -9 during a 4-sender burst', () => {
  it('loses no acknowledged instance: every Success seen by a sender is on disk and in the index after restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'osteo-kill-burst-'));
    const env = { OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '3600' };
    const series = Array.from({ length: SENDERS }, (_, i) => writeMrSeries(path.join(tmp, `s${i}`), { count: PER_SENDER, rows: 128, columns: 128 }));
    const sets: ScuInstance[][] = series.map((s) => s.files.map(loadInstance));
    let svc = await startService({ dataDir, env });
    services.push(svc);

    const acked: string[] = [];
    let killed = false;
    const results = await Promise.all(
      sets.map((xs) =>
        sendInstances(xs, {
          port: svc.dicomPort,
          calledAe: 'OSTEOSCREEN',
          timeoutMs: 30_000,
          onResponse: (sop, status) => {
            if (status !== 0 || killed) return;
            acked.push(sop);
            if (acked.length === ACKED) {
              killed = true;
              svc.proc.kill('SIGKILL');
            }
          },
        }),
      ),
    );
    await svc.stop();
    expect(killed).toBe(true);
    // The burst really was cut short: every association ended early, and most instances were never answered.
    expect(results.every((r) => r.error)).toBe(true);
    expect(results.reduce((n, r) => n + r.succeeded.length, 0)).toBeLessThan(SENDERS * PER_SENDER);
    expect(acked).toHaveLength(ACKED);

    // Restart on the same data folder (start-up reconciliation runs), then check with the service up.
    svc = await startService({ dataDir, env });
    services.push(svc);
    const db = new Database(path.join(dataDir, 'index.sqlite'), { readonly: true });
    const byUid = new Map(series.flatMap((s, i) => s.sopUids.map((u, k) => [u, { s, k, inst: sets[i]![k]! }] as const)));
    for (const sop of acked) {
      const { s, inst } = byUid.get(sop)!;
      const f = path.join(dataDir, 'studies', s.studyUid, s.seriesUid, `${sop}.dcm`);
      expect(existsSync(f), `acknowledged ${sop} missing on disk`).toBe(true);
      const stored = readFileSync(f);
      expect(stored.subarray(splitPart10(stored).datasetOffset).equals(inst.dataset), `acknowledged ${sop} stored with other bytes`).toBe(true);
      expect(db.prepare('SELECT path FROM instances WHERE sop_uid = ?').get(sop), `acknowledged ${sop} not indexed`).toEqual({ path: f });
    }
    db.close();

    // A sender re-sends what was not acknowledged: everything ends up stored once.
    const again = await Promise.all(sets.map((xs) => sendInstances(xs, { port: svc.dicomPort, calledAe: 'OSTEOSCREEN' })));
    for (const r of again) expect(r.error).toBeUndefined();
    expect(again.reduce((n, r) => n + r.succeeded.length, 0)).toBe(SENDERS * PER_SENDER);
    for (const s of series) {
      const st = await svc.json<any>(`/api/studies/${s.studyUid}`);
      expect(st.series[0].instances).toBe(PER_SENDER);
    }
    console.log('[ingest-kill]', JSON.stringify({ acknowledgedBeforeKill: acked.length, of: SENDERS * PER_SENDER }));
  }, 120_000);
});
