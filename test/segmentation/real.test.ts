import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateCase, findCases, formatRow } from '../../src/segmentation/real-eval.js';
import { Segmenter } from '../../src/segmentation/segmenter.js';
import { SHARED_DIR } from '../helpers/shared.js';

// Real sagittal T2 series with expert masks (shared/real-lumbar-dev). The shipped model was trained on
// case02, case08, case13 and case19 only (models/vertebrae-seg.md); these are held-out cases.
const REAL = path.join(SHARED_DIR, 'real-lumbar-dev');
export const HELD_OUT_IN_CI = ['case04', 'case12', 'case16', 'case17', 'case23'];
const TRAINED_ON = ['case02', 'case08', 'case13', 'case19'];

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
});
