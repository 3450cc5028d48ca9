/**
 * Backfill campaigns against a real Orthanc as the PACS (one Orthanc for the file, DICOMweb plugin loaded):
 * 3 lumbar phantom studies (--fast) in the date range, plus distractors: a CT study, a cervical MR, a lumbar MR
 * outside the range. The service is a real child process; C-MOVE lands at its own listener.
 *
 * - DIMSE: C-FIND + C-MOVE of the candidate series only; paused while a retrieval hangs (test pause at
 *   `receiving`), killed with -9, restarted, resumed: every lumbar study analysed exactly once, distractors
 *   skipped or never found, no SR into the PACS (non-DICOM outputs only by default), files deleted after analysis,
 *   the worklist CSV holds no patient name.
 * - The PACS goes down mid-campaign (a proxy in front of it refuses connections) and comes back; at most
 *   backfill.maxConcurrent (2) connections at once reach the PACS; the campaign is started with the CLI.
 * - DICOMweb: QIDO-RS + WADO-RS, the campaign asks for the SR in the PACS and gets it.
 * - C-GET (`--retrieve get`; Orthanc allows this AE C-GET but not C-MOVE): the lumbar studies in range analysed,
 *   every instance stored once; a study pushed while backfill studies wait in the job queue is analysed before them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, CLI, ROOT, type RunningService } from '../helpers/service.js';
import { startOrthanc, haveDicomWeb, type OrthancHandle } from '../helpers/orthanc.js';
import { waitFor } from '../helpers/ports.js';
import { skipWithout, skipWithoutCommands } from '../helpers/tools.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { sendFiles } from '../../src/dicom/scu.js';
import { filesUnder } from '../helpers/files.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-backfill-'));
const RANGE = { studyDateFrom: '20240101', studyDateTo: '20240131' };


type Campaign = { id: number; state: string; reason: string | null; counts: Record<string, number>; total: number; done: number };

const skip = skipWithout(haveDicomWeb(), 'Orthanc with the DICOMweb plugin', 'Debian packages orthanc orthanc-dicomweb') || skipWithoutCommands('dcmodify');

describe.skipIf(skip)('backfill campaigns against a real Orthanc', () => {
  let orthanc: OrthancHandle;
  const lumbar: string[] = [];
  const distractor = { ct: '', cervical: '', outOfRange: '' };
  let pushFiles: string[] = [];

  beforeAll(async () => {
    orthanc = await startOrthanc({ dicomWeb: true });
    const ms = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 2701, count: 6, subSamples: 1 });
    const edits: string[][] = [
      ['(0008,0020)=20240105'],
      ['(0008,0020)=20240112'],
      ['(0008,0020)=20240120'],
      ['(0008,0020)=20240110', '(0008,0060)=CT'],
      ['(0008,0020)=20240111', '(0008,1030)=MR C-SPINE', '(0018,0015)=CSPINE'],
      ['(0008,0020)=20230615'],
    ];
    for (let i = 0; i < ms.length; i++) {
      const files = filesUnder(path.resolve(path.join(tmp, 'ph'), ms[i]!.dir));
      execFileSync('dcmodify', ['-nb', '-ie', ...edits[i]!.flatMap((e) => ['-m', e]), ...files]);
      // The study pushed in the C-GET test: its sagittal series only (what the selection picks), quick to send.
      if (i === 5) pushFiles = ms[i]!.series.filter((x) => x.expectedSelection).flatMap((x) => filesUnder(path.resolve(path.join(tmp, 'ph'), x.dir)));
      for (const f of files) await orthanc.rest('/instances', { method: 'POST', body: readFileSync(f) });
    }
    lumbar.push(ms[0]!.studyInstanceUID, ms[1]!.studyInstanceUID, ms[2]!.studyInstanceUID);
    distractor.ct = ms[3]!.studyInstanceUID;
    distractor.cervical = ms[4]!.studyInstanceUID;
    distractor.outOfRange = ms[5]!.studyInstanceUID;
  });
  afterAll(async () => {
    await orthanc?.stop();
  });

  const declare = (svc: RunningService) =>
    orthanc.rest('/modalities/osteoscreen', { method: 'PUT', body: JSON.stringify({ AET: 'OSTEOSCREEN', Host: '127.0.0.1', Port: svc.dicomPort }) });
  const campaign = (svc: RunningService, id: number) => svc.json<Campaign>(`/api/backfill/${id}`);
  const waitState = (svc: RunningService, id: number, state: string, ms = 400_000) =>
    waitFor(async () => {
      const c = await campaign(svc, id);
      return c.state === state ? c : undefined;
    }, `campaign ${id} ${state}`, ms, 500);
  /** Every lumbar study: analysed in the campaign, one job, done. */
  const expectAnalysedOnce = async (svc: RunningService, id: number, uids: string[]) => {
    const rows = await svc.json<any[]>(`/api/backfill/${id}/studies`);
    for (const uid of uids) {
      const row = rows.find((r) => r.studyInstanceUid === uid);
      expect(row?.state, JSON.stringify(row)).toBe('analysed');
      const jobs = await svc.json<any[]>(`/api/jobs?study=${uid}`);
      expect(jobs.length, `jobs of ${uid}`).toBe(1);
      expect(['done', 'not-assessable']).toContain(jobs[0].state);
    }
    return rows;
  };

  it('DIMSE: C-FIND/C-MOVE of candidate series; pause, kill -9, restart, resume: every lumbar study analysed once', async () => {
    const dataDir = mkdtempSync(path.join(tmp, 'data-'));
    const env = {
      OSTEOSCREEN_OUTPUT_DESTINATION: `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`,
      OSTEOSCREEN_BACKFILL_MAX_CONCURRENT: '1',
      OSTEOSCREEN_BACKFILL_BACKOFF_SECONDS: '1',
    };
    // The 20th instance received hangs (a retrieval in progress) until the service is killed.
    let svc = await startService({ dataDir, env: { ...env, OSTEOSCREEN_TEST_PAUSE_AT: 'receiving:20' } });
    try {
      await declare(svc);
      const r = await svc.api('/api/backfill', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, ...RANGE }) });
      expect(r.status, await r.clone().text()).toBe(201);
      const { id } = (await r.json()) as Campaign;
      await waitFor(() => svc.logs().includes('TEST PAUSE'), 'a retrieval to hang at receiving', 120_000);
      const paused = await svc.api(`/api/backfill/${id}/pause`, { method: 'POST' });
      expect(paused.status).toBe(200);
      const before = await campaign(svc, id);
      expect(before.counts.retrieving).toBe(1);
      await svc.stop('SIGKILL');

      svc = await startService({ dataDir, env, dicomPort: svc.dicomPort, httpPort: svc.httpPort });
      const after = await campaign(svc, id);
      expect(after.state).toBe('paused');
      expect(after.counts.retrieving).toBe(0); // the interrupted retrieval is found again, not lost
      expect(after.counts.found).toBe(3);
      expect(after.counts.skipped).toBe(1); // the cervical MR, judged from the study-level answer
      expect((await svc.api(`/api/backfill/${id}/resume`, { method: 'POST' })).status).toBe(200);
      const done = await waitState(svc, id, 'done');
      expect(done.counts).toMatchObject({ analysed: 3, failed: 0, found: 0, retrieving: 0, retrieved: 0 });

      const rows = await expectAnalysedOnce(svc, id, lumbar);
      // Distractors: the CT study and the study outside the range are not even returned by the PACS; the cervical
      // MR is skipped with its reason from the study-level answer, nothing of it retrieved.
      expect(rows.map((x) => x.studyInstanceUid)).not.toContain(distractor.ct);
      expect(rows.map((x) => x.studyInstanceUid)).not.toContain(distractor.outOfRange);
      const cervical = rows.find((x) => x.studyInstanceUid === distractor.cervical);
      expect(cervical?.state).toBe('skipped');
      expect(cervical?.reason).toMatch(/not a lumbar study/);
      expect((await svc.json<any[]>(`/api/series?study=${distractor.cervical}`)).length).toBe(0);

      // Only candidate series were moved: not the axial series nor the localizer.
      const series = await svc.json<any[]>(`/api/series?study=${lumbar[0]}`);
      expect(series.length).toBeGreaterThanOrEqual(2);
      expect(series.map((s) => s.description)).not.toContain('t2_tse_tra_discs');
      expect(series.map((s) => s.description).join(' ')).not.toMatch(/localizer/i);

      // Default routing: nothing new in the PACS for old studies (the SR would be a new series there).
      const srs = await orthanc.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Series', Query: { Modality: 'SR' } }) });
      expect(srs).toEqual([]);
      // Retention: the retrieved files are gone, the results stay.
      const detail = await svc.json<any>(`/api/studies/${lumbar[1]}`);
      expect(detail.filesDeleted, JSON.stringify(detail).slice(0, 300)).toBe(true);

      // The worklist: one row per study, no patient name.
      const csv = await (await svc.api(`/api/backfill/${id}/worklist.csv`)).text();
      expect(csv.split(/\r?\n/)[0]).toBe('campaign,study_date,accession,scanner,state,result,radscore,cutoff,calibration,reason,link');
      expect(csv.match(/,analysed,/g)?.length).toBe(3);
      expect(csv).toMatch(/20240105/);
      const names = await orthanc.rest(`/studies/${(await orthanc.rest('/studies'))[0]}`);
      const name = String(names.PatientMainDicomTags?.PatientName ?? '');
      if (name) expect(csv).not.toContain(name.split('^')[0]);
    } finally {
      await svc.stop('SIGKILL');
    }
  }, 600_000);

  it('PACS down mid-campaign then back; at most maxConcurrent connections reach the PACS; started with the CLI', async () => {
    const proxy = new TcpProxy(orthanc.dicomPort, 300);
    await proxy.up();
    const svc = await startService({ env: { OSTEOSCREEN_BACKFILL_MAX_CONCURRENT: '2', OSTEOSCREEN_BACKFILL_BACKOFF_SECONDS: '1' } });
    try {
      await declare(svc);
      const out = execFileSync(process.execPath, [CLI, 'backfill', 'start', '--source', `${orthanc.aet}@127.0.0.1:${proxy.port}`, '--from', '2024-01-01', '--to', '2024-01-31', '--url', `http://127.0.0.1:${svc.httpPort}`, '--token', svc.token], { cwd: ROOT, encoding: 'utf8' });
      const id = Number(/started campaign (\d+)/.exec(out)?.[1]);
      expect(id).toBeGreaterThan(0);
      await waitFor(async () => (await campaign(svc, id)).counts.retrieved + (await campaign(svc, id)).counts.analysed >= 1, 'a first study retrieved', 300_000, 300);
      await proxy.down();
      const waiting = await waitFor(async () => {
        const c = await campaign(svc, id);
        return /backing off/.test(c.reason ?? '') ? c : undefined;
      }, 'the campaign to back off', 120_000, 200);
      expect(waiting.state).toBe('running');
      await proxy.up();
      const done = await waitState(svc, id, 'done');
      expect(done.counts).toMatchObject({ analysed: 3, failed: 0 });
      await expectAnalysedOnce(svc, id, lumbar);
      expect(proxy.maxOpen).toBeLessThanOrEqual(2);
      expect(proxy.maxOpen).toBe(2); // two retrievals did overlap: the limit, not luck, held them to 2
      const status = spawnSync(process.execPath, [CLI, 'backfill', 'status', String(id), '--url', `http://127.0.0.1:${svc.httpPort}`, '--token', svc.token], { cwd: ROOT, encoding: 'utf8' });
      expect(status.stdout).toMatch(/campaign \d+ done .*\[#+\] 100% 4\/4/);
    } finally {
      await svc.stop('SIGKILL');
      await proxy.down();
    }
  }, 600_000);

  it('DICOMweb: QIDO-RS + WADO-RS through the listener\'s store path; the SR goes into the PACS when the campaign asks', async () => {
    const svc = await startService({ env: { OSTEOSCREEN_OUTPUT_DESTINATION: `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: '1' } });
    try {
      const r = await svc.api('/api/backfill', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: `http://127.0.0.1:${orthanc.httpPort}/dicom-web`, studyDateFrom: '2024-01-04', studyDateTo: '2024-01-11', sendToPacs: true }),
      });
      expect(r.status, await r.clone().text()).toBe(201);
      const { id } = (await r.json()) as Campaign;
      const done = await waitState(svc, id, 'done');
      expect(done.counts).toMatchObject({ analysed: 1, skipped: 1, failed: 0 });
      await expectAnalysedOnce(svc, id, [lumbar[0]!]);
      const series = await svc.json<any[]>(`/api/series?study=${lumbar[0]}`);
      expect(series.map((s) => s.description)).not.toContain('t2_tse_tra_discs');
      await waitFor(async () => {
        const srs = await orthanc.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Series', Query: { Modality: 'SR', StudyInstanceUID: lumbar[0] } }) });
        return srs.length > 0;
      }, 'the SR in the PACS', 120_000, 500);
    } finally {
      await svc.stop('SIGKILL');
    }
  }, 600_000);

  it('pacing: nothing starts outside the allowed window; the hourly budget holds', async () => {
    const minute = (new Date().getMinutes() + 30) % 60; // a window 30 min away from now
    const [outside, budget] = await Promise.all([
      startService({ env: { OSTEOSCREEN_BACKFILL_SCHEDULE: `${minute} * * * *` } }),
      startService({ env: { OSTEOSCREEN_BACKFILL_MAX_PER_HOUR: '1' } }),
    ]);
    try {
      const start = (svc: RunningService) =>
        svc.api('/api/backfill', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: `http://127.0.0.1:${orthanc.httpPort}/dicom-web`, studyDateFrom: '20240101', studyDateTo: '20240115' }) }).then((r) => r.json() as Promise<Campaign>);
      const [a, b] = await Promise.all([start(outside), start(budget)]);
      const waitingA = await waitFor(async () => {
        const c = await campaign(outside, a.id);
        return /outside the allowed window/.test(c.reason ?? '') ? c : undefined;
      }, 'the window reason', 60_000, 200);
      expect(waitingA.total).toBe(0); // not even queried
      const waitingB = await waitFor(async () => {
        const c = await campaign(budget, b.id);
        return /hourly limit reached/.test(c.reason ?? '') ? c : undefined;
      }, 'the hourly limit', 120_000, 200);
      // Two lumbar studies in range (and the cervical one, skipped): one retrieval started this hour, the other waits.
      expect(waitingB.counts.found).toBe(1);
      expect(waitingB.counts.retrieving + waitingB.counts.retrieved + waitingB.counts.analysed).toBe(1);
      expect((await outside.json<any[]>('/api/series')).length).toBe(0);
    } finally {
      await Promise.all([outside.stop('SIGKILL'), budget.stop('SIGKILL')]);
    }
  }, 300_000);
  it('C-GET: the lumbar studies analysed, every instance stored once; a pushed study goes before queued backfill studies', async () => {
    // Concurrency 1 (the default): the second retrieved study waits in the job queue while the first is analysed.
    const svc = await startService({ env: { OSTEOSCREEN_BACKFILL_MAX_CONCURRENT: '2', OSTEOSCREEN_PIPELINE_CONCURRENCY: '1' } });
    try {
      // Orthanc lets this AE title query and C-GET, not C-MOVE: a retrieval by C-MOVE would be refused.
      await orthanc.rest('/modalities/osteoscreen', { method: 'PUT', body: JSON.stringify({ AET: 'OSTEOSCREEN', Host: '127.0.0.1', Port: svc.dicomPort, AllowMove: false, AllowGet: true, AllowFind: true }) });
      const out = execFileSync(process.execPath, [CLI, 'backfill', 'start', '--source', `${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`, '--from', '2024-01-01', '--to', '2024-01-15', '--retrieve', 'get', '--url', `http://127.0.0.1:${svc.httpPort}`, '--token', svc.token], { cwd: ROOT, encoding: 'utf8' });
      expect(out).toMatch(/by C-GET/);
      const id = Number(/started campaign (\d+)/.exec(out)?.[1]);
      const inRange = [lumbar[0]!, lumbar[1]!];
      // As soon as one backfill study is being analysed and the other waits in the job queue, push another study
      // (the lumbar MR outside the range).
      await waitFor(async () => {
        const states = await Promise.all(inRange.map(async (uid) => (await svc.json<any[]>(`/api/jobs?study=${uid}`)).map((j) => j.state)));
        return states.some((s) => s.includes('processing')) && states.some((s) => s.includes('queued'));
      }, 'a backfill study being analysed while the other waits in the queue', 300_000, 100);
      const pushed = distractor.outOfRange;
      expect(pushFiles.length).toBeGreaterThan(0);
      const sent = await sendFiles({ aeTitle: 'OSTEOSCREEN', host: '127.0.0.1', port: svc.dicomPort, callingAeTitle: 'PUSHSCU' }, pushFiles);
      expect(sent.every((r) => r.ok), sent.find((r) => !r.ok)?.error).toBe(true);

      const done = await waitState(svc, id, 'done');
      expect(done.counts).toMatchObject({ analysed: 2, skipped: 1, failed: 0 });
      expect(((await campaign(svc, id)) as any).query.retrieve).toBe('get');
      await expectAnalysedOnce(svc, id, inRange);
      const [p] = await waitFor(async () => {
        const jobs = await svc.json<any[]>(`/api/jobs?study=${pushed}`);
        return jobs.length && ['done', 'not-assessable'].includes(jobs[0].state) ? jobs : undefined;
      }, 'the pushed study analysed', 300_000, 300);

      // Priority: every backfill job that was waiting when the pushed study's job was queued started after it.
      const backfillJobs = (await Promise.all(inRange.map((uid) => svc.json<any[]>(`/api/jobs?study=${uid}`)))).flat();
      const waiting = backfillJobs.filter((j) => j.createdAt < p.createdAt && j.startedAt > p.createdAt);
      expect(waiting.length, `the push did not find a backfill study waiting: ${JSON.stringify([p, ...backfillJobs].map((j) => [j.id, j.createdAt, j.startedAt]))}`).toBeGreaterThanOrEqual(1);
      for (const j of waiting) expect(p.startedAt < j.startedAt, `pushed ${p.startedAt} vs backfill ${j.startedAt}`).toBe(true);

      // Nothing stored twice: what arrived equals what the PACS holds for the retrieved series, all new.
      let expected = pushFiles.length;
      for (const uid of inRange) {
        for (const s of await svc.json<any[]>(`/api/series?study=${uid}`)) {
          const found = await orthanc.rest('/tools/find', { method: 'POST', body: JSON.stringify({ Level: 'Series', Query: { SeriesInstanceUID: s.seriesInstanceUid }, Expand: true }) });
          expect(s.instances, s.description).toBe(found[0].Instances.length);
          expect(s.resends).toBe(0);
          expected += s.instances;
        }
      }
      const metrics = await (await svc.api('/metrics')).text();
      const received = (outcome: string) => Number(new RegExp(`^osteoscreen_instances_received_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
      expect(received('new')).toBe(expected);
      expect([received('identical'), received('replaced'), received('rejected')]).toEqual([0, 0, 0]);
    } finally {
      await svc.stop('SIGKILL');
    }
  }, 600_000);
});
