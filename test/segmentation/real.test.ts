import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateCase, findCases, formatRow } from '../../src/segmentation/real-eval.js';
import { Segmenter } from '../../src/segmentation/segmenter.js';
import { SHARED_DIR } from '../helpers/shared.js';
import { mkdirSync, symlinkSync, readdirSync } from 'node:fs';
import { readNiftiLabelMap, writeNifti } from '../../src/volume/nifti.js';

// Real sagittal series with expert masks at two sites: shared/real-lumbar-dev (1.5 T T2, T11-L5 traced) and
// shared/real-lumbar-3t (3 T water images of another vendor, tight field of view, L1-L5 traced). The shipped model
// was trained on the cases in TRAINED_ON only (models/vertebrae-seg.md); the CI cases are held out.
const REAL = path.join(SHARED_DIR, 'real-lumbar-dev');
const REAL_3T = path.join(SHARED_DIR, 'real-lumbar-3t');
export const HELD_OUT_IN_CI = ['case04', 'case12', 'case17', 'case18', 'case23'];
const TRAINED_ON = ['case02', 'case08', 'case13', 'case19'];
export const HELD_OUT_3T_IN_CI = ['case17', 'case20', 'case46'];
// a tight field of view that cuts the vertebra above L1: once refused as 'L1 is cut by the edge' (case28: on a
// lordotic column that vertebra's piece was merged into L1 by its z extent; case51: the network joins it to L1
// through a bridge at the disc, now cut at its waist)
export const HELD_OUT_3T_TOP_CUT_IN_CI = ['case28', 'case51'];
const TRAINED_ON_3T = ['case01', 'case06', 'case11', 'case16', 'case22', 'case27', 'case32', 'case38', 'case43', 'case48'];

describe('real lumbar MRI (held-out dev cases)', () => {
  const cases = findCases(REAL);
  const tmp = mkdtempSync(path.join(tmpdir(), 'osteo-real-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the dev set is there and the CI cases were never trained on', () => {
    expect(cases.length).toBeGreaterThanOrEqual(HELD_OUT_IN_CI.length);
    for (const name of HELD_OUT_IN_CI) {
      expect(cases.map((c) => c.name)).toContain(name);
      expect(TRAINED_ON).not.toContain(name);
    }
  });

  it.each(HELD_OUT_IN_CI)('%s: assessable, Dice L1-L4 >= 0.85, every level right', { timeout: 120_000 }, async (name) => {
    const seg = await Segmenter.load(path.resolve('models/vertebrae-seg.onnx'), { threads: 2 });
    const c = cases.find((x) => x.name === name)!;
    const e = await evaluateCase(c, seg, { sequence: 'T2' });
    console.log(formatRow(e.result));
    expect(e.result.reason).toBeNull();
    expect(e.result.ok).toBe(true);
    expect(e.result.levelsRight).toBe(true);
    expect(e.result.wrongLevels).toEqual([]);
    for (const l of ['L1', 'L2', 'L3', 'L4']) expect(e.result.dice[l]).toBeGreaterThan(0.75);
    expect(e.result.meanDiceL1L4).toBeGreaterThanOrEqual(0.85);
  });

  it.each(HELD_OUT_3T_IN_CI)('3 T %s: assessable, Dice L1-L4 >= 0.85, every level right (tight field of view, S1 at the edge)', { timeout: 120_000 }, async (name) => {
    expect(TRAINED_ON_3T).not.toContain(name);
    const seg = await Segmenter.load(path.resolve('models/vertebrae-seg.onnx'), { threads: 2 });
    const c = findCases(REAL_3T).find((x) => x.name === name)!;
    // a water image (Dixon): neither T1 nor T2, so no contrast claim; segmentation and levels only
    const e = await evaluateCase(c, seg, {});
    console.log(formatRow(e.result));
    expect(e.result.reason).toBeNull();
    expect(e.result.levelsRight).toBe(true);
    expect(e.result.wrongLevels).toEqual([]);
    for (const l of ['L1', 'L2', 'L3', 'L4']) expect(e.result.dice[l]).toBeGreaterThan(0.75);
    expect(e.result.meanDiceL1L4).toBeGreaterThanOrEqual(0.85);
  });

  it.each(HELD_OUT_3T_TOP_CUT_IN_CI)('3 T %s: the cut vertebra above L1 stays apart; assessable, every level right, L1 not cut', { timeout: 120_000 }, async (name) => {
    expect(TRAINED_ON_3T).not.toContain(name);
    const seg = await Segmenter.load(path.resolve('models/vertebrae-seg.onnx'), { threads: 2 });
    const c = findCases(REAL_3T).find((x) => x.name === name)!;
    const e = await evaluateCase(c, seg, {});
    console.log(formatRow(e.result));
    expect(e.result.inView).toEqual({ l1: true, s1: true });
    expect(e.result.reason).toBeNull();
    expect(e.result.levelsRight).toBe(true);
    expect(e.result.meanDiceL1L4).toBeGreaterThanOrEqual(0.85);
  });

  it('segment-eval prints a row per case and the summary, and writes an overlay PNG', { timeout: 120_000 }, () => {
    const out = path.join(tmp, 'eval');
    const r = spawnSync(process.execPath, ['dist/cli.js', 'segment-eval', '--cases', REAL, '--only', HELD_OUT_IN_CI[0], '--out', out, '--debug'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/\[1\/1\] case04/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^case04 +assessable .*levels right/m);
    expect(r.stdout).toMatch(/spinal canal \(CSF\) found/);
    expect(r.stdout).toMatch(/^summary: assessable 1\/1; mean Dice L1-L4 0\.[89]\d\d/m);
    const png = readFileSync(path.join(out, 'case04.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(json.summary).toMatchObject({ cases: 1, assessable: 1, levelsRight: 1 });
    expect(existsSync(path.join(out, 'case12.png'))).toBe(false);
  });

  it('segment-eval: one line per site, wrong-level acceptances counted apart from refusals, exit 1 unless allowed', { timeout: 180_000 }, () => {
    // A second "site" whose only case has its expert levels shifted by one (L1 traced as L2, ...): our right answer
    // then counts as a wrong-level acceptance, as a shifted answer of ours would.
    const site = path.join(tmp, 'shifted-site');
    const src = path.join(REAL_3T, HELD_OUT_3T_IN_CI[0]);
    const dst = path.join(site, HELD_OUT_3T_IN_CI[0]);
    mkdirSync(dst, { recursive: true });
    symlinkSync(path.join(src, 'dicom'), path.join(dst, 'dicom'));
    const maskName = readdirSync(src).find((f) => /vertebrae.*\.nii\.gz$/.test(f))!;
    const mask = readNiftiLabelMap(path.join(src, maskName));
    const shifted = mask.data.map((v) => (v >= 1 && v <= 4 ? v + 1 : 0));
    writeNifti(path.join(dst, maskName), { ...mask, data: shifted });
    const args = ['dist/cli.js', 'segment-eval', '--cases', `${REAL_3T},${site}`, '--only', HELD_OUT_3T_IN_CI[0]];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^site real-lumbar-3t: assessable 1\/1; .*levels correct 1\/1 accepted; wrong-level acceptances 0; refused 0/m);
    expect(r.stdout).toMatch(/^site shifted-site: assessable 1\/1; .*wrong-level acceptances 1; refused 0/m);
    expect(r.stdout).toMatch(/^summary: assessable 2\/2; .*wrong-level acceptances 1; refused 0/m);
    expect(r.stderr).toMatch(/1 case\(s\) accepted with a wrong level/);
    expect(r.status).toBe(1);
    const ok = spawnSync(process.execPath, [...args, '--allow-wrong-levels'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
  });
});
