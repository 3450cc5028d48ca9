import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateCommand, cohortCommand, evaluateCommand, scoreCommand, trainCommand } from '../../src/model/commands.js';
import { formatFeatureTable, labelsCsv, loadModel, parseCsvForTest, syntheticCohort } from './helpers.js';
import { mean, sd } from '../../src/model/stats/misc.js';
import { UsageError } from '../../src/common/command.js';
import { skipWithout } from '../helpers/tools.js';

const PAPER = join(import.meta.dirname, '../../models/paper-t1t2.json');

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'osteo-cmd-'));
  const c = syntheticCohort({ seed: 21 });
  const ext = syntheticCohort({ seed: 22, n: 35, nAbnormal: 17, idPrefix: 'EXT' });
  const p = (f: string) => join(dir, f);
  writeFileSync(p('f.csv'), formatFeatureTable(c.features));
  writeFileSync(p('f2.csv'), formatFeatureTable(c.reader2));
  writeFileSync(p('l.csv'), labelsCsv(c.labels));
  writeFileSync(p('ext.csv'), formatFeatureTable(ext.features));
  writeFileSync(p('extl.csv'), labelsCsv(ext.labels));
  return { dir, p, c, ext };
}

describe('osteoscreen train / evaluate / calibrate / score (commands run in-process)', () => {
  const fx = fixture();
  const { p } = fx;

  it('train writes model.json (loadable), metrics.json with the contract keys and a self-contained HTML report', async () => {
    const code = await trainCommand.run(['--features', p('f.csv'), '--labels', p('l.csv'), '--reader2', p('f2.csv'), '--out', p('model.json'), '--report', p('rep'), '--seed', '7', '--name', 'synthetic', '--version', '1.2.3']);
    expect(code).toBe(0);
    const m = loadModel(p('model.json'));
    expect(m.name).toBe('synthetic');
    expect(m.version).toBe('1.2.3');
    expect(m.provenance.trainingN).toBe(112);
    const metrics = JSON.parse(readFileSync(p('rep/metrics.json'), 'utf8'));
    for (const cohort of ['training', 'validation'])
      for (const model of ['combined', 't1', 't2'])
        for (const key of ['n', 'auc', 'auc_ci_lower', 'auc_ci_upper', 'cutoff', 'sensitivity', 'specificity', 'accuracy', 'hosmer_lemeshow_p'])
          expect(typeof metrics[cohort][model][key], `${cohort}.${model}.${key}`).toBe('number');
    expect(metrics.training.combined.n + metrics.validation.combined.n).toBe(160);
    for (const model of ['combined', 't1', 't2']) {
      expect(typeof metrics.models[model].intercept).toBe('number');
      expect(Object.keys(metrics.models[model].coefficients).length).toBeGreaterThan(0);
    }
    expect(metrics.models.combined.coefficients).toEqual(Object.fromEntries(m.terms.map((t) => [`${t.sequence}_${t.feature}`, t.coefficient])));
    expect(metrics.labels).toMatchObject({ abnormal: 86, normal: 74 });
    expect(metrics.features.low_icc).toBe(4);
    expect(metrics.hosmer_lemeshow_method).toMatch(/logistic recalibration/);
    const html = readFileSync(p('rep/report.html'), 'utf8');
    for (const t of ['Table 2.', 'Table 3.', 'Table 5.', 'Table 4.', 'LASSO coefficient path', 'Cross-validation', 'ROC — training', 'Calibration — validation', 'Decision curve — validation', 'Hosmer-Lemeshow'])
      expect(html, t).toContain(t);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(10);
    // self-contained: no scripts, stylesheets, images or fonts from anywhere
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(http|src=|href=/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);
  });

  it('evaluate on an external cohort writes metrics.external for the combined and single-sequence models', async () => {
    const code = await evaluateCommand.run(['--model', p('model.json'), '--features', p('ext.csv'), '--labels', p('extl.csv'), '--out', p('ext-metrics.json'), '--report', p('ext-rep')]);
    expect(code).toBe(0);
    const mt = JSON.parse(readFileSync(p('ext-metrics.json'), 'utf8'));
    for (const model of ['combined', 't1', 't2']) {
      expect(mt.external[model].n).toBe(35);
      expect(mt.external[model].auc).toBeGreaterThan(0);
      expect(mt.external[model].hosmer_lemeshow_method).toBe('logistic');
    }
    expect(mt.external.delong.combined_vs_t1.p).toBeGreaterThan(0);
    expect(readFileSync(p('ext-rep/report.html'), 'utf8')).toContain('ROC — external');
  });

  it('calibrate keeps coefficients, learns means/SDs (+ Youden cut-off with labels), marks calibrated; --placeholder stays uncalibrated', async () => {
    const paper = loadModel(PAPER);
    expect(await calibrateCommand.run(['--model', PAPER, '--features', p('f.csv'), '--out', p('site.json')])).toBe(0);
    const site = loadModel(p('site.json'));
    expect(site.calibrated).toBe(true);
    expect(site.normalisation.source).toBe('calibration');
    expect(site.normalisation.n).toBe(160);
    expect(site.terms.map((t) => t.coefficient)).toEqual(paper.terms.map((t) => t.coefficient));
    expect(site.intercept).toBe(paper.intercept);
    expect(site.cutoff).toBe(paper.cutoff);
    for (const t of site.terms) {
      const j = fx.c.features.columns.indexOf(`${t.sequence}_${t.feature}`);
      const v = fx.c.features.values.map((r) => r[j]!);
      expect(t.mean).toBeCloseTo(mean(v), 9);
      expect(t.sd).toBeCloseTo(sd(v), 9);
      expect(t.basis).toBeUndefined();
    }
    expect(await calibrateCommand.run(['--model', PAPER, '--features', p('f.csv'), '--labels', p('l.csv'), '--out', p('site2.json')])).toBe(0);
    const site2 = loadModel(p('site2.json'));
    expect(site2.cutoff).not.toBe(paper.cutoff);
    expect(site2.provenance.cutoffs?.calibration).toBe(site2.cutoff);
    expect(site2.probability?.method).toBe('logistic');
    expect(await calibrateCommand.run(['--model', PAPER, '--features', p('f.csv'), '--placeholder', '--out', p('ph.json')])).toBe(0);
    const ph = loadModel(p('ph.json'));
    expect(ph.calibrated).toBe(false);
    expect(ph.normalisation.source).toBe('placeholder');
    expect(ph.terms.every((t) => /estimated from 160 studies/.test(t.basis ?? ''))).toBe(true);
    // a table without a model term is refused with the column named
    writeFileSync(p('few.csv'), 'id,T1_original_shape_VoxelVolume\na,1\n');
    await expect(calibrateCommand.run(['--model', PAPER, '--features', p('few.csv'), '--out', p('x.json')])).rejects.toThrow(/only 0 studies have every model term/);
    // --rehash re-validates a hand-edited file
    const edited = JSON.parse(readFileSync(p('site.json'), 'utf8'));
    edited.description = 'edited by hand';
    writeFileSync(p('edited.json'), JSON.stringify(edited));
    expect(() => loadModel(p('edited.json'))).toThrow(/hash mismatch/);
    expect(await calibrateCommand.run(['--model', p('edited.json'), '--rehash', '--out', p('edited.json')])).toBe(0);
    expect(loadModel(p('edited.json')).description).toBe('edited by hand');
  });

  it('calibrate --robust: median and MAD x 1.4826 per term, observed range without gross outliers; one wild study moves neither', async () => {
    const cols = fx.c.features.columns;
    const values = fx.c.features.values.map((r) => [...r]);
    // One study with every term 45 SDs off (as a new scanner would give).
    const wild = values[0]!.map((v, j) => {
      const col = values.map((r) => r[j]!);
      return v === null ? null : v + 45 * sd(col);
    });
    values[0] = wild;
    writeFileSync(p('wild.csv'), formatFeatureTable({ ids: fx.c.features.ids, columns: cols, values }));
    expect(await calibrateCommand.run(['--model', PAPER, '--features', p('wild.csv'), '--robust', '--scanner', 'ACME / M1 / S1', '--date', '2026-12-01T00:00:00.000Z', '--out', p('robust.json')])).toBe(0);
    expect(await calibrateCommand.run(['--model', PAPER, '--features', p('wild.csv'), '--out', p('meansd.json')])).toBe(0);
    const robust = loadModel(p('robust.json'));
    const plain = loadModel(p('meansd.json'));
    expect(robust.normalisation).toMatchObject({ statistics: 'median-mad', scanner: 'ACME / M1 / S1', date: '2026-12-01T00:00:00.000Z' });
    expect(plain.normalisation.statistics).toBe('mean-sd');
    const med = (a: number[]) => {
      const b = [...a].sort((x, y) => x - y);
      return b.length % 2 ? b[(b.length - 1) / 2]! : (b[b.length / 2 - 1]! + b[b.length / 2]!) / 2;
    };
    for (const t of robust.terms) {
      const j = cols.indexOf(`${t.sequence}_${t.feature}`);
      const v = values.map((r) => r[j]!);
      const clean = fx.c.features.values.map((r) => r[j]!);
      const m = med(v);
      expect(t.mean).toBe(m);
      expect(t.sd).toBeCloseTo(1.4826 * med(v.map((x) => Math.abs(x - m))), 12);
      // The wild study barely moves the robust estimates (under 0.05 SD) but drags the mean and inflates the SD.
      expect(Math.abs(t.mean - med(clean)) / sd(clean)).toBeLessThan(0.05);
      const pt = plain.terms.find((x) => x.sequence === t.sequence && x.feature === t.feature)!;
      expect(Math.abs(pt.mean - mean(clean)) / sd(clean)).toBeGreaterThan(0.2);
      expect(pt.sd / sd(clean)).toBeGreaterThan(2);
      // The observed range leaves the wild value out (beyond 5 robust SDs); mean-sd keeps the raw range.
      expect(t.observed!.max).toBe(Math.max(...clean.filter((_x, i) => i !== 0)));
      expect(pt.observed!.max).toBe(Math.max(...v));
    }
    // Same input and date: the same model, hash included.
    expect(await calibrateCommand.run(['--model', PAPER, '--features', p('wild.csv'), '--robust', '--scanner', 'ACME / M1 / S1', '--date', '2026-12-01T00:00:00.000Z', '--out', p('robust2.json')])).toBe(0);
    expect(loadModel(p('robust2.json')).hash).toBe(robust.hash);
    // Scoring the cohort with it: the wild study gets no flag, with the term and its z; the others are scored.
    expect(await scoreCommand.run(['--model', p('robust.json'), '--features', p('wild.csv'), '--out', p('wild-scores.csv')])).toBe(0);
    const out = parseCsvForTest(readFileSync(p('wild-scores.csv'), 'utf8'));
    const [h, ...rows] = out;
    const flag = h!.indexOf('flag');
    const reason = h!.indexOf('reason');
    expect(rows[0]![flag]).toBe('suppressed');
    expect(rows[0]![reason]).toMatch(/z = 4\d: outside the model's calibrated range \(\|z\| > 4\)/);
    expect(rows.slice(1).filter((r) => r[flag] === 'true' || r[flag] === 'false').length).toBeGreaterThan(150);
    // A stricter limit suppresses more.
    expect(await scoreCommand.run(['--model', p('robust.json'), '--features', p('wild.csv'), '--max-abs-z', '1', '--out', p('wild-strict.csv')])).toBe(0);
    const strict = parseCsvForTest(readFileSync(p('wild-strict.csv'), 'utf8')).slice(1);
    expect(strict.filter((r) => r[flag] === 'suppressed').length).toBeGreaterThan(rows.filter((r) => r[flag] === 'suppressed').length);
  });

  it('score writes one row per study: flag = radscore > cutoff; a missing term -> not assessable with reason', async () => {
    const t = fx.c.features;
    const rows = formatFeatureTable(t).trim().split('\n');
    const col = t.columns.indexOf('T2_log-sigma-4-0-mm-3D_firstorder_Median') + 1;
    const broken = rows[1]!.split(',');
    broken[col] = 'NaN';
    rows[1] = broken.join(',');
    writeFileSync(p('score-in.csv'), rows.join('\n') + '\n');
    expect(await scoreCommand.run(['--model', p('site.json'), '--features', p('score-in.csv'), '--out', p('scores.csv')])).toBe(0);
    const out = parseCsvForTest(readFileSync(p('scores.csv'), 'utf8'));
    expect(out[0]).toEqual(['id', 'assessable', 'radscore', 'cutoff', 'flag', 'calibrated', 'reason', 'model', 'model_hash']);
    expect(out).toHaveLength(161);
    expect(out[1]!.slice(0, 2)).toEqual([t.ids[0], 'false']);
    expect(out[1]![6]).toContain('T2 log-sigma-4-0-mm-3D_firstorder_Median');
    for (const r of out.slice(2)) {
      expect(r[1]).toBe('true');
      expect(r[4]).toBe(String(Number(r[2]) > Number(r[3])));
    }
    // --terms adds z and contribution per term; they add up to the radscore
    expect(await scoreCommand.run(['--model', p('site.json'), '--features', p('score-in.csv'), '--out', p('scores-t.csv'), '--terms'])).toBe(0);
    const site = loadModel(p('site.json'));
    const outT = parseCsvForTest(readFileSync(p('scores-t.csv'), 'utf8'));
    expect(outT[0]!.length).toBe(9 + 2 * site.terms.length);
    expect(outT[1]!.slice(9).every((v) => v === '')).toBe(true);
    const r2 = outT[2]!;
    const contrib = site.terms.reduce((acc, _t, i) => acc + Number(r2[10 + 2 * i]), 0);
    expect(site.intercept + contrib).toBeCloseTo(Number(r2[2]), 10);
    // uncalibrated model + --require-calibrated: flag suppressed
    expect(await scoreCommand.run(['--model', PAPER, '--features', p('f.csv'), '--out', p('s2.csv'), '--require-calibrated'])).toBe(0);
    const out2 = parseCsvForTest(readFileSync(p('s2.csv'), 'utf8'));
    expect(out2.slice(1).every((r) => r[4] === 'suppressed' && r[5] === 'false')).toBe(true);
  });

  it('usage errors are reported as UsageError; cohort stays a stub for the lead', async () => {
    await expect(trainCommand.run(['--features', p('f.csv')])).rejects.toThrow(UsageError);
    await expect(trainCommand.run(['--features', p('f.csv'), '--labels', p('l.csv'), '--out', p('m.json'), '--report', p('r'), '--lambda-rule', 'max'])).rejects.toThrow(/lambda-rule/);
    await expect(scoreCommand.run(['--model', PAPER, '--bogus'])).rejects.toThrow(UsageError);
    expect(cohortCommand.name).toBe('cohort');
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((b) => existsSync(b)) ?? '';
  it.skipIf(skipWithout(chromium !== '', 'chromium', 'Debian package chromium'))('the report renders in headless Chromium', () => {
    const png = p('report.png');
    const r = spawnSync(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--window-size=1400,3000', `--screenshot=${png}`, `file://${p('rep/report.html')}`],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(png).size).toBeGreaterThan(100_000);
    const dom = execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--dump-dom', `file://${p('rep/report.html')}`], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
    expect((dom.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(10);
  });
});
