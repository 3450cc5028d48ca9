/**
 * Issue 26 through the running service (`dist/cli.js serve`, a child process): DXA outcomes in by the three ways
 * (CSV with `osteoscreen outcomes import` while the service runs, HL7 v2 ORU^R01 over MLLP from the project's own
 * MLLP client — a real TCP sender, and POST /api/outcomes), matching (nearest DXA wins, unmatched kept with the
 * reason), GET /api/performance compared with R's pROC on the same (score, label) pairs, the Prometheus gauges,
 * the labelled cut-off proposal and its approval (refused for a changed proposal, audit-logged), reproduced byte for
 * byte by `osteoscreen calibrate --labels --cutoff-only`, and a restart that loses nothing.
 *
 * Lean by design (2 shared cores): the screened studies are seeded into the service's SQLite with the store
 * functions the pipeline calls when it scores a study (store.outcomes.recordScreened — what src/outcomes/screened.ts
 * writes — and store.calibration.recordStudy), their scores computed from their term values with the shipped model's
 * own scoring function. One phantom study goes through DICOM and the whole pipeline at the end, to show the pipeline
 * records a scored study's identity and MRI date and a DXA of its patient labels it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import os from 'node:os';
import path from 'node:path';
import { startService, CLI, ROOT, type RunningService } from '../helpers/service.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { storescu } from '../helpers/dcmtk.js';
import { skipWithout } from '../helpers/tools.js';
import { HAVE_R, maxAbsDiff, runR } from '../model/rscript.js';
import { loadModel, linearScore } from '../../src/model/index.js';
import { openStore } from '../../src/store/index.js';
import { rng, randn } from '../../src/model/stats/misc.js';
import { MllpClient } from '../../src/output/mllp.js';
import { readAck } from '../../src/output/hl7.js';
import { scannerId } from '../../src/admin/calibration.js';
import { filesUnder as dcmFiles } from '../helpers/files.js';

const CHROMIUM = '/usr/bin/chromium';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-outcomes-'));
const PAPER = path.join(ROOT, 'models', 'paper-t1t2.json');
const model = loadModel(PAPER);
const A = 'SIEMENS / Avanto / MR-A1';
const B = 'GE MEDICAL SYSTEMS / SIGNA HDxt / ?';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const T0 = Date.UTC(2026, 2, 1);


interface Seeded {
  pid: string;
  scanner: string;
  studyDate: string;
  score: number;
  label: 0 | 1;
  sex: 'F' | 'M';
  age: number;
  t: number;
  z: number;
  jobId: number;
}

/** Scanner A: 130 studies (patients A0..A129), scanner B: 12 (B0..B11); labels drawn first, features and DXA from them. */
function cohort(): Seeded[] {
  const rand = rng(26);
  const out: Seeded[] = [];
  let job = 1000;
  for (const [scanner, prefix, n] of [[A, 'A', 130], [B, 'B', 12]] as const) {
    for (let i = 0; i < n; i++) {
      const label: 0 | 1 = i % 9 < 4 ? 1 : 0;
      const man = i % 10 === 0;
      const values: { T1: Record<string, number>; T2: Record<string, number> } = { T1: {}, T2: {} };
      for (const t of model.terms) values[t.sequence]![t.feature] = t.mean + t.sd * (Math.sign(t.coefficient) * 0.9 * label + randn(rand));
      const s = linearScore(model.terms, model.intercept, values);
      if ('missing' in s) throw new Error('missing term');
      // Women: the T-score decides; men of 45: the Z-score decides (their T-score is set to contradict it).
      const t = man ? (label ? 0.2 : -1.8) : label ? -1.2 - Math.abs(randn(rand)) : -0.8 + Math.abs(randn(rand));
      const z = man ? (label ? -2.4 : -0.5) : -0.3;
      out.push({ pid: `${prefix}${i}`, scanner, studyDate: iso(T0 + i * DAY), score: s.score, label, sex: man ? 'M' : 'F', age: man ? 45 : 67, t, z, jobId: ++job });
    }
  }
  return out;
}
const data = cohort();
const dxaDate = (d: Seeded) => iso(Date.parse(d.studyDate) + ((Number(d.pid.slice(1)) % 30) - 15) * DAY);

function seedStore(dir: string): void {
  const store = openStore(dir);
  try {
    for (const d of data) {
      store.outcomes.recordScreened({
        studyUid: `1.2.826.0.1.3680043.8.498.26.${d.jobId}`, jobId: d.jobId, scanner: d.scanner, patientId: d.pid, issuer: 'HOSP', identityProblem: null,
        studyDate: d.studyDate, score: d.score, cutoff: model.cutoff, modelName: model.name, modelVersion: model.version, modelHash: model.hash,
      });
    }
    // A scored study without patient identity: counted, never matched.
    store.outcomes.recordScreened({
      studyUid: '1.2.826.0.1.3680043.8.498.26.1', jobId: 1, scanner: A, patientId: null, issuer: null, identityProblem: 'no patient identifier: PatientID (0010,0020) is empty',
      studyDate: '2026-03-05', score: 0.5, cutoff: model.cutoff, modelName: model.name, modelVersion: model.version, modelHash: model.hash,
    });
  } finally {
    store.close();
  }
}

/** The term values of every study, regenerated with the same seed (cohort() draws them in this order). */
function seedTerms(dir: string): void {
  const rand = rng(26);
  const store = openStore(dir);
  try {
    let k = 0;
    for (const [, , n] of [[A, 'A', 130], [B, 'B', 12]] as const) {
      for (let i = 0; i < n; i++) {
        const d = data[k++]!;
        const terms = model.terms.map((t) => ({ sequence: t.sequence, feature: t.feature, value: t.mean + t.sd * (Math.sign(t.coefficient) * 0.9 * d.label + randn(rand)) }));
        const man = i % 10 === 0;
        if (!man) randn(rand); // the draw of the woman's T-score
        const s = linearScore(model.terms, model.intercept, { T1: Object.fromEntries(terms.filter((t) => t.sequence === 'T1').map((t) => [t.feature, t.value])), T2: Object.fromEntries(terms.filter((t) => t.sequence === 'T2').map((t) => [t.feature, t.value])) });
        if ('missing' in s || Math.abs(s.score - d.score) > 1e-12) throw new Error(`seeded terms do not give the seeded score (study ${d.pid})`);
        store.calibration.recordStudy({ scanner: d.scanner, studyUid: `1.2.826.0.1.3680043.8.498.26.${d.jobId}`, jobId: d.jobId, terms, at: Date.parse(d.studyDate) });
      }
    }
  } finally {
    store.close();
  }
}

function oru(d: { pid: string; date: string; t?: number; z?: number; sex?: string; birth?: string }, control: string, opts: { type?: string; processing?: string; noPid?: boolean } = {}): string {
  const segs = [
    `MSH|^~\\&|DXA|RADIOLOGY|OSTEOSCREEN|HOSP|20260601120000||${opts.type ?? 'ORU^R01^ORU_R01'}|${control}|${opts.processing ?? 'P'}|2.5.1`,
    opts.noPid ? '' : `PID|1||${d.pid}^^^HOSP^MR||DOE^JANE||${d.birth ?? '19590101'}|${d.sex ?? 'F'}`,
    `OBR|1||DXA${control}|38269-7^DXA Bone density^LN|||${d.date.replace(/-/g, '')}0930`,
    ...(d.t !== undefined
      ? [`OBX|1|NM|38267-1^DXA Lumbar spine [T-score] Bone density^LN|L2|${d.t.toFixed(2)}|{T-score}^T-score^UCUM|||||F|||||||||^L2`, `OBX|2|NM|38267-1^DXA Lumbar spine [T-score] Bone density^LN|L3|${(d.t + 0.4).toFixed(2)}|{T-score}|||||F`]
      : []),
    ...(d.z !== undefined ? [`OBX|3|NM|85394-5^DXA Lumbar spine [Z-score] Bone density^LN||${d.z.toFixed(2)}|{Z-score}|||||F`] : []),
  ].filter(Boolean);
  return segs.join('\r') + '\r';
}

const R = describe.skipIf(skipWithout(HAVE_R, 'Rscript with glmnet + pROC', 'Debian packages r-base-core r-cran-glmnet r-cran-proc'));

R('DXA outcomes, matching and screening performance through the service', () => {
  let svc: RunningService;
  let hl7Port: number;
  const dataDir = path.join(tmp, 'data');
  const env = () => ({
    OSTEOSCREEN_OUTCOMES_HL7_ENABLED: 'true',
    OSTEOSCREEN_OUTCOMES_HL7_PORT: String(hl7Port),
    OSTEOSCREEN_OUTCOMES_HL7_HOST: '127.0.0.1',
    OSTEOSCREEN_OUTCOMES_HL7_ALLOWED_SOURCE_IPS: '127.0.0.1',
    OSTEOSCREEN_OUTCOMES_HL7_MAX_MESSAGE_BYTES: '4096',
    OSTEOSCREEN_IDENTITY_DEFAULT_ISSUER: 'HOSP',
  });

  let research: string | undefined;
  let proposed: { version: string; hash: string } | undefined;
  let expected: Record<string, { n: number; nAbnormal: number; r: Record<string, number[]> }>;

  beforeAll(async () => {
    // R before the service starts: runR blocks this process, and a kept-alive HTTP connection closed by the server
    // meanwhile would fail the next request.
    expected = Object.fromEntries(
      [A, B].map((scanner) => {
        const mine = data.filter((d) => d.scanner === scanner);
        const s = mine.map((d) => d.score);
        const y = mine.map((d) => d.label);
        const r = runR(
          `r <- roc(D$y, D$s, direction = "<", levels = c(0, 1), quiet = TRUE)
           out("ci", ci.auc(r, method = "delong"))
           out("at", coords(r, x = ${model.cutoff}, input = "threshold", ret = c("sensitivity", "specificity", "ppv", "npv"), transpose = TRUE))`,
          { s, y },
        );
        return [scanner, { n: mine.length, nAbnormal: y.filter((v) => v === 1).length, r }];
      }),
    );
    seedStore(dataDir);
    seedTerms(dataDir);
    hl7Port = await freePort();
    svc = await startService({ dataDir, env: env() });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const count = () => {
    const s = openStore(dataDir);
    try {
      return s.outcomes.count();
    } finally {
      s.close();
    }
  };

  it('imports a CSV while the service runs: bad rows named by line, good rows stored', () => {
    const rows = ['patient_id,issuer,dxa_date,t_score,z_score,age,sex,t_site,comment'];
    for (const d of data.filter((x) => x.scanner === A && Number(x.pid.slice(1)) < 120)) {
      rows.push(`${d.pid},HOSP,${dxaDate(d)},${d.t.toFixed(3)},${d.z.toFixed(3)},${d.age},${d.sex},L1,`);
    }
    // A5: a second DXA further away (in the window): the nearer one must win. A7: one 400 days later: unmatched.
    rows.push(`A5,HOSP,${iso(Date.parse(data[5]!.studyDate) + 100 * DAY)},-3.5,-3,67,F,,`);
    rows.push(`A7,HOSP,${iso(Date.parse(data[7]!.studyDate) + 400 * DAY)},-0.5,0,67,F,,`);
    rows.push('X999,HOSP,2026-03-10,-1.5,-1,70,F,,unknown patient');
    const bad = [
      ['A200,HOSP,2026-13-01,-1,0,60,F,,', 'dxa_date "2026-13-01" is not a date'],
      ['A201,HOSP,2026-03-01,abc,0,60,F,,', 't_score "abc" is not a number'],
      [',HOSP,2026-03-01,-1,0,60,F,,', 'patient_id is empty'],
      ['A202,HOSP,2026-03-01,-1,0,60,X,,', 'sex "X" is not F or M'],
      ['A203,HOSP,2026-03-01,-1', '4 fields, the header has 9'],
      ['A204,HOSP,2026-03-01,,,60,F,,', 'neither t_score nor z_score'],
    ];
    const badLines: [number, string][] = [];
    for (const [row] of bad) rows.splice(40, 0, row!);
    // line numbers after the splices: the bad rows sit at lines 41..46 (1 = header), in reverse order of `bad`
    bad.forEach(([, why], k) => badLines.push([41 + (bad.length - 1 - k), why!]));
    const file = path.join(tmp, 'dxa.csv');
    writeFileSync(file, rows.join('\n') + '\n');
    const r = spawnSync(process.execPath, [CLI, 'outcomes', 'import', '--csv', file, '--data', dataDir], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OSTEOSCREEN_IDENTITY_DEFAULT_ISSUER: 'HOSP' } });
    expect(r.status, r.stderr).toBe(3);
    for (const [line, why] of badLines) expect(r.stderr).toContain(`line ${line}: ${why}`);
    expect(r.stderr).toContain('123 outcomes stored, 6 rows refused');
    expect(r.stderr).toContain('ignored columns: comment');
    // No patient identifier of a refused row is echoed.
    expect(r.stderr).not.toMatch(/A20[0-4]/);
    expect(count()).toBe(123);
  });

  it('takes ORU^R01 over MLLP from a real sender: AA stored; AE / AR for bad messages, nothing stored', async () => {
    const client = new MllpClient({ host: '127.0.0.1', port: hl7Port, timeoutMs: 10_000 });
    await client.connect();
    const before = count();
    for (const d of data.filter((x) => x.scanner === A && Number(x.pid.slice(1)) >= 120)) {
      const ack = readAck(await client.exchange(oru({ pid: d.pid, date: dxaDate(d), t: d.t, z: d.z, sex: d.sex, birth: d.sex === 'M' ? '19810101' : '19590101' }, `C${d.pid}`)));
      expect(ack).toMatchObject({ code: 'AA', controlId: `C${d.pid}` });
    }
    expect(count()).toBe(before + 10);
    const refusals: [string, string, string][] = [
      [oru({ pid: 'Z1', date: '2026-03-01', t: -1 }, 'BAD1', { noPid: true }), 'AE', 'no PID segment'],
      [oru({ pid: 'Z2', date: '2026-03-01' }, 'BAD2'), 'AE', 'no OBX with LOINC 38267-1'],
      [oru({ pid: 'Z3', date: '2026-03-01', t: -1 }, 'BAD3', { type: 'ADT^A01' }), 'AR', 'unsupported message type ADT^A01'],
      [oru({ pid: 'Z4', date: '2026-03-01', t: -1 }, 'BAD4', { processing: 'T' }), 'AR', 'processing id T'],
      [oru({ pid: 'Z5', date: 'notadate', t: -1 }, 'BAD5'), 'AE', 'no DXA date'],
      [oru({ pid: 'Z6', date: '2026-03-01', t: -1 }, 'BAD6').replace('|-1.00|', '|minus one|'), 'AE', 'is not a score'],
      ['this is not HL7', 'AR', 'not an HL7 v2 message'],
    ];
    for (const [msg, code, why] of refusals) {
      const a = readAck(await client.exchange(msg));
      expect('code' in a && a.code, msg.slice(0, 60)).toBe(code);
      expect('text' in a && a.text).toContain(why);
    }
    expect(count()).toBe(before + 10);
    // Too large: AR, and the connection is closed.
    const big = readAck(await client.exchange(oru({ pid: 'Z7', date: '2026-03-01', t: -1 }, 'BIG') + 'NTE|1||' + 'x'.repeat(5000) + '\r'));
    expect(big).toMatchObject({ code: 'AR' });
    expect('text' in big && big.text).toContain('exceeds 4096 bytes');
    client.close();
    expect(count()).toBe(before + 10);
    expect(svc.logs()).not.toMatch(/\bA12\d\b/);
  });

  it('takes outcomes through POST /api/outcomes (a bad object named by index)', async () => {
    const body = data.filter((x) => x.scanner === B).map((d) => ({ patient_id: d.pid, issuer: 'HOSP', dxa_date: dxaDate(d), t_score: d.t, z_score: d.z, age: d.age, sex: d.sex }));
    body.splice(3, 0, { patient_id: 'B99', issuer: 'HOSP', dxa_date: '2026-02-30', t_score: -1, z_score: 0, age: 60, sex: 'F' });
    const r = await svc.api('/api/outcomes', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    const j = await r.json();
    expect(j.stored).toBe(12);
    expect(j.rejected).toEqual([{ index: 3, error: 'dxa_date "2026-02-30" is not a date (YYYY-MM-DD)' }]);
    expect((await svc.api('/api/outcomes', { method: 'POST', body: '{"x":1}' })).status).toBe(400);
    expect((await svc.api('/api/outcomes', { method: 'POST', body: '[]', token: null })).status).toBe(401);
  });

  it('lists unmatched outcomes with the reason and shows the choice between two DXA results', async () => {
    const o = await svc.json('/api/outcomes');
    expect(o.counts).toMatchObject({ outcomes: 145, unmatched: 3, matchedStudies: 142, labelledStudies: 142, studiesWithoutIdentity: 1 });
    const why = Object.fromEntries(o.unmatched.map((u: any) => [`${u.patientId}@${u.dxaDate}`, u.reason]));
    expect(why['X999@2026-03-10']).toBe('no screened study of this patient (identifier and issuer)');
    expect(why[`A7@${iso(Date.parse(data[7]!.studyDate) + 400 * DAY)}`]).toBe("the patient's nearest screened study is 400 days before this DXA (window ± 180 days)");
    expect(why[`A5@${iso(Date.parse(data[5]!.studyDate) + 100 * DAY)}`]).toBe('another DXA of this patient is nearer to each of its screened studies in the window');
    const m5 = o.matches.find((m: any) => m.jobId === data[5]!.jobId);
    expect(m5).toMatchObject({ dxaDate: dxaDate(data[5]!), days: -10, label: data[5]!.label });
    expect(m5.choice).toContain('nearest of 2 DXA results in the window');
    // A man of 45 is labelled by his Z-score, not by his (contradicting) T-score.
    expect(o.matches.find((m: any) => m.jobId === data[10]!.jobId)).toMatchObject({ rule: 'z-score', label: data[10]!.label });
  });

  it('GET /api/performance equals R pROC on the same pairs (AUC, DeLong CI, sensitivity, specificity at the cut-off: 1e-9)', async () => {
    const groups = await svc.json<any[]>('/api/performance');
    expect(groups.map((g) => [g.scanner, g.modelVersion])).toEqual([[B, model.version], [A, model.version]]);
    for (const scanner of [A, B]) {
      const g = groups.find((x) => x.scanner === scanner)!;
      const e = expected[scanner]!;
      expect(g).toMatchObject({ n: e.n, nAbnormal: e.nAbnormal, cutoff: model.cutoff });
      expect(maxAbsDiff([g.aucCi[0], g.auc, g.aucCi[1]], e.r.ci!)).toBeLessThan(1e-9);
      expect(maxAbsDiff([g.sensitivity, g.specificity, g.ppv, g.npv], e.r.at!)).toBeLessThan(1e-9);
      expect(g.sensitivityCi[0]).toBeLessThan(g.sensitivity);
      expect(g.windows.length).toBeGreaterThan(0);
    }
    const a = groups.find((x) => x.scanner === A)!;
    expect(a.auc).toBeGreaterThan(0.7);
    expect(a.hosmerLemeshow.df).toBe(8);
    const metrics = await (await svc.api('/metrics', { token: null })).text();
    expect(metrics).toContain(`osteoscreen_performance_auc{model_version="${model.version}",scanner="${A}"} ${a.auc}`);
    expect(metrics).toMatch(/osteoscreen_outcomes\{state="unmatched"\} 3/);
    expect(metrics).toMatch(/osteoscreen_hl7_in_messages_total\{answer="AA"\} 10/);
    const withSvg = await svc.json<any[]>('/api/performance?svg=true');
    expect(withSvg[1].rocSvg).toContain('<svg');
  });

  it('proposes a labelled cut-off for scanner A only (approval refused for another hash); calibrate --cutoff-only on its files gives the proposed model', async () => {
    const p = await svc.json('/api/performance/proposals');
    const a = p.scanners.find((s: any) => s.scanner === A);
    const b = p.scanners.find((s: any) => s.scanner === B);
    expect(a.state).toBe('proposal');
    expect(b).toMatchObject({ state: 'collecting', labelled: 12 });
    const prop = a.proposal;
    expect(prop.n).toBe(130);
    expect(prop.current.cutoff).toBe(model.cutoff);
    expect(prop.proposed.sensitivity.ci.length).toBe(2);
    const id = scannerId(A);
    const wrong = await svc.api(`/api/performance/${id}/approve`, { method: 'POST', body: JSON.stringify({ expectHash: 'sha256:0000' }) });
    expect(wrong.status).toBe(409);
    expect((await wrong.json()).error).toBe('proposal-changed');
    const features = await (await svc.api(`/api/performance/${id}/features.csv`)).text();
    const labels = await (await svc.api(`/api/performance/${id}/labels.csv`)).text();
    // The research path on the same two files: the model file the approval must write (next test, in Chromium).
    const fdir = mkdtempSync(path.join(tmp, 'research-'));
    writeFileSync(path.join(fdir, prop.files.features.name), features);
    writeFileSync(path.join(fdir, prop.files.labels.name), labels);
    research = path.join(fdir, 'model.json');
    const r = spawnSync(process.execPath, [CLI, 'calibrate', '--model', PAPER, '--features', path.join(fdir, prop.files.features.name), '--labels', path.join(fdir, prop.files.labels.name),
      '--cutoff-only', '--method', 'youden', '--scanner', A, '--version', prop.proposed.model.version, '--date', prop.date, '--out', research], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(loadModel(research).hash).toBe(prop.proposed.model.hash);
    proposed = prop.proposed.model;
  });

  it.skipIf(skipWithout(existsSync(CHROMIUM), CHROMIUM, 'Debian package chromium'))('the Performance tab in Chromium: charts, unmatched DXA results, approval of the proposal (audit-logged, the research path\'s file)', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      page.on('dialog', (d) => void d.accept());
      await page.goto(`http://127.0.0.1:${svc.httpPort}/`);
      await page.fill('#token', svc.token);
      await page.click('#login-form button[type=submit]');
      await page.click('button[data-tab=performance]');
      const card = page.locator(`#performance .perf-card[data-scanner-id="${scannerId(A)}"]`);
      await card.waitFor();
      expect(await card.locator('img').count()).toBe(2); // ROC curve and calibration plot
      expect(await card.locator('[data-metric=auc]').textContent()).toMatch(/^0\.\d{3} \(0\.\d{3}–/);
      const reasons = await page.locator('#unmatched tbody td.reason').allTextContents();
      expect(reasons.sort()).toEqual([
        'another DXA of this patient is nearer to each of its screened studies in the window',
        'no screened study of this patient (identifier and issuer)',
        "the patient's nearest screened study is 400 days before this DXA (window ± 180 days)",
      ]);
      const choices = await page.locator('#dxa-choices tbody tr').allTextContents();
      expect(choices).toHaveLength(1);
      expect(choices[0]).toContain('nearest of 2 DXA results in the window');
      const prop = page.locator(`#performance-proposals [data-proposal-scanner-id="${scannerId(A)}"]`);
      expect(await prop.getAttribute('data-state')).toBe('proposal');
      expect(await page.locator(`#performance-proposals [data-proposal-scanner-id="${scannerId(B)}"]`).getAttribute('data-state')).toBe('collecting');
      await prop.locator('button[data-action=performance-approve]').click();
      await page.waitForSelector('#message:text("Labelled cut-off approved")');
      await page.waitForSelector(`#performance-proposals [data-proposal-scanner-id="${scannerId(A)}"][data-state=approved]`);
    } finally {
      await browser.close();
    }
    // The approval is the scanner's model now (calibration flow), written byte for byte as the research path wrote it.
    const cal = await svc.json('/api/calibration?histograms=false');
    const active = cal.scanners.find((s: any) => s.scanner === A).active;
    expect(active).toMatchObject({ source: 'scanner-calibration', version: proposed!.version, hash: proposed!.hash });
    expect(readFileSync(active.file, 'utf8')).toBe(readFileSync(research!, 'utf8'));
    const audit = await svc.json<any[]>('/api/audit');
    expect(audit.find((x) => x.action === 'calibration-approve-labelled')).toMatchObject({ target: A, detail: { labelled: 130, model: { hash: proposed!.hash } } });
    const again = await svc.json('/api/performance/proposals');
    expect(again.scanners.find((s: any) => s.scanner === A).state).toBe('approved');
  });

  it('loses nothing on a restart', async () => {
    const before = await svc.json('/api/outcomes');
    await svc.stop();
    svc = await startService({ dataDir, env: env() });
    const after = await svc.json('/api/outcomes');
    expect(after.counts).toEqual(before.counts);
  });

  it('one phantom study through DICOM: the pipeline records its identity and MRI date, and a DXA of its patient labels it', async () => {
    const out = path.join(tmp, 'phantom');
    const g = spawnSync(process.execPath, [CLI, 'phantom', '--out', out, '--seed', '7'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    expect(g.status, g.stderr).toBe(0);
    const files = dcmFiles(out);
    const sent = storescu(svc.dicomPort, files);
    expect(sent.status, sent.out).toBe(0);
    const st = await waitFor(async () => {
      const all = await svc.json<any[]>('/api/studies');
      return all.find((x) => ['done', 'not-assessable', 'failed'].includes(x.state));
    }, 'the phantom study to be processed', 300_000, 250);
    expect(st, JSON.stringify(st)).toMatchObject({ state: 'done', kind: 'scored' });
    const o = await waitFor(async () => {
      const j = await svc.json('/api/outcomes');
      return j.counts.screenedStudies === 144 ? j : undefined;
    }, 'the phantom study recorded as screened', 30_000);
    expect(o.counts.studiesWithoutIdentity).toBe(1);
    const studyDate = String(st.studyDate ?? '').replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');
    expect(studyDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const post = await svc.api('/api/outcomes', { method: 'POST', body: JSON.stringify([{ patient_id: 'PH7-0001', issuer: '', dxa_date: studyDate, t_score: -2.6, z_score: -1.9, age: 70, sex: 'F' }]) });
    expect((await post.json()).stored).toBe(1);
    const m = (await svc.json('/api/outcomes')).matches.find((x: any) => x.studyInstanceUid === st.studyInstanceUid);
    expect(m).toMatchObject({ dxaDate: studyDate, days: 0, label: 1, rule: 't-score', modelVersion: model.version });
  });
});
