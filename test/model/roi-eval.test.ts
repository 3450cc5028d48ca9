import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/common/csv.js';
import { loadModel } from '../../src/model/load.js';
import { roiSpecOf } from '../../src/model/extraction.js';
import { iccA1 } from '../../src/model/stats/icc.js';
import { findCases } from '../../src/segmentation/real-eval.js';
import { compareRois, expertRoi } from '../../src/model/roi-eval.js';
import { bodiesFromLevelMap, buildRoi, DEFAULT_ROI_SPEC } from '../../src/segmentation/roi.js';
import { loadSeries } from '../../src/segmentation/io.js';
import { readNiftiLabelMap } from '../../src/volume/nifti.js';
import type { LabelMap } from '../../src/volume/types.js';
import { SHARED_DIR } from '../helpers/shared.js';
import { skipWithout } from '../helpers/tools.js';
import { HAVE_R, runR } from '../model/rscript.js';
import { R_ICC_A1 } from '../model/icc-ref.js';

const REAL = path.join(SHARED_DIR, 'real-lumbar-dev');
// held-out cases (the segmentation model was trained on case02, case08, case13, case19)
const CASES = ['case04', 'case12', 'case17'];

/** A box-shaped "body" with label `l` spanning slices k0..k1 (inclusive), rows j0..j1, columns i0..i1. */
function boxes(dims: [number, number, number], bodies: { l: number; k: [number, number]; j: [number, number]; i: [number, number] }[]): LabelMap {
  const [nx, ny] = dims;
  const data = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (const b of bodies)
    for (let k = b.k[0]; k <= b.k[1]; k++)
      for (let j = b.j[0]; j <= b.j[1]; j++) for (let i = b.i[0]; i <= b.i[1]; i++) data[i + j * nx + k * nx * ny] = b.l;
  return { dims, spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data };
}

describe('expert ROI by the analysis rule', () => {
  it('mid slice = the slice through the centroid; three slices eroded in-plane; per-level comparison', () => {
    const dims: [number, number, number] = [20, 60, 12];
    const mk = (shift: number) =>
      boxes(dims, [1, 2, 3, 4].map((l) => ({ l, k: [2 + shift, 8 + shift] as [number, number], j: [2 + 14 * (l - 1), 12 + 14 * (l - 1)] as [number, number], i: [2, 17] as [number, number] })));
    const truth = mk(0);
    const bodies = bodiesFromLevelMap(truth);
    expect(bodies.map((b) => [b.level, b.midSlice])).toEqual([['L1', 5], ['L2', 5], ['L3', 5], ['L4', 5]]);
    const ex = expertRoi(truth, DEFAULT_ROI_SPEC);
    expect(ex.problems).toEqual([]);
    // 1.5 mm erosion of a 16 x 11 box with 1 mm pixels: 1 pixel off each edge -> 14 x 9, on 3 slices
    expect(ex.voxels).toEqual({ L1: 14 * 9 * 3, L2: 14 * 9 * 3, L3: 14 * 9 * 3, L4: 14 * 9 * 3 });
    const same = compareRois(ex.roi, ex.roi, ex.mids, ex.mids);
    expect(same.dice).toEqual({ L1: 1, L2: 1, L3: 1, L4: 1 });
    // a body one slice off: the ROI shares 2 of its 3 slices
    const other = expertRoi(mk(1), DEFAULT_ROI_SPEC);
    const c = compareRois(ex.roi, other.roi, ex.mids, other.mids);
    expect(c.autoMid.L1).toBe(6);
    expect(c.dice.L1).toBeCloseTo(2 / 3, 12);
    expect(c.expertOnly).toBe(4 * 14 * 9);
    expect(c.autoOnly).toBe(4 * 14 * 9);
    expect(compareRois(ex.roi, null, ex.mids, {}).dice.L1).toBe(0);
  });
});

describe('osteoscreen roi-eval usage', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/cli.js', 'roi-eval', ...args], { encoding: 'utf8' });
  it('--help documents the contract; bad usage exits 2 with the reason', () => {
    const h = cli('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^Usage: osteoscreen roi-eval --cases DIR \[--out DIR\] \[--features model\|all\]/);
    expect(h.stdout).toMatch(/ICC\(A,1\)/);
    const none = cli();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/give --cases DIR or --phantom N/);
    const bad = cli('--cases', REAL, '--features', 'some');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--features expects model or all, got "some"/);
  });
});

const R = describe.skipIf(skipWithout(HAVE_R, 'Rscript', 'Debian packages r-base-core r-cran-glmnet r-cran-proc'));

R('osteoscreen roi-eval on held-out real dev cases', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'osteo-roieval-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints the agreement table, writes the CSV, overlays and JSON; its ICCs equal the R reference on the same table', { timeout: 180_000 }, async () => {
    const out = path.join(tmp, 'out');
    const r = spawnSync(process.execPath, ['dist/cli.js', 'roi-eval', '--cases', REAL, '--only', CASES.join(','), '--out', out, '--workers', '2'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/roi-eval: 3 cases/);
    expect(r.status).toBe(0);
    for (const c of CASES) expect(r.stdout).toMatch(new RegExp(`^${c} +T2 assessable`, 'm'));
    expect(r.stdout).toMatch(/== agreement, automatic vs expert ROI: all cases, expert masks/);
    expect(r.stdout).toMatch(/^T2 log-sigma-4-0-mm-3D_firstorder_Median +n +3 +ICC\(A,1\) /m);
    expect(r.stdout).toMatch(/^T2 partial radscore T2 +n +3 /m);

    const model = loadModel(path.resolve('models/paper-t1t2.json'));
    const terms = model.terms.filter((t) => t.sequence === 'T2').map((t) => t.feature);
    const rows = parseCsv(readFileSync(path.join(out, 'cases.csv'), 'utf8')).filter((x) => x.length > 1);
    const head = rows[0]!;
    const body = rows.slice(1);
    expect(body.map((x) => x[0])).toEqual(CASES);
    const col = (name: string) => {
      const k = head.indexOf(name);
      expect(k, name).toBeGreaterThanOrEqual(0);
      return body.map((x) => Number(x[k]));
    };

    // the expert ROI is the model's rule applied to the expert mask (recomputed here from the files)
    const spec = roiSpecOf(model);
    const c0 = findCases(REAL).find((c) => c.name === CASES[0])!;
    const vol = await loadSeries(c0.series);
    const mask = readNiftiLabelMap(c0.mask);
    const truth: LabelMap = { dims: [...vol.dims], spacing: [...vol.spacing], origin: [...vol.origin], direction: [...vol.direction], data: mask.data };
    const mine = buildRoi(truth, bodiesFromLevelMap(truth), spec);
    for (const l of ['L1', 'L2', 'L3', 'L4'] as const) expect(col(`${l}_roi_voxels_expert`)[0]).toBe(mine.voxels[l]);

    // ICC, CI of every model term: the command's JSON against R (aov mean squares + McGraw-Wong CI) on the CSV's table
    const json = JSON.parse(readFileSync(path.join(out, 'agreement.json'), 'utf8'));
    const table = json.tables[0].rows as { feature: string; n: number; icc: { icc: number; lower: number; upper: number }; ba: { bias: number } }[];
    const data: Record<string, number[][]> = {};
    terms.forEach((t, i) => (data[`t${i}`] = body.map((_, k) => [col(`T2:${t}:expert`)[k]!, col(`T2:${t}:auto`)[k]!])));
    const ref = runR(terms.map((_, i) => `out("t${i}", iccA1(D$t${i}))`).join('\n').replace(/^/, `${R_ICC_A1}\n`), data);
    terms.forEach((t, i) => {
      const row = table.find((x) => x.feature === t)!;
      expect(row.n).toBe(3);
      const [icc, lo, up] = ref[`t${i}`]!;
      expect(Math.abs(row.icc.icc - icc!), t).toBeLessThan(1e-8);
      expect(Math.abs(row.icc.lower - lo!), t).toBeLessThan(1e-8);
      expect(Math.abs(row.icc.upper - up!), t).toBeLessThan(1e-8);
      // bias is the mean of auto - expert
      const d = data[`t${i}`]!.map(([e, a]) => a! - e!);
      expect(row.ba.bias).toBeCloseTo(d.reduce((s, x) => s + x, 0) / d.length, 10);
    });
    // partial radscore row, from the CSV's partial radscores
    const pr = table.find((x) => x.feature === 'partial radscore T2')!;
    expect(pr.icc.icc).toBeCloseTo(iccA1(body.map((_, k) => [col('partial_radscore:expert')[k]!, col('partial_radscore:auto')[k]!])).icc, 10);

    expect(readFileSync(path.join(out, 'agreement.md'), 'utf8')).toMatch(/\| T2 \| original_glszm_SmallAreaEmphasis \(coef 0\.004\) \| 3 \|/);
    for (const c of CASES) {
      const png = readFileSync(path.join(out, `${c}-T2.png`));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    }
  });
});
