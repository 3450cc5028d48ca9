import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { jobResultColumns, jobResultSchema } from '../../src/store/job-result.js';
import { mkdtempSync, existsSync, mkdirSync, writeFileSync, statSync, readdirSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startService, readToken, type RunningService } from '../helpers/service.js';
import { writeMrSeries } from '../helpers/mr.js';
import { storescu } from '../helpers/dcmtk.js';
import { waitFor, freePort } from '../helpers/ports.js';
import { parsePrometheusText, total } from './promtext.js';
import { tokenId } from '../../src/admin/auth.js';
import { DriftStore } from '../../src/store/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-admin-api-'));
const FINAL = ['done', 'not-assessable', 'failed'];
// A 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201d3b1e5a70000000049454e44ae426082', 'hex');

describe('admin HTTP API: auth, actions and their effects, metrics', () => {
  let svc: RunningService;
  let db: Database.Database;
  let dest: string;
  // Stability is effectively off (1 h): series complete only by the admin "force complete" action.
  // The output destination is a closed port: deliveries fail and are retried later (rows stay pending).
  beforeAll(async () => {
    dest = `PACS@127.0.0.1:${await freePort()}`;
    svc = await startService({
      env: { OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '3600', OSTEOSCREEN_DRIFT_MIN_STUDIES: '3', OSTEOSCREEN_DRIFT_MAX_Z: '2', OSTEOSCREEN_OUTPUT_DESTINATION: dest, OSTEOSCREEN_HOUSEKEEPING_RETENTION_DAYS: '5' },
    });
    db = new Database(path.join(svc.dataDir, 'index.sqlite'));
    db.pragma('busy_timeout = 5000');
  });
  afterAll(async () => {
    db?.close();
    await svc?.stop();
  });

  const post = (p: string, token?: string | null) => svc.api(p, { method: 'POST', token });
  const study = (uid: string) => svc.json<any>(`/api/studies/${uid}`);
  const finished = (uid: string, jobs: number) =>
    waitFor(async () => {
      const s = await study(uid);
      return s.jobs.length === jobs && FINAL.includes(s.state) ? s : undefined;
    }, `study to finish with ${jobs} job(s)`, 60_000);

  const protectedGets = ['/api/studies', '/api/series', '/api/jobs', '/api/audit', '/api/drift', '/api/model', '/api/config', '/api/overview', '/api/outbox', '/api/housekeeping'];

  it('protects every API route with the bearer token (none → 401, wrong → 401, right → 200); /, assets, /health, /metrics are open', async () => {
    for (const p of protectedGets) {
      const none = await svc.api(p, { token: null });
      expect(none.status, p).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await svc.api(p, { token: 'wrong-token' })).status, p).toBe(401);
      expect((await svc.api(p, { token: svc.token + 'x' })).status, p).toBe(401);
      expect((await svc.api(p, { token: svc.token.slice(0, -1) })).status, p).toBe(401);
      const ok = await svc.api(p);
      expect(ok.status, p).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/application\/json/);
    }
    for (const p of ['/api/studies/1.2.3/rerun', '/api/studies/1.2.3/retry-outputs', '/api/outbox/retry', '/api/series/1.2.3/complete', '/api/studies/1.2.3/delete-files', '/api/housekeeping/summary']) {
      expect((await post(p, null)).status, p).toBe(401);
      expect((await post(p, 'nope')).status, p).toBe(401);
    }
    expect((await svc.api('/api/studies/1.2.3', { method: 'DELETE', token: null })).status).toBe(401);
    // Nothing was done by the refused requests.
    expect(await svc.json('/api/audit')).toEqual([]);
    for (const p of ['/', '/assets/admin.js', '/assets/admin.css', '/health', '/metrics']) {
      const r = await svc.api(p, { token: null });
      expect(r.status, p).toBe(200);
    }
    const page = await (await svc.api('/', { token: null })).text();
    expect(page).toContain('<script src="/assets/admin.js"');
    expect(page).not.toMatch(/https?:\/\//); // no CDN or other external resource
    const js = await (await svc.api('/assets/admin.js', { token: null })).text();
    expect(js).not.toMatch(/https?:\/\//);
    expect(js).not.toContain('innerHTML');
  });

  let s1: ReturnType<typeof writeMrSeries>;

  it('force-completes a series that is still receiving; the study is then processed', async () => {
    s1 = writeMrSeries(path.join(tmp, 's1'), { count: 4, patientName: 'SECRET^ADMIN', patientId: 'PID-ADMIN-1' });
    expect(storescu(svc.dicomPort, s1.files).status).toBe(0);
    const before = await svc.json<any[]>(`/api/series?study=${s1.studyUid}`);
    expect(before).toHaveLength(1);
    expect(before[0].state).toBe('receiving');
    expect((await post('/api/series/1.2.999/complete')).status).toBe(404);
    const r = await post(`/api/series/${s1.seriesUid}/complete`);
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ seriesInstanceUid: s1.seriesUid, studyInstanceUid: s1.studyUid });
    const st = await finished(s1.studyUid, 1);
    expect(st.series[0].state).toBe('stable');
    expect(st.jobs[0].trigger).toBe('stable');
    // A second force-complete of a stable series is refused.
    expect((await post(`/api/series/${s1.seriesUid}/complete`)).status).toBe(409);
  });

  it('re-runs a study: a new job with trigger "rerun" runs to a final state', async () => {
    expect((await post('/api/studies/1.2.999/rerun')).status).toBe(404);
    const r = await post(`/api/studies/${s1.studyUid}/rerun`);
    expect(r.status).toBe(202);
    const body = await r.json();
    expect(body.job.trigger).toBe('rerun');
    const st = await finished(s1.studyUid, 2);
    expect(st.jobs.map((j: any) => j.trigger)).toEqual(['stable', 'rerun']);
    expect(st.job.id).toBe(body.job.id);
    const jobs = await svc.json<any[]>(`/api/jobs?study=${s1.studyUid}`);
    expect(jobs.map((j) => j.trigger)).toEqual(['rerun', 'stable']);
  });

  it('retries dead-letter outputs of one study (and all) — rows go back to pending', async () => {
    const ins = db.prepare(
      `INSERT INTO outbox (study_uid, job_id, kind, destination, path, sop_uid, state, attempts, last_error, next_attempt_at, created_at, updated_at)
       VALUES (?, NULL, 'sr', ?, ?, ?, 'dead-letter', 9, 'connection refused', 0, 1, 1)`,
    );
    // A real DICOM file, so that a delivery attempt in between fails only on the closed port (and stays pending).
    ins.run(s1.studyUid, dest, s1.files[0], '1.2.826.0.1.3680043.10.1.1');
    ins.run('1.2.826.0.1.3680043.10.77', dest, s1.files[1], '1.2.826.0.1.3680043.10.1.2'); // another study's
    let st = await study(s1.studyUid);
    expect(st.outputCounts.deadLetter).toBe(1);
    const r = await post(`/api/studies/${s1.studyUid}/retry-outputs`);
    expect(await r.json()).toEqual({ retried: 1 });
    const state = (sop: string) => (db.prepare('SELECT state FROM outbox WHERE sop_uid = ?').get(sop) as { state: string }).state;
    expect(state('1.2.826.0.1.3680043.10.1.1')).toBe('pending');
    expect(state('1.2.826.0.1.3680043.10.1.2')).toBe('dead-letter');
    st = await study(s1.studyUid);
    expect(st.outputs.find((o: any) => o.sopInstanceUid === '1.2.826.0.1.3680043.10.1.1')).toBeTruthy();
    const all = await post('/api/outbox/retry');
    expect(await all.json()).toEqual({ retried: 1 });
    expect(state('1.2.826.0.1.3680043.10.1.2')).toBe('pending');
    db.prepare("DELETE FROM outbox WHERE sop_uid LIKE '1.2.826.0.1.3680043.10.1.%'").run();
  });

  let s2: ReturnType<typeof writeMrSeries>;
  let s3: ReturnType<typeof writeMrSeries>;
  it('serves the summary PNG when it exists, 404 before', async () => {
    // A study that is still receiving has no outputs.
    s3 = writeMrSeries(path.join(tmp, 's3'), { count: 1 });
    expect(storescu(svc.dicomPort, s3.files).status).toBe(0);
    expect((await svc.api(`/api/studies/${s3.studyUid}/summary.png`)).status).toBe(404);
    expect((await svc.api('/api/studies/1.2.999/summary.png')).status).toBe(404);
    expect((await study(s3.studyUid)).hasSummary).toBe(false);
    const dir = path.join(svc.dataDir, 'outputs', s3.studyUid);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'summary.png'), PNG);
    const r = await svc.api(`/api/studies/${s3.studyUid}/summary.png`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await r.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await study(s3.studyUid)).hasSummary).toBe(true);
    expect((await svc.api(`/api/studies/${s3.studyUid}/summary.png`, { token: null })).status).toBe(401);
  });

  it('filters studies and jobs by state, flag and date', async () => {
    s2 = writeMrSeries(path.join(tmp, 's2'), { count: 2 });
    expect(storescu(svc.dicomPort, s2.files).status).toBe(0);
    await post(`/api/series/${s2.seriesUid}/complete`);
    await finished(s2.studyUid, 1);
    // Give s2's job a scored, flagged result, as the store writes it: the JSON and its flag/score/cut-off columns.
    const scored = { kind: 'scored' as const, reason: null, score: 0.9, cutoff: 0.525, flag: true, calibrated: false, terms: [] };
    const c = jobResultColumns(jobResultSchema.parse(scored));
    db.prepare('UPDATE jobs SET result = ?, flag = ?, score = ?, cutoff = ?, model_version = ? WHERE study_uid = ?').run(
      JSON.stringify(scored), c.flag, c.score, c.cutoff, c.modelVersion, s2.studyUid,
    );
    const flaggedStudies = await svc.json<any[]>('/api/studies?flagged=true');
    expect(flaggedStudies.map((s) => s.studyInstanceUid)).toEqual([s2.studyUid]);
    expect(flaggedStudies[0]).toMatchObject({ flag: true, score: 0.9, cutoff: 0.525 });
    const notFlagged = await svc.json<any[]>('/api/studies?flagged=false');
    expect(notFlagged.map((s) => s.studyInstanceUid)).toContain(s1.studyUid);
    expect(notFlagged.map((s) => s.studyInstanceUid)).not.toContain(s2.studyUid);
    const flaggedJobs = await svc.json<any[]>('/api/jobs?flagged=true');
    expect(flaggedJobs.map((j) => j.studyInstanceUid)).toEqual([s2.studyUid]);
    const st = (await study(s1.studyUid)).state;
    const byState = await svc.json<any[]>(`/api/jobs?state=${st}`);
    expect(byState.length).toBeGreaterThanOrEqual(3);
    expect(byState.every((j) => j.state === st)).toBe(true);
    expect(await svc.json<any[]>('/api/jobs?since=2999-01-01T00:00:00Z')).toEqual([]);
    expect((await svc.json<any[]>('/api/jobs?until=2999-01-01T00:00:00Z')).length).toBe(3);
    expect((await svc.json<any[]>(`/api/studies?state=${st}`)).length).toBe(2);
    expect((await svc.api('/api/jobs?state=bogus')).status).toBe(400);
    expect((await svc.api('/api/jobs?flagged=maybe')).status).toBe(400);
    expect((await svc.api('/api/jobs?since=yesterday')).status).toBe(400);
    const detail = await study(s2.studyUid);
    // s2 is one 2-slice MR series: the selection records why it was skipped and picks neither sequence.
    expect(detail.selection).toEqual({ t1: null, t2: null, skipped: [{ series: s2.seriesUid, reason: 'only 2 slice(s) (< 5)' }] });
    expect(detail.state).toBe('not-assessable');
    expect(detail.reason).toBe('no sagittal T1 and no sagittal T2');
  });

  it('deletes a study\'s instance files (rows kept; it can no longer be re-run), then the whole study', async () => {
    const files = s1.sopUids.map((sop) => path.join(svc.dataDir, 'studies', s1.studyUid, s1.seriesUid, `${sop}.dcm`));
    expect(files.every((f) => existsSync(f))).toBe(true);
    const report = path.join(svc.dataDir, 'outputs', s1.studyUid, 'sr-test.dcm');
    mkdirSync(path.dirname(report), { recursive: true });
    writeFileSync(report, 'a report');
    const r = await post(`/api/studies/${s1.studyUid}/delete-files`);
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({ files: 4, skipped: 0 });
    expect(body.bytes).toBeGreaterThan(0);
    expect(files.some((f) => existsSync(f))).toBe(false);
    const st = await study(s1.studyUid);
    expect(st.series[0].instances).toBe(4);
    expect(st.filesDeleted).toBe(true);
    const rows = db.prepare('SELECT files_deleted FROM instances WHERE study_uid = ?').all(s1.studyUid) as { files_deleted: number }[];
    expect(rows.map((x) => x.files_deleted)).toEqual([1, 1, 1, 1]);
    // Outputs (reports) are kept.
    expect(existsSync(report)).toBe(true);
    expect((await post(`/api/studies/${s1.studyUid}/rerun`)).status).toBe(409);

    const del = await svc.api(`/api/studies/${s1.studyUid}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await svc.api(`/api/studies/${s1.studyUid}`)).status).toBe(404);
    expect(existsSync(path.join(svc.dataDir, 'outputs', s1.studyUid))).toBe(false);
    expect(existsSync(path.join(svc.dataDir, 'studies', s1.studyUid))).toBe(false);
    expect((db.prepare('SELECT COUNT(*) AS n FROM instances WHERE study_uid = ?').get(s1.studyUid) as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT COUNT(*) AS n FROM jobs WHERE study_uid = ?').get(s1.studyUid) as { n: number }).n).toBe(0);
  });

  it('records every admin action in the audit log: token id, IP, action, target', async () => {
    const audit = await svc.json<any[]>('/api/audit');
    const actions = audit.map((a) => `${a.action} ${a.target ?? ''}`).reverse();
    expect(actions).toEqual([
      `force-complete ${s1.seriesUid}`,
      `rerun ${s1.studyUid}`,
      `retry-outputs ${s1.studyUid}`,
      'retry-outputs ',
      `force-complete ${actions[4]!.split(' ')[1]}`,
      `delete-files ${s1.studyUid}`,
      `delete-study ${s1.studyUid}`,
    ]);
    for (const a of audit) {
      expect(a.actor).toBe(tokenId(svc.token));
      expect(a.ip).toBe('127.0.0.1');
      expect(Date.parse(a.at)).toBeGreaterThan(Date.now() - 600_000);
    }
    expect(audit.find((a) => a.action === 'retry-outputs' && a.target === s1.studyUid).detail).toEqual({ retried: 1 });
    // The audit log never contains the token itself.
    expect(JSON.stringify(audit)).not.toContain(svc.token);
  });

  it('shows drift per scanner against the model normalisation', async () => {
    const model = await svc.json<any>('/api/model');
    expect(model.radscore.name).toBeTruthy();
    const term = model.radscore.terms[0];
    // As the service records each scored study (a second connection to its index).
    const drift = new DriftStore(db);
    for (let i = 0; i < 3; i++) drift.record('ACME / M1 / ST1', [{ sequence: term.sequence, feature: term.feature, value: term.mean + 3 * term.sd + (i - 1) * 0.01 * term.sd }]);
    for (let i = 0; i < 3; i++) drift.record('ACME / M1 / ST2', [{ sequence: term.sequence, feature: term.feature, value: term.mean + 0.5 * term.sd }]);
    const d = await svc.json<any>('/api/drift');
    expect(d).toMatchObject({ maxZ: 2, minStudies: 3 });
    const by = Object.fromEntries(d.scanners.map((s: any) => [s.scanner, s]));
    expect(by['ACME / M1 / ST1'].warn).toBe(true);
    expect(by['ACME / M1 / ST1'].terms[0].z).toBeCloseTo(3, 6);
    expect(by['ACME / M1 / ST2'].warn).toBe(false);
    expect((await svc.json<any>('/api/overview')).driftWarnings).toEqual(['ACME / M1 / ST1']);
  });

  it('exposes the model card and the effective config with the token masked', async () => {
    const m = await svc.json<any>('/api/model');
    expect(m.radscore).toMatchObject({ calibrated: false });
    expect(m.radscore.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m.radscore.terms.length).toBeGreaterThan(0);
    expect(m.segmentation).toHaveProperty('file');
    const c = await svc.json<any>('/api/config');
    expect(c.http.token).toBe('********');
    expect(JSON.stringify(c)).not.toContain(svc.token);
  });

  it('runs a housekeeping task on demand and audits it', async () => {
    const r = await post('/api/housekeeping/summary');
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.result.studiesTotal).toBe(2);
    expect((await post('/api/housekeeping/bogus')).status).toBe(404);
    const hk = await svc.json<any[]>('/api/housekeeping');
    expect(hk.find((t) => t.task === 'summary').lastRun).toBeTruthy();
    expect(svc.logs()).toMatch(/daily summary .*studiesTotal=2/);
    expect(svc.logs()).not.toMatch(/SECRET\^ADMIN|PID-ADMIN-1/);
  });

  it('retention (housekeeping.retentionDays from config) deletes the files of old finished studies only, keeping rows', async () => {
    const fileOf = (s: ReturnType<typeof writeMrSeries>, i: number) => path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[i]}.dcm`);
    // Nothing is old enough yet.
    let r = await (await post('/api/housekeeping/retention')).json();
    expect(r.result).toMatchObject({ studies: 0, files: 0, days: 5 });
    // Age s2 (finished) and s3 (still receiving) by 10 days: files, rows.
    const old = Date.now() - 10 * 86_400_000;
    for (const s of [s2, s3]) {
      db.prepare('UPDATE studies SET updated_at = ? WHERE study_uid = ?').run(old, s.studyUid);
      db.prepare('UPDATE instances SET received_at = ? WHERE study_uid = ?').run(old, s.studyUid);
      s.sopUids.forEach((_, i) => utimesSync(fileOf(s, i), new Date(old - 1000), new Date(old - 1000)));
    }
    const rowsBefore = db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number };
    r = await (await post('/api/housekeeping/retention')).json();
    expect(r.result).toMatchObject({ studies: 1, files: 2, skipped: 0, days: 5 });
    expect(existsSync(fileOf(s2, 0)) || existsSync(fileOf(s2, 1))).toBe(false);
    expect(existsSync(fileOf(s3, 0))).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS n FROM instances').get()).toEqual(rowsBefore);
    expect((await study(s2.studyUid)).filesDeleted).toBe(true);
    expect((await study(s3.studyUid)).filesDeleted).toBe(false);
    expect(svc.logs()).toMatch(/housekeeping task started task=retention reason=manual/);
    expect(svc.logs()).toMatch(/housekeeping task finished task=retention .*files=2/);
  });

  it('serves /metrics in strict Prometheus text format with the required families', async () => {
    const r = await svc.api('/metrics', { token: null });
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheusText(await r.text());
    const want: Record<string, string> = {
      osteoscreen_instances_received_total: 'counter',
      osteoscreen_bytes_received_total: 'counter',
      osteoscreen_associations_total: 'counter',
      osteoscreen_series_completed_total: 'counter',
      osteoscreen_jobs_finished_total: 'counter',
      osteoscreen_stage_duration_seconds: 'histogram',
      osteoscreen_outbox_depth: 'gauge',
      osteoscreen_outbox_dead_letters: 'gauge',
      osteoscreen_disk_free_bytes: 'gauge',
      osteoscreen_model_info: 'gauge',
      osteoscreen_jobs: 'gauge',
      osteoscreen_admin_actions_total: 'counter',
      osteoscreen_housekeeping_runs_total: 'counter',
      osteoscreen_drift_warnings: 'gauge',
    };
    for (const [name, type] of Object.entries(want)) {
      expect(fams.get(name)?.type, name).toBe(type);
      expect(fams.get(name)?.help, name).toBeTruthy();
    }
    expect(total(fams, 'osteoscreen_instances_received_total', { outcome: 'new' })).toBe(7);
    expect(total(fams, 'osteoscreen_bytes_received_total')).toBeGreaterThan(7 * 512);
    expect(total(fams, 'osteoscreen_associations_total', { result: 'accepted' })).toBe(3);
    expect(total(fams, 'osteoscreen_series_completed_total')).toBe(2);
    expect(total(fams, 'osteoscreen_jobs_finished_total')).toBe(3);
    expect(total(fams, 'osteoscreen_stage_duration_seconds', { stage: 'receive_to_stable' }, 'osteoscreen_stage_duration_seconds_count')).toBe(2);
    expect(total(fams, 'osteoscreen_disk_free_bytes')).toBeGreaterThan(0);
    expect(total(fams, 'osteoscreen_outbox_dead_letters')).toBe(0);
    const info = fams.get('osteoscreen_model_info')!.samples;
    expect(info).toHaveLength(1);
    expect(info[0]!.value).toBe(1);
    expect(info[0]!.labels.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(total(fams, 'osteoscreen_admin_actions_total')).toBe(10);
    expect(total(fams, 'osteoscreen_admin_actions_total', { action: 'rerun' })).toBe(1);
    expect(total(fams, 'osteoscreen_drift_warnings')).toBe(1);
    expect(total(fams, 'osteoscreen_jobs')).toBe(1); // s1's jobs were deleted with the study
  });

  it('the strict parser rejects malformed expositions', () => {
    expect(() => parsePrometheusText('x 1')).toThrow(/newline/);
    expect(() => parsePrometheusText('x 1\n')).toThrow(/outside its family/);
    expect(() => parsePrometheusText('# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n')).toThrow(/duplicate/);
    expect(() => parsePrometheusText('# TYPE x counter\nx{a="\\q"} 1\n')).toThrow(/bad escape/);
    expect(() => parsePrometheusText('# TYPE x counter\nx -1\n')).toThrow(/negative/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx abc\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n')).toThrow(/\+Inf/);
  });
});

describe('admin token generated when none is configured', () => {
  it('writes it to the data folder with mode 0600, prints where it is, and accepts only it', async () => {
    const svc = await startService({ token: '' });
    try {
      const file = path.join(svc.dataDir, 'admin-token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = readToken(svc.dataDir);
      expect(token.length).toBeGreaterThanOrEqual(24);
      expect(svc.logs()).toContain(file);
      expect(svc.logs()).not.toContain(token);
      expect((await svc.api('/api/studies', { token: null })).status).toBe(401);
      expect((await svc.api('/api/studies', { token: 'test-token-123' })).status).toBe(401);
      expect((await svc.api('/api/studies', { token })).status).toBe(200);
      expect(readdirSync(svc.dataDir)).toContain('admin-token');
    } finally {
      await svc.stop();
    }
  });
});
