/**
 * Acceptance — faults (issue 10), each against a real `osteoscreen serve` process:
 * - kill -9 during receive (three concurrent associations), restart, re-send;
 * - SQLite index held by a long read transaction (another process) while instances arrive;
 * - free disk below storage.minFreeMb for a while (a real filler file, then removed);
 * - wall-clock jumps forward/backward (libfaketime on the service process; Debian package `faketime`);
 * - with the segmentation model: destination down, kill -9 during segmentation, during feature extraction and
 *   during sending (a TCP proxy in front of Orthanc withholds the C-STORE response), each followed by recovery.
 * After recovery: every acknowledged instance present, every complete study processed exactly once, every report
 * in the PACS exactly once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { skipWithout, skipWithoutCommands } from '../helpers/tools.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { writeMrSeries } from '../helpers/mr.js';
import { storescu, storescuAsync, echoscu } from '../helpers/dcmtk.js';
import { waitFor } from '../helpers/ports.js';
import { startLogged, stopAll, offendingLogLines, metric, metricsText, waitStudiesTerminal, storescuOutcomes, patientIdentifiers, recordIdentifiers, sleep, apiFresh, TERMINAL, type LoggedService } from './harness.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-faults-'));
const FAKETIME_LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1'].find((p) => existsSync(p));
const ids: string[] = [];

function series(name: string, count: number, extra: Parameters<typeof writeMrSeries>[1] extends infer O ? Partial<O> : never = {}) {
  const s = writeMrSeries(path.join(tmp, name), { count, rows: 64, columns: 64, patientName: `FAULTPAT^${name.toUpperCase()}7`, patientId: `FAULTPID-${name}-2718`, ...extra });
  ids.push(...patientIdentifiers([s.files[0]!]));
  return s;
}

function runStorescu(port: number, files: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = storescuAsync(port, files, { extra: ['-v'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

async function jobsOf(svc: LoggedService, studyUid: string): Promise<any[]> {
  const r = await apiFresh(svc, `/api/studies/${studyUid}`);
  if (!r.ok) throw new Error(`study ${studyUid}: HTTP ${r.status}`);
  return ((await r.json()) as any).jobs;
}

afterAll(async () => {
  await stopAll();
  recordIdentifiers('faults', ids);
});

describe.skipIf(skipWithoutCommands('storescu'))('acceptance: faults without the analysis model', () => {
  it('kill -9 during receive on three concurrent associations: every acknowledged instance is on disk and indexed; after re-send each study is processed exactly once', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-kill-recv-'));
    const env = { OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '6', OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1' };
    // A study fully received and processed before the crash must not be processed again.
    const done = series('before', 5);
    // Test-only hook: after the 5 + 60 first C-STOREs, every one waits with its dataset received but not stored or
    // answered, so the kill below lands mid-transfer on every association whatever the load on the machine.
    const ACKED = 60;
    let svc = await startLogged('faults-recv', { dataDir, env: { ...env, OSTEOSCREEN_TEST_PAUSE_AT: `receiving:${done.files.length + ACKED + 1}` } });
    expect(storescu(svc.dicomPort, done.files).status).toBe(0);
    await waitStudiesTerminal(svc, [done.studyUid], 60_000);

    const studies = [series('ka', 60), series('kb', 60), series('kc', 60)];
    const outs = studies.map(() => '');
    const senders = studies.map((s, i) => {
      const p = storescuAsync(svc.dicomPort, s.files, { extra: ['-v'] });
      p.stdout!.on('data', (d) => (outs[i] += d));
      p.stderr!.on('data', (d) => (outs[i] += d));
      return new Promise((r) => p.on('exit', r));
    });
    const acked = () => outs.reduce((n, o) => n + (o.match(/Received Store Response \(Success\)/g) ?? []).length, 0);
    await waitFor(() => acked() >= ACKED && /\[test-pause\] TEST PAUSE.* stage=receiving/.test(svc.logs()), `${ACKED} acknowledged instances and the next one waiting`, 60_000, 10);
    svc.proc.kill('SIGKILL');
    await svc.stop();
    await Promise.all(senders);

    // Every acknowledged instance: complete file in place and a row in the index (checked with the service down).
    const db = new Database(path.join(dataDir, 'index.sqlite'));
    let ackedTotal = 0;
    studies.forEach((s, i) => {
      const ok = [...storescuOutcomes(outs[i]!)].filter(([, v]) => v === 'success').map(([f]) => f);
      ackedTotal += ok.length;
      for (const f of ok) {
        const k = s.files.indexOf(f);
        expect(k).toBeGreaterThanOrEqual(0);
        const stored = path.join(dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[k]}.dcm`);
        expect(existsSync(stored), `acknowledged instance ${k} of study ${i} missing`).toBe(true);
        const tail = (b: Buffer) => createHash('sha256').update(b.subarray(b.length - 64 * 64 * 2)).digest('hex');
        expect(tail(readFileSync(stored))).toBe(tail(readFileSync(f)));
        expect(db.prepare('SELECT 1 FROM instances WHERE sop_uid = ?').get(s.sopUids[k]), `acknowledged instance ${k} of study ${i} not indexed`).toBeTruthy();
      }
    });
    db.close();
    expect(ackedTotal).toBe(ACKED);

    // Restart and re-send everything, as a modality does after a failed association.
    svc = await startLogged('faults-recv-2', { dataDir, env });
    const re = await Promise.all(studies.map((s) => runStorescu(svc.dicomPort, s.files)));
    for (const r of re) expect(r.code, r.out.slice(-500)).toBe(0);
    const rows = await waitStudiesTerminal(svc, [done.studyUid, ...studies.map((s) => s.studyUid)], 90_000);
    expect(rows.every((r) => TERMINAL.includes(r.state))).toBe(true);
    for (const s of [done, ...studies]) {
      const d = await svc.json<any>(`/api/studies/${s.studyUid}`);
      expect(d.jobs, `jobs of ${s.studyUid}`).toHaveLength(1);
      expect(d.series[0].instances).toBe(s.files.length);
    }
    const m = await metricsText(svc);
    console.log('[acceptance:faults] kill-9 during receive', JSON.stringify({ acknowledgedBeforeKill: ackedTotal, of: 180, identicalAfterResend: metric(m, 'osteoscreen_instances_received_total', { outcome: 'identical' }) }));
    // Re-sent instances already stored are recognised as identical: exactly the acknowledged ones (the instances
    // waiting at the kill were neither stored nor answered).
    expect(metric(m, 'osteoscreen_instances_received_total', { outcome: 'identical' })).toBe(ackedTotal);
    await svc.stop();
  }, 240_000);

  it('keeps receiving and processing while another process holds a long read transaction on the SQLite index', async () => {
    const svc = await startLogged('faults-reader', { env: { OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '1', OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1' } });
    const reader = new Database(path.join(svc.dataDir, 'index.sqlite'), { readonly: true });
    reader.exec('BEGIN');
    const before = (reader.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
    const a = series('reader-a', 30);
    const b = series('reader-b', 30);
    const t0 = Date.now();
    const [ra, rb] = await Promise.all([runStorescu(svc.dicomPort, a.files), runStorescu(svc.dicomPort, b.files)]);
    expect(ra.code, ra.out.slice(-300)).toBe(0);
    expect(rb.code, rb.out.slice(-300)).toBe(0);
    const rows = await waitStudiesTerminal(svc, [a.studyUid, b.studyUid], 60_000);
    const seconds = (Date.now() - t0) / 1000;
    // The reader still sees its snapshot (the transaction really was open the whole time).
    expect((reader.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n).toBe(before);
    const wal = existsSync(path.join(svc.dataDir, 'index.sqlite-wal')) ? readFileSync(path.join(svc.dataDir, 'index.sqlite-wal')).length : 0;
    reader.exec('COMMIT');
    reader.close();
    for (const s of [a, b]) {
      const d = await svc.json<any>(`/api/studies/${s.studyUid}`);
      expect(d.series[0].instances).toBe(30);
      expect(d.jobs).toHaveLength(1);
    }
    expect(rows.map((r) => r.state).every((s) => TERMINAL.includes(s))).toBe(true);
    console.log('[acceptance:faults] long reader', JSON.stringify({ instances: 60, seconds, walBytes: wal }));
    await svc.stop();
  }, 120_000);

  const free = statfsSync(os.tmpdir());
  const freeMb = Math.floor((Number(free.bavail) * Number(free.bsize)) / 1048576);
  it.skipIf(skipWithout(freeMb >= 6000, `6000 MB free in ${os.tmpdir()} (${freeMb} MB free)`, 'more free disk') || skipWithoutCommands('fallocate'))('refuses with A700 while free disk is below storage.minFreeMb, stores nothing, and recovers when space is back', async () => {
    const nowFree = Math.floor((Number(statfsSync(os.tmpdir()).bavail) * Number(statfsSync(os.tmpdir()).bsize)) / 1048576);
    const threshold = nowFree - 1500;
    const svc = await startLogged('faults-disk', { env: { OSTEOSCREEN_STORAGE_MIN_FREE_MB: String(threshold), OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1' } });
    const filler = path.join(svc.dataDir, '..', `osteo-acc-filler-${process.pid}`);
    try {
      const s1 = series('disk-1', 5);
      const s2 = series('disk-2', 5);
      expect(storescu(svc.dicomPort, s1.files).status).toBe(0);
      const f = spawnSync('fallocate', ['-l', '3000M', filler]);
      expect(f.status, f.stderr?.toString()).toBe(0);
      const low = storescu(svc.dicomPort, s2.files, { extra: ['-v'] });
      expect(low.out).toMatch(/Refused: OutOfResources/);
      expect(existsSync(path.join(svc.dataDir, 'studies', s2.studyUid))).toBe(false);
      const m = await metricsText(svc);
      expect(metric(m, 'osteoscreen_disk_free_bytes')).toBeLessThan(threshold * 1048576);
      // Still low: still refused (free space is checked at every association, so no waiting is needed either way).
      expect(storescu(svc.dicomPort, s2.files.slice(0, 1), { extra: ['-v'] }).out).toMatch(/Refused: OutOfResources/);
      rmSync(filler, { force: true });
      const ok = storescu(svc.dicomPort, s2.files);
      expect(ok.status, ok.out).toBe(0);
      await waitStudiesTerminal(svc, [s1.studyUid, s2.studyUid], 60_000);
      for (const s of [s1, s2]) {
        expect(await jobsOf(svc, s.studyUid)).toHaveLength(1);
        for (const sop of s.sopUids) expect(existsSync(path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${sop}.dcm`))).toBe(true);
      }
      expect(svc.logs()).toMatch(/C-STORE refused: out of resources/);
    } finally {
      rmSync(filler, { force: true });
      await svc.stop();
    }
  }, 120_000);
});

describe.skipIf(skipWithoutCommands('storescu') || skipWithout(FAKETIME_LIB !== undefined, 'libfaketimeMT.so.1', 'Debian package faketime'))('acceptance: wall-clock jumps (libfaketime on the service process)', () => {
  let svc: LoggedService;
  const clock = path.join(tmp, 'faketime');
  const STABLE_S = 6;
  beforeAll(async () => {
    writeFileSync(clock, '+0\n');
    svc = await startLogged('faults-clock', {
      env: {
        LD_PRELOAD: FAKETIME_LIB!,
        FAKETIME_TIMESTAMP_FILE: clock,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
        OSTEOSCREEN_PIPELINE_STABLE_SECONDS: String(STABLE_S),
        OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1',
      },
    });
  }, 60_000);

  const refusals = () => svc.logs().split('\n').filter((l) => /association refused.*called-ae/.test(l));
  /** The service's wall clock minus ours, read from the stamp of the log line of a refused association. */
  async function serviceClockOffset(): Promise<number> {
    const before = refusals().length;
    expect(echoscu(svc.dicomPort, { aec: 'NOT-OURS' }).status).not.toBe(0);
    const line = await waitFor(() => refusals()[before], 'refusal log line', 10_000, 10);
    return Date.parse(line.slice(0, 24)) - Date.now();
  }
  /** Set the service's clock offset and wait until the service runs on it (within a minute). */
  async function shiftClock(spec: string, offsetMs: number): Promise<number> {
    writeFileSync(clock, `${spec}\n`);
    return waitFor(async () => {
      const o = await serviceClockOffset();
      return Math.abs(o - offsetMs) < 60_000 ? { o } : undefined;
    }, `the service clock at ${spec}`, 20_000, 10).then((r) => r.o);
  }

  it('the service really runs on the shifted clock (libfaketime works here)', async () => {
    const shift = await shiftClock('+10d', 10 * 86_400_000);
    await shiftClock('+0', 0);
    expect(shift).toBeGreaterThan(9 * 86_400_000);
    expect(shift).toBeLessThan(11 * 86_400_000);
  });

  // Series stability used to compare Date.now() with the stored last_received, so a forward jump during a transfer
  // pause shorter than stableSeconds completed a half-received series (study processed twice) and a backward jump
  // stalled completion for the size of the jump (found by this suite; fixed in 011c220 with a monotonic clock).
  it('a forward clock jump during a short transfer pause does not complete a half-received series', async () => {
    const s = series('clock-fwd', 12);
    expect(storescu(svc.dicomPort, s.files.slice(0, 6)).status).toBe(0);
    const t0 = performance.now();
    await shiftClock('+2h', 2 * 3_600_000);
    await sleep(1000); // the transfer pause, on the jumped clock (several pipeline polls at 200 ms)
    const pauseS = (performance.now() - t0) / 1000;
    expect(storescu(svc.dicomPort, s.files.slice(6)).status).toBe(0);
    // When the study is terminal every job it got exists: a wrongly completed first half would be a first job.
    await waitStudiesTerminal(svc, [s.studyUid], 60_000);
    const jobs = await jobsOf(svc, s.studyUid);
    await shiftClock('+0', 0);
    console.log('[acceptance:faults] forward clock jump mid-transfer: jobs of the study', JSON.stringify(jobs.map((j: any) => ({ id: j.id, trigger: j.trigger }))), 'pause (s)', pauseS.toFixed(2));
    expect(jobs, `jobs after a ${pauseS.toFixed(2)} s pause (stableSeconds ${STABLE_S})`).toHaveLength(1);
  }, 90_000);

  it('a backward clock jump after the last instance does not delay completion by the size of the jump', async () => {
    await shiftClock('+2h', 2 * 3_600_000);
    const s = series('clock-back', 6);
    expect(storescu(svc.dicomPort, s.files).status).toBe(0);
    writeFileSync(clock, '+0\n'); // the clock goes back two hours
    try {
      // Bounded well below the two hours a wall-clock quiet period would take.
      await waitStudiesTerminal(svc, [s.studyUid], 60_000);
    } catch (e) {
      const st = await svc.json<any>(`/api/studies/${s.studyUid}`);
      console.log(`[acceptance:faults] backward clock jump: 60 s after the last instance (stableSeconds ${STABLE_S}) the study is`, st.state, 'series', st.series[0]?.state);
      throw e;
    }
    expect(await jobsOf(svc, s.studyUid)).toHaveLength(1);
  }, 90_000);

  it('after the clock is right again, every complete study sent is processed exactly once and the service is healthy', async () => {
    await shiftClock('+0', 0);
    const s = series('clock-ok', 6);
    expect(storescu(svc.dicomPort, s.files).status).toBe(0);
    await waitStudiesTerminal(svc, [s.studyUid], 60_000);
    expect(await jobsOf(svc, s.studyUid)).toHaveLength(1);
    expect(svc.proc.exitCode).toBeNull();
  }, 90_000);
});

describe('acceptance: faults — no patient identifiers in these logs', () => {
  it('never logs the fault studies\' patient names, IDs or birth dates', () => {
    expect(ids.length).toBeGreaterThan(0);
    expect(offendingLogLines('faults', ids).slice(0, 5)).toEqual([]);
  });
});
