/**
 * Acceptance — faults in the analysis and delivery path (issue 10), with the real pipeline (ONNX segmentation,
 * radiomics, radscore, SR + summary) and a real Orthanc behind a TCP proxy the test controls:
 *   1. destination down for a while (proxy refuses: Orthanc not running) → outputs pending with retries →
 *      Orthanc starts → each output delivered exactly once;
 *   2. kill -9 during segmentation, 3. kill -9 during feature extraction: the service runs with the test-only
 *      hook OSTEOSCREEN_TEST_PAUSE_AT=segmentation|features (src/common/test-pause.ts), so the analysis worker stops
 *      at that stage and says so in its log; it is killed while it waits (the job is checked to be `processing` in
 *      SQLite at the kill), so the kill lands in that stage whatever the load on the machine;
 *   4. kill -9 during sending: OSTEOSCREEN_TEST_PAUSE_AT=sending stops the deliverer after Orthanc has answered
 *      the C-STORE (it holds the outputs) and before the outbox records it; the service is killed then. After
 *      restart it sends again; DICOM delivery is at-least-once on the wire and exactly once in the PACS because
 *      output SOP Instance UIDs are deterministic (Orthanc keeps one instance per UID).
 * After each recovery: the study's jobs are all finished, each re-run produced exactly one new report revision,
 * and Orthanc holds exactly one SR and one summary per revision.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { skipWithout, skipWithoutCommands } from '../helpers/tools.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { storescu } from '../helpers/dcmtk.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { ROOT } from '../helpers/service.js';
import { haveOrthanc, startOrthanc, type OrthancHandle } from '../helpers/orthanc.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import type { PauseStage } from '../../src/common/test-pause.js';
import { startLogged, stopAll, offendingLogLines, filesUnder, patientIdentifiers, recordIdentifiers, apiFresh, TERMINAL, type LoggedService } from './harness.js';

// The service reads OSTEOSCREEN_SEGMENTATION_MODEL from the environment too (startService passes it through).
const MODEL = process.env.OSTEOSCREEN_SEGMENTATION_MODEL ?? path.join(ROOT, 'models', 'vertebrae-seg.onnx');
const SR_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';
const SC_CLASS = '1.2.840.10008.5.1.4.1.1.7';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-pipe-'));

describe.skipIf(!existsSync(MODEL) || skipWithout(haveOrthanc(), 'Orthanc', 'Debian package orthanc') || skipWithoutCommands('storescu'))('acceptance: kill -9 in the analysis and delivery path, destination down', () => {
  let orthanc: OrthancHandle | undefined;
  let orthancPorts: { dicomPort: number; httpPort: number };
  let proxy: TcpProxy;
  let svc: LoggedService;
  let dataDir: string;
  let studyUid = '';
  let files: string[] = [];
  let timings: Record<string, number> = {};
  const env = (pauseAt?: PauseStage) => ({
    ...(pauseAt ? { OSTEOSCREEN_TEST_PAUSE_AT: pauseAt } : {}),
    OSTEOSCREEN_OUTPUT_DESTINATION: `ORTHANC@127.0.0.1:${proxy.port}`,
    OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: '1',
    OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '1',
  });

  beforeAll(async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9101, count: 1, bone: 'low' });
    studyUid = m!.studyInstanceUID;
    files = filesUnder(path.join(tmp, 'ph', 'study-0001'));
    recordIdentifiers('pipeline-faults', patientIdentifiers(files));
    orthancPorts = { dicomPort: await freePort(), httpPort: await freePort() };
    proxy = new TcpProxy(orthancPorts.dicomPort); // `drop`: accepts and closes at once; down(): connection refused
    await proxy.up();
    await proxy.down(); // the destination is down (connection refused) until the first test brings it up
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-pipe-data-'));
    svc = await startLogged('pipeline-faults', { dataDir, env: env() });
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    await orthanc?.stop();
    await proxy?.down();
  });

  async function detail(): Promise<any> {
    const r = await apiFresh(svc, `/api/studies/${studyUid}`);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  }

  async function orthancCounts(): Promise<{ sr: number; sc: number; sopUids: string[] }> {
    const found = (await orthanc!.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: studyUid }, Expand: true }) })) as any[];
    const tags = await Promise.all(found.map((i) => orthanc!.rest(`/instances/${i.ID}/simplified-tags`)));
    return { sr: tags.filter((t) => t.SOPClassUID === SR_CLASS).length, sc: tags.filter((t) => t.SOPClassUID === SC_CLASS).length, sopUids: tags.map((t) => t.SOPInstanceUID) };
  }

  async function waitJobsDoneAndSent(jobCount: number, timeoutMs = 300_000): Promise<any> {
    return waitFor(
      async () => {
        const d = await detail();
        const finished = d.jobs.length === jobCount && d.jobs.every((j: any) => ['done', 'not-assessable', 'failed'].includes(j.state));
        return finished && d.outputs?.length && d.outputs.every((o: any) => o.state === 'sent') ? d : undefined;
      },
      `${jobCount} jobs finished and all outputs sent`,
      timeoutMs,
      500,
    );
  }

  function jobState(id: number): string {
    const db = new Database(path.join(dataDir, 'index.sqlite'), { readonly: true });
    try {
      return (db.prepare('SELECT state FROM jobs WHERE id = ?').get(id) as { state: string }).state;
    } finally {
      db.close();
    }
  }

  /** Orthanc holds exactly one SR and one summary per finished job, no SOP Instance UID twice; the outbox sent each once. */
  async function assertDeliveredOncePerJob(d: any): Promise<void> {
    const finished = d.jobs.filter((j: any) => j.state === 'done' || j.state === 'not-assessable').length;
    const c = await orthancCounts();
    expect([c.sr, c.sc], 'SR and summary instances in Orthanc').toEqual([finished, finished]);
    expect(new Set(c.sopUids).size).toBe(c.sopUids.length);
    expect(d.outputs.filter((o: any) => o.state === 'sent')).toHaveLength(2 * finished);
  }

  const pauseLines = (stage: PauseStage) => svc.logs().split('\n').filter((l) => l.includes('[test-pause] TEST PAUSE') && l.includes(` stage=${stage} `));

  /** Restart the service with the test-only pause hook at `stage` (a clean SIGTERM stop first; nothing is running). */
  async function restartPausingAt(stage: PauseStage): Promise<void> {
    await svc.stop();
    svc = await startLogged('pipeline-faults', { dataDir, env: env(stage) });
  }

  /** kill -9 the service (waiting at the pause), then start it again without the hook. */
  async function killAndRestart(what: string): Promise<void> {
    svc.proc.kill('SIGKILL');
    await svc.stop();
    console.log(`[acceptance:pipeline-faults] killed during ${what} (paused there by OSTEOSCREEN_TEST_PAUSE_AT)`);
    svc = await startLogged('pipeline-faults', { dataDir, env: env() });
  }

  /**
   * Re-run the study on a service pausing at `stage`; once the worker announces the pause, check the job is
   * `processing` and kill -9. A job that finishes without reaching the stage fails the test at once.
   */
  async function killDuringJob(stage: PauseStage, what: string): Promise<number> {
    await restartPausingAt(stage);
    const rr = await apiFresh(svc, `/api/studies/${studyUid}/rerun`, { method: 'POST' });
    expect(rr.status).toBeLessThan(300);
    const jobId = ((await rr.json()) as any).job.id as number;
    const where = await waitFor(() => (pauseLines(stage).length ? 'paused' : TERMINAL.includes(jobState(jobId)) ? `finished (${jobState(jobId)}) without reaching ${stage}` : undefined), `job ${jobId} to pause at ${stage}`, 300_000, 100);
    expect(where, `job ${jobId}`).toBe('paused');
    expect(pauseLines(stage)).toHaveLength(1);
    expect(jobState(jobId), `job ${jobId} at the kill (${what})`).toBe('processing');
    await killAndRestart(what);
    return jobId;
  }

  it('destination down for a while: the study is analysed, outputs wait with retries, then are delivered exactly once', async () => {
    expect(storescu(svc.dicomPort, files).status).toBe(0);
    const pending = await waitFor(
      async () => {
        const d = await detail();
        return d.jobs.length === 1 && ['done', 'not-assessable'].includes(d.state) && d.outputs.length >= 2 && d.outputs.every((o: any) => o.state === 'pending' && o.attempts >= 2) ? d : undefined;
      },
      'study analysed and outputs retried while the destination is down',
      300_000,
      500,
    );
    // The back-off as scheduled (output.retryBaseSeconds 1): each next attempt min(1 s · 2^(n-1), 1 h) after the failure.
    const db = new Database(path.join(dataDir, 'index.sqlite'), { readonly: true });
    try {
      const rows = db.prepare("SELECT attempts, next_attempt_at, updated_at FROM outbox WHERE state = 'pending'").all() as { attempts: number; next_attempt_at: number; updated_at: number }[];
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) expect(r.next_attempt_at - r.updated_at, `after attempt ${r.attempts}`).toBe(Math.min(1000 * 2 ** (r.attempts - 1), 3_600_000));
    } finally {
      db.close();
    }
    timings = pending.job.timings;
    console.log('[acceptance:pipeline-faults] state', pending.state, 'timings', JSON.stringify(timings));
    expect(timings.segment).toBeGreaterThan(0);
    orthanc = await startOrthanc(orthancPorts);
    await proxy.up();
    const d = await waitJobsDoneAndSent(1, 120_000);
    expect(d.outputs).toHaveLength(2);
    await assertDeliveredOncePerJob(d);
  }, 480_000);

  it('kill -9 during segmentation: the job re-runs after restart, one new report revision, delivered exactly once', async () => {
    const jobId = await killDuringJob('segmentation', 'segmentation');
    const d = await waitJobsDoneAndSent((await detail()).jobs.length);
    expect(d.jobs.find((j: any) => j.id === jobId).attempts).toBe(2);
    expect(d.jobs.find((j: any) => j.id === jobId).state).toBe('done');
    await assertDeliveredOncePerJob(d);
  }, 480_000);

  it('kill -9 during feature extraction: the job re-runs after restart, one new report revision, delivered exactly once', async () => {
    const jobId = await killDuringJob('features', 'feature extraction');
    const d = await waitJobsDoneAndSent((await detail()).jobs.length);
    expect(d.jobs.find((j: any) => j.id === jobId).attempts).toBe(2);
    expect(d.jobs.find((j: any) => j.id === jobId).state).toBe('done');
    await assertDeliveredOncePerJob(d);
  }, 480_000);

  it('kill -9 during sending (PACS stored it, the outbox has not recorded it): after restart the outputs are re-sent and the PACS holds each exactly once', async () => {
    const jobs = (await detail()).jobs.length;
    const inPacs = await orthancCounts();
    await restartPausingAt('sending');
    const rr = await apiFresh(svc, `/api/studies/${studyUid}/rerun`, { method: 'POST' });
    expect(rr.status).toBeLessThan(300);
    // The deliverer waits after Orthanc answered: Orthanc holds the new revision, the outbox still says pending.
    await waitFor(() => pauseLines('sending').length > 0, 'the deliverer to pause after the C-STORE', 300_000, 100);
    expect(pauseLines('sending')[0]).toMatch(/ files=2 ok=2( |$)/);
    const stored = await orthancCounts();
    expect(stored.sopUids.length).toBe(inPacs.sopUids.length + 2);
    const d0 = await detail();
    expect(d0.jobs).toHaveLength(jobs + 1);
    expect(d0.outputs.filter((o: any) => o.state === 'pending')).toHaveLength(2);
    await killAndRestart('sending');
    const d = await waitJobsDoneAndSent(jobs + 1, 180_000);
    // Sent rows are never sent again (proved in-process in test/pipeline/deliver.test.ts), so this count is final.
    await assertDeliveredOncePerJob(d);
    expect(svc.logs()).toMatch(/C-STORE finished .*files=2 ok=2/);
  }, 480_000);

  // A PACS behind a load balancer or port forwarder that is down accepts TCP and closes it. Until src/dicom/scu.ts
  // was changed (in progress while this test was written), such an association counted as a permanent failure and
  // the outputs were dead-lettered at the first attempt; they must be retried.
  it('a destination that accepts TCP and drops the association is retried, not dead-lettered', async () => {
    proxy.mode = 'drop';
    const before = (await detail()).outputs.length;
    const rr = await apiFresh(svc, `/api/studies/${studyUid}/rerun`, { method: 'POST' });
    expect(rr.status).toBeLessThan(300);
    const d = await waitFor(
      async () => {
        const x = await detail();
        const mine = x.outputs.filter((o: any) => o.state !== 'sent');
        return x.outputs.length >= before + 2 && mine.length >= 2 && mine.every((o: any) => o.attempts >= 1) ? { x } : undefined;
      },
      'new outputs attempted against the dropping destination',
      300_000,
      500,
    );
    proxy.mode = 'pass';
    const states = d.x.outputs.filter((o: any) => o.state !== 'sent').map((o: any) => `${o.state}:${o.lastError}`);
    console.log('[acceptance:pipeline-faults] dropping destination ->', JSON.stringify(states));
    for (const o of d.x.outputs.filter((o: any) => o.state !== 'sent')) expect(o.state).toBe('pending');
  }, 480_000);

  it('never logs the phantom patient\'s identifiers', () => {
    const ids = patientIdentifiers(files);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(offendingLogLines('pipeline-faults', ids).slice(0, 5)).toEqual([]);
  });
});
