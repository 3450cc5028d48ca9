/**
 * Failure handling through the running service (dist/cli.js serve), none of which needs a finished analysis:
 *   - a job that throws (test-only OSTEOSCREEN_TEST_FAULT=throw@segmentation, every attempt) is retried up to
 *     pipeline.maxAttempts, then marked failed with the reason;
 *   - dicom.maxAssociations: with every slot held by a fresh association, one more is refused (A-ASSOCIATE-RJ
 *     transient, local limit exceeded, logged with the reason) while the held ones keep working;
 *   - housekeeping fired by its cron schedule (the summary task every second), not by a manual run.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storescu, echoscu, have } from '../helpers/dcmtk.js';
import { waitFor } from '../helpers/ports.js';
import { ROOT } from '../helpers/service.js';
import { RawPeer, associateRq, pdata, commandSet, dimseStatus, VERIFICATION } from '../helpers/rawpdu.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { startLogged, stopAll, filesUnder, patientIdentifiers, linesWithIdentifiers, fileLogs, TERMINAL, type LoggedService } from '../acceptance/harness.js';

const MODEL = process.env.OSTEOSCREEN_SEGMENTATION_MODEL ?? path.join(ROOT, 'models', 'vertebrae-seg.onnx');

describe.skipIf(!existsSync(MODEL) || !have('storescu') || !have('echoscu'))('service failure handling: job retries, association limit, cron housekeeping', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-failures-'));
  let svc: LoggedService;
  let files: string[] = [];
  let studyUid = '';

  beforeAll(async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9102, count: 1, bone: 'normal' });
    studyUid = m!.studyInstanceUID;
    files = filesUnder(path.join(tmp, 'ph', 'study-0001'));
    svc = await startLogged('failures', {
      env: {
        OSTEOSCREEN_TEST_FAULT: 'throw@segmentation',
        OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '2',
        OSTEOSCREEN_DICOM_MAX_ASSOCIATIONS: '2',
        // Held associations count as idle (evictable) only after timeoutSeconds / 6 = 100 s: far beyond this test.
        OSTEOSCREEN_DICOM_TIMEOUT_SECONDS: '600',
        OSTEOSCREEN_HOUSEKEEPING_SUMMARY_CRON: '* * * * * *',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stopAll();
  });

  it('a job that throws is retried up to pipeline.maxAttempts (2), then marked failed with the reason', async () => {
    const r = storescu(svc.dicomPort, files);
    expect(r.status, r.out).toBe(0);
    const d = await waitFor(async () => {
      const x = await svc.json<any>(`/api/studies/${studyUid}`);
      return TERMINAL.includes(x.state) ? x : undefined;
    }, 'the study to end', 120_000, 200);
    expect(d.state).toBe('failed');
    expect(d.jobs).toHaveLength(1);
    expect(d.jobs[0]).toMatchObject({ state: 'failed', attempts: 2, reason: 'failed after 2 attempts: TEST FAULT (OSTEOSCREEN_TEST_FAULT): throw at segmentation' });
    // The job's state is in the database before its last log line has crossed the pipe to this process: wait for it
    // (it is written after the metric, so the metric is counted too).
    await waitFor(() => /ERROR \[pipeline\] job failed job=1 /.test(svc.logs()), 'the failure logged', 30_000, 50);
    const logs = svc.logs();
    expect(logs.match(/TEST FAULT: throw here .*stage=segmentation attempt=\d/g)?.map((l) => l.slice(-1))).toEqual(['1', '2']);
    expect(logs).toMatch(/job failed, will retry job=1 attempt=1 error="TEST FAULT/);
    expect(logs).toMatch(/ERROR \[pipeline\] job failed job=1 /);
    // No third attempt, no outputs.
    expect(logs).not.toMatch(/attempt=3/);
    expect(d.outputs).toEqual([]);
    const metrics = await (await svc.api('/metrics', { token: null })).text();
    expect(metrics).toMatch(/^osteoscreen_jobs_finished_total\{state="failed"\} 1$/m);
  }, 180_000);

  it('dicom.maxAssociations (2): a third association is refused (transient, local limit exceeded) with the reason logged; the two held ones keep working', async () => {
    const held = [new RawPeer(svc.dicomPort), new RawPeer(svc.dicomPort)];
    try {
      for (const p of held) await p.associate({ contexts: [{ id: 1, abstract: VERIFICATION }] });
      const third = new RawPeer(svc.dicomPort);
      await third.connected();
      third.send(associateRq({ calling: 'THIRDSCU', contexts: [{ id: 1, abstract: VERIFICATION }] }));
      const rj = await third.next([2, 3, 7]);
      expect(rj.type, 'A-ASSOCIATE-RJ').toBe(3);
      // result 2 = rejected-transient, source 3 = service provider (presentation), reason 2 = local-limit-exceeded
      // (PS3.8 table 9-21; with source 1, reason 2 would mean "application context name not supported").
      expect([...rj.body.subarray(1, 4)]).toEqual([2, 3, 2]);
      await third.closedAt;
      // A real SCU is told why.
      const e = echoscu(svc.dicomPort, { aet: 'ECHOSCU' });
      expect(e.status).not.toBe(0);
      expect(e.out).toMatch(/Rejected Transient/i);
      expect(e.out).toMatch(/Local Limit Exceeded/i);
      await waitFor(() => (svc.logs().match(/association refused reason=too-many-associations/g) ?? []).length >= 2, 'the refusals logged', 10_000, 50);
      expect(svc.logs()).toMatch(/association refused reason=too-many-associations callingAe=THIRDSCU/);
      // The held associations were not disturbed: a C-ECHO on each is answered with Success.
      for (const [i, p] of held.entries()) {
        p.send(pdata(1, commandSet({ field: 0x0030, messageId: 10 + i, sopClass: VERIFICATION }), true));
        const rsp = await p.next([4]);
        expect(dimseStatus(rsp.body), `held association ${i}`).toBe(0);
        expect(p.closed).toBe(false);
      }
    } finally {
      held.forEach((p) => p.destroy());
    }
    // A slot is free again once a held association is gone.
    await waitFor(() => echoscu(svc.dicomPort).status === 0, 'an echo once the slots are free', 10_000, 200);
  }, 60_000);

  it('a housekeeping task runs on its cron schedule (summary every second), without a manual run', async () => {
    const lines = () => svc.logs().split('\n').filter((l) => /housekeeping task started task=summary reason=scheduled/.test(l));
    const runsBefore = lines().length;
    // The job failed in the first test: a run after that counts it (the schedule keeps firing).
    const status = await waitFor(async () => {
      const st = await svc.json<any[]>('/api/housekeeping');
      return st.find((s) => s.task === 'summary')?.lastResult?.jobsFailed === 1 ? st : undefined;
    }, 'a scheduled summary run counting the failed job', 30_000, 100);
    await waitFor(() => lines().length >= Math.max(2, runsBefore + 1), 'more scheduled summary runs', 30_000, 100);
    expect(svc.logs()).toMatch(/\[housekeeping\] daily summary \(last 24 h\) studiesReceived=1 .*jobsFailed=1 /);
    expect(svc.logs()).not.toMatch(/task=summary reason=manual/);
    const summary = status.find((s) => s.task === 'summary');
    expect(summary).toMatchObject({ cron: '* * * * * *', lastError: null, lastResult: { studiesTotal: 1, jobsFailed: 1 } });
    expect(summary.lastRun).not.toBeNull();
    // The other tasks keep their default schedules and have not run.
    expect(status.find((s) => s.task === 'vacuum')).toMatchObject({ cron: '43 3 * * 0', lastRun: null });
  }, 60_000);

  it("never logs the phantom patient's identifiers", () => {
    const ids = patientIdentifiers(files);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(linesWithIdentifiers(fileLogs(), ids).slice(0, 5)).toEqual([]);
  });
});
