/**
 * What a newcomer reads in the log: the admin page URL and where the token is (never the token), a warning for
 * an OSTEOSCREEN_* typo, one line per received association (counts only), and "study analysed" with the result.
 * No patient identifiers anywhere.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { writeMrSeries } from '../helpers/mr.js';
import { storescu } from '../helpers/dcmtk.js';
import { waitFor } from '../helpers/ports.js';

let svc: RunningService | undefined;
afterAll(async () => {
  await svc?.stop();
});

describe('service log lines', () => {
  it('start-up, association and study lines say what matters, without identifiers or the token', async () => {
    svc = await startService({ env: { OSTEOSCREEN_HTTP_TOKEN: '', OSTEOSCREEN_DICOM_PROT: '104', OSTEOSCREEN_PIPELINE_STABLE_SECONDS: '1' } });
    const s = svc;
    const ready = await waitFor(async () => (/OsteoScreen ready.*/.exec(s.logs()) ?? undefined)?.[0], 'ready line', 20_000);
    expect(ready).toContain(`adminPage=http://127.0.0.1:${s.httpPort}/`);
    const tokenFile = path.join(s.dataDir, 'admin-token');
    expect(ready).toContain(`in ${tokenFile}`);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token.length).toBeGreaterThan(16);
    expect(s.logs()).toContain('environment variable OSTEOSCREEN_DICOM_PROT matches no config key and is ignored (did you mean OSTEOSCREEN_DICOM_PORT?)');

    // A T1-only study: received over one association, then analysed as not assessable (no T2).
    const t1 = writeMrSeries(path.join(mkdtempSync(path.join(os.tmpdir(), 'osteo-logs-')), 't1'), { count: 3, tr: 450, te: 9.6, description: 'sag T1', patientName: 'DOE^JANE', patientId: 'PID-777' });
    const r = storescu(s.dicomPort, t1.files);
    expect(r.status, r.out).toBe(0);
    const assoc = await waitFor(async () => (/.*association ended.*/.exec(s.logs()) ?? undefined)?.[0], 'association line', 20_000);
    expect(assoc).toMatch(/callingAe=TESTSCU ip=127\.0\.0\.1 stored=3 failed=0 echoes=0 seconds=\d+\.\d end=closed/);
    const analysed = await waitFor(async () => (/.*study analysed.*/.exec(s.logs()) ?? undefined)?.[0], 'study analysed line', 60_000);
    expect(analysed).toContain('result="not assessable"');
    expect(analysed).toMatch(/reason="[^"]*T2/);

    const all = s.logs();
    expect(all).not.toContain(token);
    expect(all).not.toMatch(/DOE|JANE|PID-777/);
  });
});
