/**
 * Acceptance — security (issue 10): unknown calling AE / source IP / called AE refused (nothing stored),
 * every admin API route refuses requests without (or with a wrong) bearer token and has no effect,
 * path traversal through any UID (DICOM) or path parameter (HTTP) is impossible, and no log line of the
 * suite contains a patient's name, ID or birth date.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { skipWithoutCommands } from '../helpers/tools.js';
import { existsSync, mkdtempSync, readdirSync, statSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeMrSeries } from '../helpers/mr.js';
import { storescu, echoscu } from '../helpers/dcmtk.js';
import { sendRawDataset } from '../helpers/rawscu.js';
import { waitFor } from '../helpers/ports.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/store/index.js';
import { createMetrics } from '../../src/common/metrics.js';
import { coreRoutes } from '../../src/admin/api.js';
import { adminRoutes } from '../../src/admin/index.js';
import { startLogged, stopAll, fileLogs, metric, metricsText, patientIdentifiers, linesWithIdentifiers, filesUnder, waitStudiesTerminal, recordIdentifiers, suiteIdentifiers, suiteLogs, apiFresh, offendingLogLines, type LoggedService } from './harness.js';
import { rewrite, rawDatasetOf } from './malformed.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-sec-'));
const CANARY = 'osteo-sec-escape';

/** Every file below `dir`, relative. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Data folder holds only the index, the token and studies/<uid>/<uid>/<uid>.dcm (and outputs/<uid>/...). */
function assertDataFolderClean(dataDir: string): void {
  const uid = /^[0-9]+(\.[0-9]+)*$/;
  for (const rel of tree(dataDir)) {
    const parts = rel.split(path.sep);
    if (parts[0] === 'studies') {
      expect(parts.length, rel).toBe(4);
      expect(uid.test(parts[1]!) && uid.test(parts[2]!) && uid.test(parts[3]!.replace(/\.dcm$/, '')), rel).toBe(true);
    } else if (parts[0] === 'outputs') {
      expect(uid.test(parts[1]!), rel).toBe(true);
    } else {
      expect(['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm', 'admin-token'].includes(rel) || parts[0] === 'tmp', rel).toBe(true);
    }
    expect(rel.includes(CANARY), rel).toBe(false);
  }
  expect(readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
}

describe.skipIf(skipWithoutCommands('storescu'))('acceptance: security', () => {
  let svc: LoggedService;
  let ids: string[] = [];
  let phantomStudy = '';

  beforeAll(async () => {
    svc = await startLogged('security', { env: { OSTEOSCREEN_DICOM_ALLOWED_CALLING_AE_TITLES: 'MODALITY1,PACS', OSTEOSCREEN_PIPELINE_MAX_ATTEMPTS: '1' } });
  }, 60_000);
  afterAll(async () => {
    await stopAll();
  });

  it('refuses an unknown calling AE for C-STORE (nothing stored) and a wrong called AE; an allowed AE stores', async () => {
    const s = writeMrSeries(path.join(tmp, 'ae'), { count: 2, patientName: 'SECPAT^TRESPASS7', patientId: 'SECPID-31337' });
    ids.push(...patientIdentifiers(s.files));
    const r = storescu(svc.dicomPort, s.files, { aet: 'INTRUDER' });
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/Reject|refused/i);
    const wrongCalled = storescu(svc.dicomPort, s.files, { aet: 'PACS', aec: 'NOT-OSTEO' });
    expect(wrongCalled.status).not.toBe(0);
    expect(existsSync(path.join(svc.dataDir, 'studies', s.studyUid))).toBe(false);
    expect(storescu(svc.dicomPort, s.files, { aet: 'MODALITY1' }).status).toBe(0);
    expect(existsSync(path.join(svc.dataDir, 'studies', s.studyUid, s.seriesUid, `${s.sopUids[0]}.dcm`))).toBe(true);
    const m = await metricsText(svc);
    expect(metric(m, 'osteoscreen_associations_total', { result: 'refused', reason: 'calling-ae' })).toBeGreaterThanOrEqual(1);
    expect(metric(m, 'osteoscreen_associations_total', { result: 'refused', reason: 'called-ae' })).toBeGreaterThanOrEqual(1);
  });

  it('refuses a source IP outside dicom.allowedSourceIps (C-ECHO and C-STORE), accepts it once listed', async () => {
    const s = writeMrSeries(path.join(tmp, 'ip'), { count: 1 });
    const blocked = await startLogged('security-ip', { env: { OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS: '192.0.2.10' } });
    try {
      expect(echoscu(blocked.dicomPort).status).not.toBe(0);
      expect(storescu(blocked.dicomPort, s.files).status).not.toBe(0);
      expect(existsSync(path.join(blocked.dataDir, 'studies', s.studyUid))).toBe(false);
      await waitFor(() => /association refused.*reason=source-ip/.test(blocked.logs()), 'source-ip refusal log line');
    } finally {
      await blocked.stop();
    }
    const allowed = await startLogged('security-ip-ok', { env: { OSTEOSCREEN_DICOM_ALLOWED_SOURCE_IPS: '192.0.2.10,127.0.0.1' } });
    try {
      expect(storescu(allowed.dicomPort, s.files).status).toBe(0);
    } finally {
      await allowed.stop();
    }
  });

  it('refuses every admin API route without a token, with a wrong token, or with the token outside the Authorization header — with no effect', async () => {
    const study = writeMrSeries(path.join(tmp, 'api'), { count: 2 });
    expect(storescu(svc.dicomPort, study.files, { aet: 'PACS' }).status).toBe(0);
    await waitStudiesTerminal(svc, [study.studyUid], 60_000);
    // The routes the service really serves (built from the same code, not a hand list).
    const config = loadConfig({ env: {} });
    const store = openStore(mkdtempSync(path.join(os.tmpdir(), 'osteo-acc-routes-')));
    const deps = { config, store, metrics: createMetrics(), startedAt: Date.now(), version: 'test' };
    const routes = [...coreRoutes(deps), ...adminRoutes({ ...deps, pipeline: {} as any, deliverer: {} as any, dicomPort: 0, adminToken: 'x' } as any)];
    store.close();
    const api = routes.filter((r) => r.pattern.startsWith('/api'));
    expect(api.length).toBeGreaterThanOrEqual(20);
    for (const r of api) expect(r.auth, `${r.method} ${r.pattern} must require the token`).toBe(true);
    const fill = (p: string) => p.replace(':uid', study.studyUid).replace(':id', '1').replace(':task', 'retention');
    const tried: string[] = [];
    for (const r of api) {
      const url = fill(r.pattern);
      for (const variant of [
        { token: null },
        { token: 'wrong-token' },
        { token: svc.token + 'x' },
        { token: null, headers: { authorization: `Basic ${Buffer.from('admin:' + svc.token).toString('base64')}` } },
        { token: null, headers: { authorization: svc.token } },
        { token: null, query: `?token=${svc.token}&access_token=${svc.token}` },
      ]) {
        const res = await apiFresh(svc, url + ((variant as any).query ?? ''), { method: r.method, token: variant.token, headers: (variant as any).headers });
        expect(res.status, `${r.method} ${url} ${JSON.stringify(variant).slice(0, 40)}`).toBe(401);
        await res.arrayBuffer();
      }
      tried.push(`${r.method} ${r.pattern}`);
    }
    // Nothing happened: files still there, no job re-run, no audit entry.
    expect(existsSync(path.join(svc.dataDir, 'studies', study.studyUid, study.seriesUid, `${study.sopUids[0]}.dcm`))).toBe(true);
    const d = await svc.json<any>(`/api/studies/${study.studyUid}`);
    expect(d.jobs).toHaveLength(1);
    expect(await svc.json<any[]>('/api/audit')).toEqual([]);
    // Open endpoints are only /health and /metrics (and the page shell, which holds no data).
    expect((await svc.api('/health', { token: null })).status).toBe(200);
    expect((await svc.api('/metrics', { token: null })).status).toBe(200);
    const unknown = await svc.api('/api/does-not-exist', { token: null });
    expect([401, 404]).toContain(unknown.status);
    console.log('[acceptance:security] routes refused without token:', tried.length, tried.join(', '));
  });

  /** Evil UID variants that stay invalid after dcmjs's UI formatting. */
  const EVIL = ['../../../' + CANARY, '..', '1.2.3/../../' + CANARY, '/tmp/' + CANARY, '../1.2.3'];
  /** Variants dcmjs silently turns into valid UIDs by stripping every character but digits and dots (see the test below). */
  const SANITISED = ['1.2.3/' + CANARY, '%2e%2e%2f' + CANARY, '1.2.3\\..\\..\\' + CANARY, '1.2.3\u0000.4'];
  const FIELDS = ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'] as const;
  let trav: { studyUid: string; seriesUid: string; sopUids: string[]; files: string[] };
  const evilFile = (set: string, i: number, field: string) => path.join(tmp, 'trav', `${set}-${i}-${field}.dcm`);

  function writeEvil(): void {
    trav = writeMrSeries(path.join(tmp, 'trav'), { count: 1, rows: 16, columns: 16 });
    for (const [set, list] of [['evil', EVIL], ['sanitised', SANITISED]] as const) {
      for (const [i, v] of list.entries()) {
        for (const field of FIELDS) {
          rewrite(trav.files[0]!, evilFile(set, i, field), (ds, meta) => {
            ds[field] = v;
            if (field === 'SOPInstanceUID') meta.MediaStorageSOPInstanceUID = v;
          });
        }
      }
    }
  }

  it('path traversal through any UID (C-STORE request or dataset) is refused and nothing is written outside studies/', async () => {
    writeEvil();
    const open = await startLogged('security-open');
    try {
      let refused = 0;
      for (const [i, v] of EVIL.entries()) {
        for (const field of FIELDS) {
          const f = evilFile('evil', i, field);
          // storescu (it may refuse to send it at all) ...
          const r = storescu(open.dicomPort, [f], { extra: ['-v', '-ta', '10', '-td', '10'] });
          expect(r.out, `storescu ${field}=${JSON.stringify(v)}`).not.toMatch(/Received Store Response \(Success\)/);
          // ... and the raw path, with the C-STORE request's Affected SOP Instance UID evil as well.
          for (const requestSop of new Set([field === 'SOPInstanceUID' ? v : trav.sopUids[0]!, v])) {
            const rr = await sendRawDataset(open.dicomPort, rawDatasetOf(readFileSync(f)), { sopInstanceUid: requestSop });
            expect(rr.status, `raw ${field}=${JSON.stringify(v)} request=${JSON.stringify(requestSop)}: ${rr.error ?? ''}`).not.toBeNull();
            expect(rr.status, `raw ${field}=${JSON.stringify(v)} request=${JSON.stringify(requestSop)}`).not.toBe(0);
            refused++;
          }
        }
      }
      // The sanitised variants too: whatever their status, no path outside studies/.
      for (const [i] of SANITISED.entries()) for (const field of FIELDS) storescu(open.dicomPort, [evilFile('sanitised', i, field)], { extra: ['-ta', '10', '-td', '10'] });
      expect(refused).toBeGreaterThanOrEqual(EVIL.length * 3);
      assertDataFolderClean(open.dataDir);
      expect(open.logs()).toMatch(/C-STORE rejected reason="missing or invalid (Study|Series|SOP)InstanceUID"/);
      expect(existsSync('/tmp/' + CANARY)).toBe(false);
      expect(existsSync(path.join(path.dirname(open.dataDir), CANARY))).toBe(false);
      expect(echoscu(open.dicomPort).status).toBe(0);
      // The allowlisted service refuses them as well (storescu as an allowed AE).
      for (const [i] of EVIL.entries()) for (const field of FIELDS) expect(storescu(svc.dicomPort, [evilFile('evil', i, field)], { aet: 'PACS', extra: ['-v', '-ta', '10', '-td', '10'] }).out).not.toMatch(/Received Store Response \(Success\)/);
      assertDataFolderClean(svc.dataDir);
    } finally {
      await open.stop();
    }
  }, 180_000);

  // dcmjs's UI formatting strips every character that is not a digit or a dot, so "1.2.3/x", "%2e%2e%2fx",
  // "1.2.3\\..\\x" or "1.2.3<NUL>.4" used to be validated and filed as "1.2.3", "222", "1.2.3", "1.2.3.4" (found by
  // this suite; fixed in 011c220): the service must judge the raw value and refuse them.
  it('refuses UIDs containing characters other than digits and dots (which dcmjs would strip silently)', async () => {
    if (!trav) writeEvil();
    const open = await startLogged('security-sanitised');
    try {
      for (const [i, v] of SANITISED.entries()) {
        for (const field of FIELDS) {
          const rr = await sendRawDataset(open.dicomPort, rawDatasetOf(readFileSync(evilFile('sanitised', i, field))), { sopInstanceUid: field === 'SOPInstanceUID' ? v : trav.sopUids[0]! });
          expect(rr.status, `${field}=${JSON.stringify(v)}`).not.toBe(0);
        }
      }
    } finally {
      await open.stop();
    }
  }, 120_000);

  it('path traversal through API path parameters is refused and deletes nothing', async () => {
    const before = tree(svc.dataDir);
    const tokenFile = svc.token;
    for (const p of ['..%2F..%2Fadmin-token', '..%2Findex.sqlite', '%2E%2E', '..', '1.2.3%2F..%2F..', '%2Fetc%2Fpasswd', '..%5C..%5Cadmin-token']) {
      for (const [method, url] of [
        ['GET', `/api/studies/${p}`],
        ['GET', `/api/studies/${p}/summary.png`],
        ['POST', `/api/studies/${p}/delete-files`],
        ['DELETE', `/api/studies/${p}`],
        ['POST', `/api/studies/${p}/rerun`],
        ['POST', `/api/series/${p}/complete`],
      ] as const) {
        const r = await apiFresh(svc, url, { method });
        const body = await r.text();
        expect(r.status, `${method} ${url}: ${body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${url}`).toBeLessThan(500);
        expect(body).not.toContain(tokenFile);
        expect(body).not.toMatch(/root:x:0:0/);
      }
    }
    expect(tree(svc.dataDir).filter((f) => !f.startsWith('index.sqlite'))).toEqual(before.filter((f) => !f.startsWith('index.sqlite')));
  });

  it('processes a phantom study without writing its patient\'s name, ID or birth date to any log line', async () => {
    writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 5150, count: 1, bone: 'low' });
    const files = filesUnder(path.join(tmp, 'ph'));
    const phIds = patientIdentifiers(files);
    expect(phIds.length).toBeGreaterThanOrEqual(3);
    ids.push(...phIds);
    const man = JSON.parse(readFileSync(path.join(tmp, 'ph', 'manifest.json'), 'utf8'));
    phantomStudy = man[0].studyInstanceUID;
    expect(storescu(svc.dicomPort, files, { aet: 'MODALITY1' }).status).toBe(0);
    await waitStudiesTerminal(svc, [phantomStudy], 240_000);
    // Patient data is visible behind the token (the admin needs it), never in logs.
    const d = await svc.json<any>(`/api/studies/${phantomStudy}`);
    expect(phIds).toContain(d.patientId);
    recordIdentifiers('security', ids);
    expect(linesWithIdentifiers(fileLogs(), ids).slice(0, 5)).toEqual([]);
    // The open /metrics endpoint carries no identifiers either.
    const m = await metricsText(svc);
    expect(ids.filter((id) => m.includes(id))).toEqual([]);
  }, 300_000);

  it('no log saved by the acceptance suite so far contains any identifier the suite recorded', () => {
    const offending = offendingLogLines('security', ids);
    console.log('[acceptance:security] grepped', suiteLogs().length + 1, 'logs for', suiteIdentifiers().length, 'identifiers');
    expect(offending.slice(0, 5)).toEqual([]);
  });
});
