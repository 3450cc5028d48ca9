/**
 * One phantom study through the running service (dist/cli.js serve, real worker thread, ONNX segmentation,
 * radiomics, reports, outbox, C-STORE) across three starts, with three DICOM destinations on loopback (test/helpers/
 * peer.ts): A is up, B is down until the test brings it up, C is down and is removed from the config at the last start.
 *   1. SIGTERM while the job runs (paused at segmentation by the test-only OSTEOSCREEN_TEST_PAUSE_AT): clean exit 0,
 *      the job is left `processing` for the next start, not failed;
 *   2. the next start re-queues it (attempt 2); the test-only OSTEOSCREEN_TEST_FAULT=crash@segmentation:2 kills the
 *      analysis worker thread there; the worker is restarted and attempt 3 finishes the study;
 *   3. output.folder and output.seg: SR, summary and SEG are written to the folder (same bytes as the data folder)
 *      and sent, A receiving each exactly once;
 *   4. B and C are down: their rows are pending, each next attempt scheduled min(retryBase·2^(n-1), 1 h) after the
 *      failure (read from SQLite); B comes up and gets each output exactly once, A nothing more;
 *   5. the service restarts without C: C's queued outputs are dead-lettered at once with the reason, nothing else changes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { storescu, have } from '../helpers/dcmtk.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { ROOT } from '../helpers/service.js';
import { Peer } from '../helpers/peer.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { startLogged, stopAll, filesUnder, patientIdentifiers, linesWithIdentifiers, fileLogs, TERMINAL, type LoggedService } from '../acceptance/harness.js';

const MODEL = process.env.OSTEOSCREEN_SEGMENTATION_MODEL ?? path.join(ROOT, 'models', 'vertebrae-seg.onnx');
const CLASS = { sr: '1.2.840.10008.5.1.4.1.1.88.33', summary: '1.2.840.10008.5.1.4.1.1.7', seg: '1.2.840.10008.5.1.4.1.1.66.4' };
const RETRY_BASE_SECONDS = 0.2;

describe.skipIf(!existsSync(MODEL) || !have('storescu'))('service lifecycle: SIGTERM mid-job, worker crash, output folder + SEG, two destinations down, one removed', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-lifecycle-'));
  const dataDir = path.join(tmp, 'data');
  const folder = path.join(tmp, 'folder');
  let files: string[] = [];
  let studyUid = '';
  let a: Peer, b: Peer, c: Peer;
  let svc: LoggedService;

  const dest = (p: Peer) => `${p.aeTitle}@127.0.0.1:${p.port}`;
  const env = (dests: Peer[], extra: Record<string, string> = {}) => ({
    OSTEOSCREEN_OUTPUT_DESTINATIONS: dests.map(dest).join(','),
    OSTEOSCREEN_OUTPUT_FOLDER: folder,
    OSTEOSCREEN_OUTPUT_SEG: 'true',
    OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: String(RETRY_BASE_SECONDS),
    OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '3',
    ...extra,
  });
  const detail = () => svc.json<any>(`/api/studies/${studyUid}`);
  const sqlite = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path.join(dataDir, 'index.sqlite'), { readonly: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9101, count: 1, bone: 'low' });
    studyUid = m!.studyInstanceUID;
    files = filesUnder(path.join(tmp, 'ph', 'study-0001'));
    [a, b, c] = [new Peer('PEERA', await freePort()), new Peer('PEERB', await freePort()), new Peer('PEERC', await freePort())];
    await a.start(); // B and C: nothing listens (connection refused)
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    for (const p of [a, b, c]) p?.stop();
  });

  it('SIGTERM while a job runs: exit 0 after the grace period, the job is left processing (not failed) for the next start', async () => {
    svc = await startLogged('lifecycle', { dataDir, env: env([a, b, c], { OSTEOSCREEN_TEST_PAUSE_AT: 'segmentation' }) });
    const r = storescu(svc.dicomPort, files);
    expect(r.status, r.out).toBe(0);
    await waitFor(() => /\[test-pause\] TEST PAUSE.* stage=segmentation /.test(svc.logs()), 'the analysis to pause at segmentation', 120_000, 100);
    const before = await detail();
    expect(before.jobs).toMatchObject([{ state: 'processing', attempts: 1 }]);
    const code = await svc.stop('SIGTERM');
    expect(code, svc.logs().slice(-2000)).toBe(0);
    expect(svc.logs()).toMatch(/signal received, shutting down signal=SIGTERM/);
    expect(svc.logs()).toMatch(/job interrupted by shutdown; it re-runs on the next start/);
    expect(svc.logs()).not.toMatch(/job failed/);
    expect(sqlite((db) => db.prepare('SELECT state, attempts FROM jobs').all())).toEqual([{ state: 'processing', attempts: 1 }]);
  }, 180_000);

  it('on restart the job resumes (attempt 2); the analysis worker crashes there, is restarted, and attempt 3 finishes the study', async () => {
    svc = await startLogged('lifecycle', { dataDir, env: env([a, b, c], { OSTEOSCREEN_TEST_FAULT: 'crash@segmentation:2' }) });
    const d = await waitFor(async () => {
      const x = await detail();
      return TERMINAL.includes(x.state) ? x : undefined;
    }, 'the study to finish', 240_000, 250);
    expect(d.state, JSON.stringify(d.jobs)).toBe('done');
    expect(d.jobs).toMatchObject([{ state: 'done', attempts: 3 }]);
    const logs = svc.logs();
    expect(logs).toMatch(/re-queued jobs interrupted by a restart jobs=1/);
    expect(logs).not.toMatch(/OSTEOSCREEN_TEST_FAULT matches no config key/);
    expect(logs).toMatch(/TEST FAULT: crash here .*stage=segmentation attempt=2/);
    expect(logs).toMatch(/\[worker\] analysis worker crashed error="TEST FAULT \(OSTEOSCREEN_TEST_FAULT\): crash at segmentation"/);
    expect(logs).toMatch(/job failed, will retry .*attempt=2 error="analysis worker crashed: TEST FAULT/);
    // One process throughout: the service survived its worker and started a new one for attempt 3.
    expect(svc.proc.exitCode).toBeNull();
    expect((logs.match(/TEST FAULT: crash here/g) ?? []).length).toBe(1);
    expect((await (await svc.api('/health')).json()).status).toBe('ok');
  }, 300_000);

  it('output.folder and output.seg through the service: SR, summary and SEG in the folder (same bytes) and queued to every destination; A gets each once', async () => {
    const d = await detail();
    const jobDir = path.join(dataDir, 'outputs', studyUid, `job-${d.jobs[0].id}`);
    const produced = readdirSync(jobDir).filter((f) => f.endsWith('.dcm')).sort();
    expect(produced.map((f) => f.split('-')[0])).toEqual(['seg', 'sr', 'summary']);
    const copied = readdirSync(path.join(folder, studyUid)).sort();
    expect(copied).toEqual(produced);
    for (const f of produced) expect(readFileSync(path.join(folder, studyUid, f)).equals(readFileSync(path.join(jobDir, f))), f).toBe(true);

    expect(d.outputs).toHaveLength(9);
    for (const p of [a, b, c]) expect(d.outputs.filter((o: any) => o.destination === dest(p)).map((o: any) => o.kind).sort(), p.aeTitle).toEqual(['seg', 'sr', 'summary']);
    await waitFor(async () => (await detail()).outputs.filter((o: any) => o.destination === dest(a) && o.state === 'sent').length === 3, 'A to have every output', 30_000, 200);
    expect(a.stored).toHaveLength(3);
    expect(new Set(a.stored).size).toBe(3);
    expect(a.stored.map((u) => a.classes.get(u)).sort()).toEqual([CLASS.sr, CLASS.summary, CLASS.seg].sort());
    const bySop = new Map(d.outputs.filter((o: any) => o.destination === dest(a)).map((o: any) => [o.sopInstanceUid, o.kind]));
    for (const u of a.stored) expect(a.classes.get(u)).toBe(CLASS[bySop.get(u) as keyof typeof CLASS]);
  }, 60_000);

  it('B and C down: pending, each next attempt min(retryBase·2^(n-1), 1 h) after the failure; B comes up and gets each output exactly once, A nothing more', async () => {
    await waitFor(async () => (await detail()).outputs.filter((o: any) => o.destination !== dest(a)).every((o: any) => o.state === 'pending' && o.attempts >= 2), 'B and C retried', 60_000, 100);
    const rows = sqlite((db) => db.prepare("SELECT destination, attempts, last_error, next_attempt_at, updated_at FROM outbox WHERE state = 'pending'").all() as any[]);
    expect(rows).toHaveLength(6);
    for (const r of rows) {
      expect([dest(b), dest(c)]).toContain(r.destination);
      expect(r.last_error).toMatch(/ECONNREFUSED/);
      expect(r.next_attempt_at - r.updated_at, `${r.destination} after attempt ${r.attempts}`).toBe(Math.min(RETRY_BASE_SECONDS * 1000 * 2 ** (r.attempts - 1), 3_600_000));
    }
    await b.start();
    await waitFor(async () => (await detail()).outputs.filter((o: any) => o.destination === dest(b) && o.state === 'sent').length === 3, 'B to get every output', 60_000, 200);
    // Let the deliverer pass a few more times: nothing is sent again.
    const passes = (svc.logs().match(/C-STORE finished/g) ?? []).length;
    await waitFor(() => (svc.logs().match(/C-STORE finished/g) ?? []).length >= passes + 2, 'two more delivery passes (to C)', 60_000, 100);
    expect(b.stored.sort()).toEqual(a.stored.slice().sort());
    expect(a.stored).toHaveLength(3);
    expect(a.associations).toBe(1);
    expect(b.associations).toBe(1);
  }, 120_000);

  it('restart without C: C\'s queued outputs are dead-lettered at once with the reason; A\'s and B\'s stay sent; the service is healthy', async () => {
    await svc.stop();
    const attemptsBefore = sqlite((db) => db.prepare('SELECT id, attempts FROM outbox WHERE destination = ? ORDER BY id').all(dest(c)));
    svc = await startLogged('lifecycle', { dataDir, env: env([a, b]) });
    const d = await waitFor(async () => {
      const x = await detail();
      return x.outputs.filter((o: any) => o.destination === dest(c)).every((o: any) => o.state === 'dead-letter') ? x : undefined;
    }, "C's outputs dead-lettered", 30_000, 100);
    for (const o of d.outputs) {
      if (o.destination === dest(c)) expect(o.lastError).toBe(`destination ${dest(c)} is no longer configured`);
      else expect(o.state, o.destination).toBe('sent');
    }
    expect(d.outputCounts).toEqual({ pending: 0, sent: 6, deadLetter: 3 });
    // Dead-lettered at start, not by one more (failed) attempt when next due: the attempt counts did not move.
    expect(sqlite((db) => db.prepare('SELECT id, attempts FROM outbox WHERE destination = ? ORDER BY id').all(dest(c)))).toEqual(attemptsBefore);
    expect(svc.logs()).toMatch(new RegExp(`outputs for an unconfigured destination dead-lettered destination=${dest(c).replace(/[.]/g, '\\.')} count=3`));
    const dead = await svc.json<any[]>('/api/outbox?state=dead-letter');
    expect(dead.map((o) => o.destination)).toEqual([dest(c), dest(c), dest(c)]);
    expect((await (await svc.api('/health')).json()).status).toBe('ok');
    expect(c.associations).toBe(0);
  }, 60_000);

  it('never logs the phantom patient\'s identifiers', () => {
    const ids = patientIdentifiers(files);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(linesWithIdentifiers(fileLogs(), ids).slice(0, 5)).toEqual([]);
  });
});
