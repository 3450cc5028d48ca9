import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { segmentCommand } from '../../src/segmentation/command.js';
import { generateStudy, writePhantomStudies } from '../../src/phantom/index.js';
import { readNifti, readNiftiLabelMap, writeNifti } from '../../src/volume/nifti.js';
import { diceByLabel } from '../../src/segmentation/evaluate.js';

const dir = mkdtempSync(path.join(tmpdir(), 'seg-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const orig = process.stdout.write.bind(process.stdout);
  let out = '';
  (process.stdout as any).write = (s: string | Uint8Array) => {
    out += typeof s === 'string' ? s : Buffer.from(s).toString();
    return true;
  };
  try {
    return { code: await fn(), out };
  } finally {
    (process.stdout as any).write = orig;
  }
}

describe('osteoscreen segment', () => {
  it('writes level and ROI masks on the series grid (RAS sform) and a JSON report', { timeout: 120_000 }, async () => {
    const st = generateStudy({ seed: 777002, index: 0, vendor: 'ge', bone: 'low', roles: ['t1'] });
    const t1 = st.series.find((s) => s.role === 't1')!;
    const g = t1.geometry!;
    const series = path.join(dir, 't1.nii.gz');
    writeNifti(series, { ...g, data: t1.image });
    const out = path.join(dir, 'levels.nii.gz');
    const roi = path.join(dir, 'roi.nii.gz');
    const { code, out: stdout } = await capture(() =>
      segmentCommand.run(['--series', series, '--out', out, '--roi', roi, '--json', '--sequence', 'T1', '--model', 'models/vertebrae-seg.onnx']),
    );
    const rep = JSON.parse(stdout);
    expect(rep.reason).toBeNull();
    expect(code).toBe(0);
    expect(rep.ok).toBe(true);
    expect(rep.levels.map((l: { level: string }) => l.level)).toEqual(expect.arrayContaining(['L1', 'L2', 'L3', 'L4', 'L5', 'S1']));
    for (const l of rep.levels) expect(l.volumeMm3).toBeGreaterThan(0);
    const mask = readNiftiLabelMap(out);
    expect(mask.dims).toEqual(g.dims);
    for (let n = 0; n < 3; n++) {
      expect(mask.spacing[n]).toBeCloseTo(g.spacing[n], 4);
      expect(mask.origin[n]).toBeCloseTo(g.origin[n], 3);
    }
    for (let n = 0; n < 9; n++) expect(mask.direction[n]).toBeCloseTo(g.direction[n], 4);
    const raw = readNifti(out);
    expect(raw.datatype).toBe(2);
    // header: sform_code = 1 (offset 254) and RAS: first sform row = -(LPS x row)
    const hdr = (await import('node:zlib')).gunzipSync(readFileSync(out));
    expect(hdr.readInt16LE(254)).toBe(1);
    expect(hdr.readFloatLE(280 + 12)).toBeCloseTo(-g.origin[0], 2);
    // labels against the phantom truth
    const d = diceByLabel(mask, { ...g, data: t1.levels }, [1, 2, 3, 4]);
    for (const l of [1, 2, 3, 4]) expect(d[l]).toBeGreaterThan(0.85);
    const r = readNiftiLabelMap(roi);
    const values = new Set(r.data);
    expect([...values].sort()).toEqual([0, 1, 2, 3, 4]);
    // every ROI voxel lies inside the body of its level
    for (let v = 0; v < r.data.length; v++) if (r.data[v]) expect(mask.data[v]).toBe(r.data[v]);
  });

  it('rejects a T2 series claimed as T1 with exit code 4 and writes an empty mask', { timeout: 120_000 }, async () => {
    const st = generateStudy({ seed: 777002, index: 1, vendor: 'siemens', bone: 'normal', roles: ['t2'] });
    const t2 = st.series.find((s) => s.role === 't2')!;
    const series = path.join(dir, 't2.nii.gz');
    writeNifti(series, { ...t2.geometry!, data: t2.image });
    const out = path.join(dir, 'levels-t2.nii.gz');
    const { code, out: stdout } = await capture(() => segmentCommand.run(['--series', series, '--out', out, '--json', '--sequence', 'T1', '--model', 'models/vertebrae-seg.onnx']));
    const rep = JSON.parse(stdout);
    expect(code).toBe(4);
    expect(rep.ok).toBe(false);
    expect(rep.reason).toMatch(/not T1-weighted/);
    expect(readNiftiLabelMap(out).data.every((v) => v === 0)).toBe(true);
  });

  it('reads a DICOM series folder: the mask is on the grid of the ground truth (dims, origin, direction) and each level L1-S1 has Dice > 0.85', { timeout: 120_000 }, async () => {
    const root = path.join(dir, 'dicom');
    const [m] = writePhantomStudies({ out: root, seed: 777003, count: 1, vendor: 'philips', bone: 'normal', roles: ['t1'] });
    const s = m.series.find((x) => x.role === 't1')!;
    const out = path.join(dir, 'levels-dicom.nii.gz');
    const { code } = await capture(() => segmentCommand.run(['--series', path.join(root, s.dir), '--out', out, '--sequence', 'T1', '--model', 'models/vertebrae-seg.onnx']));
    expect(code).toBe(0);
    const mask = readNiftiLabelMap(out);
    const truth = readNiftiLabelMap(path.join(root, s.truth.levels!));
    expect(mask.dims).toEqual(truth.dims);
    for (let n = 0; n < 3; n++) expect(mask.origin[n]).toBeCloseTo(truth.origin[n], 3);
    for (let n = 0; n < 9; n++) expect(mask.direction[n]).toBeCloseTo(truth.direction[n], 4);
    const d = diceByLabel(mask, truth, [1, 2, 3, 4, 5, 20]);
    // Measured 2026-12-01 (shipped model): L1 0.900, L2 0.924, L3 0.879, L4 0.885, L5 0.933, S1 0.897.
    for (const l of [1, 2, 3, 4, 5, 20]) expect(d[l], `Dice of label ${l}`).toBeGreaterThan(0.85);
  });

  it('usage errors', async () => {
    await expect(segmentCommand.run(['--out', 'x.nii.gz'])).rejects.toThrow(/--series/);
    await expect(segmentCommand.run(['--series', 'a', '--out', 'b', '--sequence', 'PD'])).rejects.toThrow(/T1 or T2/);
  });
});
