import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { generateStudy, writePhantomStudies, type PhantomSeries, type StudyManifest } from '../../src/phantom/index.js';
import { phantomCommand } from '../../src/phantom/command.js';
import { readNiftiLabelMap } from '../../src/volume/nifti.js';
import { loadSeriesVolume } from '../../src/dicom/volume.js';
import { sameGeometry, indexToPoint } from '../../src/volume/types.js';
import { skipWithout } from '../helpers/tools.js';

function hashSeries(s: PhantomSeries): string {
  const h = createHash('sha1');
  h.update(Buffer.from(s.stored.buffer, s.stored.byteOffset, s.stored.byteLength));
  h.update(Buffer.from(s.levels));
  h.update(Buffer.from(s.tissue));
  return h.digest('hex');
}

function meanWhere(img: Float32Array, mask: Uint8Array, cls: number): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < img.length; i++) if (mask[i] === cls) (s += img[i]!), n++;
  return n ? s / n : NaN;
}

describe('phantom generator (in memory)', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateStudy({ seed: 42, index: 3, roles: ['t1', 't2'], subSamples: 1 });
    const b = generateStudy({ seed: 42, index: 3, roles: ['t1', 't2'], subSamples: 1 });
    const c = generateStudy({ seed: 43, index: 3, roles: ['t1', 't2'], subSamples: 1 });
    expect(a.studyInstanceUID).toBe(b.studyInstanceUID);
    expect(a.series.map(hashSeries)).toEqual(b.series.map(hashSeries));
    expect(a.series.map((s) => s.seriesInstanceUID)).toEqual(b.series.map((s) => s.seriesInstanceUID));
    expect(c.studyInstanceUID).not.toBe(a.studyInstanceUID);
    expect(c.series.map(hashSeries)).not.toEqual(a.series.map(hashSeries));
    // valid UIDs: <= 64 chars, digits and dots, no leading zeros in components
    for (const uid of [a.studyInstanceUID, a.frameOfReferenceUID, ...a.series.flatMap((s) => [s.seriesInstanceUID, ...s.sopInstanceUIDs])]) {
      expect(uid.length).toBeLessThanOrEqual(64);
      expect(uid).toMatch(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/);
    }
  });

  it('varies protocol geometry within the documented ranges and always shows T11-S1', () => {
    const matrices = new Set<number>();
    const slices = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const st = generateStudy({ seed: 5, index: i, roles: ['t1', 't2'], subSamples: 1 });
      for (const s of st.series) {
        const g = s.geometry!;
        const fov = g.spacing[0] * g.dims[0];
        expect(fov).toBeGreaterThanOrEqual(279);
        expect(fov).toBeLessThanOrEqual(381);
        expect(g.spacing[0]).toBeGreaterThanOrEqual(0.6);
        expect(g.spacing[0]).toBeLessThanOrEqual(1.3);
        expect(g.dims[0]).toBeGreaterThanOrEqual(256);
        expect(g.dims[0]).toBeLessThanOrEqual(512);
        expect(g.dims[2]).toBeGreaterThanOrEqual(10);
        expect(g.dims[2]).toBeLessThanOrEqual(15);
        expect(s.sliceThickness).toBeGreaterThanOrEqual(4);
        expect(s.sliceThickness).toBeLessThanOrEqual(5);
        const gap = g.spacing[2] - s.sliceThickness;
        expect(gap).toBeGreaterThan(0.3);
        expect(gap).toBeLessThan(1.1);
        // sagittal: third direction column within 10 degrees of left-right
        expect(Math.abs(g.direction[2])).toBeGreaterThan(Math.cos((10 * Math.PI) / 180));
        for (const lv of ['T11', 'T12', 'L1', 'L2', 'L3', 'L4', 'L5', 'S1'] as const) expect(s.levelsPresent).toContain(lv);
        // L1-L5 and S1 lie entirely inside the field of view (no label on the in-plane border)
        const [nx, ny, nz] = g.dims;
        const onBorder = new Set<number>();
        for (let k = 0; k < nz; k++)
          for (let j = 0; j < ny; j++)
            for (let i = 0; i < nx; i++) {
              if (j !== 0 && j !== ny - 1 && i !== 0 && i !== nx - 1) continue;
              const l = s.levels[i + j * nx + k * nx * ny]!;
              if (l) onBorder.add(l);
            }
        for (const l of [1, 2, 3, 4, 5, 20]) expect(onBorder.has(l), `label ${l} cut by the FOV in study ${i}`).toBe(false);
        matrices.add(g.dims[0]);
        slices.add(g.dims[2]);
      }
      expect(['T1', 'T2']).toContain(st.series[0]!.sequence.contrast);
    }
    expect(matrices.size).toBeGreaterThan(1);
    expect(slices.size).toBeGreaterThan(1);
  });

  it('vertebral bodies have the documented size (from the level label map)', () => {
    const st = generateStudy({ seed: 9, index: 0, roles: ['t2'], subSamples: 1 });
    const s = st.series[0]!;
    const g = s.geometry!;
    for (const label of [1, 2, 3, 4, 5]) {
      // physical extent along the spine (≈ z) and AP (≈ y) of the label's voxels in the mid slice
      const k = Math.floor(g.dims[2] / 2);
      let zmin = Infinity, zmax = -Infinity, ymin = Infinity, ymax = -Infinity;
      const [nx, ny] = g.dims;
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          if (s.levels[i + j * nx + k * nx * ny] !== label) continue;
          const p = indexToPoint(g, i, j, k);
          zmin = Math.min(zmin, p[2]); zmax = Math.max(zmax, p[2]); ymin = Math.min(ymin, p[1]); ymax = Math.max(ymax, p[1]);
        }
      // tilted bodies: the bounding extent is at least the height and at most height + depth * sin(tilt)
      expect(zmax - zmin).toBeGreaterThan(20);
      expect(zmax - zmin).toBeLessThan(48);
      expect(ymax - ymin).toBeGreaterThan(24);
      expect(ymax - ymin).toBeLessThan(50);
    }
  });

  it('low bone mass raises marrow T1 and T2 signal and lowers STIR, same anatomy', () => {
    const ratios = { T1: [] as number[], T2: [] as number[], STIR: [] as number[] };
    for (const seed of [1, 2, 3]) {
      const lo = generateStudy({ seed, bone: 'low', vendor: 'siemens', roles: ['t1', 't2', 'stir'], subSamples: 1 });
      const no = generateStudy({ seed, bone: 'normal', vendor: 'siemens', roles: ['t1', 't2', 'stir'], subSamples: 1 });
      expect(lo.anatomy.marrowFatFraction).toBeGreaterThan(no.anatomy.marrowFatFraction);
      for (const role of ['t1', 't2', 'stir'] as const) {
        const a = lo.series.find((s) => s.role === role)!;
        const b = no.series.find((s) => s.role === role)!;
        // identical anatomy: identical tissue maps
        expect(Buffer.compare(Buffer.from(a.tissue), Buffer.from(b.tissue))).toBe(0);
        // normalise by muscle to cancel scale/bias
        const ra = meanWhere(a.image, a.tissue, 1) / meanWhere(a.image, a.tissue, 7);
        const rb = meanWhere(b.image, b.tissue, 1) / meanWhere(b.image, b.tissue, 7);
        ratios[a.sequence.contrast as 'T1' | 'T2' | 'STIR'].push(ra / rb);
      }
    }
    for (const r of ratios.T1) expect(r).toBeGreaterThan(1.1);
    for (const r of ratios.T2) expect(r).toBeGreaterThan(1.02);
    for (const r of ratios.STIR) expect(r).toBeLessThan(0.95);
  });
});

describe('phantom written to disk', () => {
  let dir: string;
  let manifests: StudyManifest[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'phantom-test-'));
    manifests = writePhantomStudies({ out: dir, seed: 77, count: 2, subSamples: 1, vendor: 'philips' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the documented layout and manifests', () => {
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).toHaveLength(2);
    const m = manifests[0]!;
    expect(existsSync(join(dir, 'study-0001', 'manifest.json'))).toBe(true);
    expect(m.note).toMatch(/not a claim of/i);
    expect(m.series.map((s) => s.role).sort()).toEqual(['axial-t2', 'derived', 'localizer', 'stir', 't1', 't2']);
    expect(m.series.filter((s) => s.expectedSelection).map((s) => s.expectedSelection).sort()).toEqual(['t1', 't2']);
    for (const s of m.series) {
      expect(s.dir).toMatch(/^study-0001\/series-\d+$/);
      expect(s.dir).not.toMatch(/t1|t2|stir|loc|axial|derived/i);
      for (const f of s.files) expect(existsSync(join(dir, f))).toBe(true);
    }
    expect(readdirSync(join(dir, 'study-0001', 'truth')).sort()).toEqual(
      ['axial-t2_levels', 'derived_levels', 'derived_tissue', 'stir_levels', 'stir_tissue', 't1_levels', 't1_tissue', 't2_levels', 't2_tissue'].map((x) => `${x}.nii.gz`),
    );
    expect([0, 1]).toContain(m.label);
    expect(m.label).toBe(m.bone === 'low' ? 1 : 0);
  });

  it('replaces an earlier study folder instead of mixing two studies in it', () => {
    const again = mkdtempSync(join(tmpdir(), 'phantom-rewrite-'));
    try {
      writePhantomStudies({ out: again, seed: 5, count: 1, subSamples: 1, vendor: 'siemens' });
      const before = readdirSync(join(again, 'study-0001')).filter((d) => d.startsWith('series-'));
      const [m] = writePhantomStudies({ out: again, seed: 6, count: 1, subSamples: 1, vendor: 'philips' });
      const after = readdirSync(join(again, 'study-0001')).filter((d) => d.startsWith('series-')).sort();
      expect(after).toEqual(m!.series.map((x) => x.dir.split('/')[1]!).sort());
      expect(before.some((d) => !after.includes(d)), 'vendors number their series differently').toBe(true);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('truth label maps land exactly on the DICOM series and match the in-memory labels', async () => {
    const m = manifests[1]!;
    const st = generateStudy({ seed: 77, index: 1, subSamples: 1, vendor: 'philips' });
    for (const role of ['t1', 't2'] as const) {
      const sm = m.series.find((s) => s.role === role)!;
      const vol = await loadSeriesVolume(sm.files.map((f) => join(dir, f)));
      const lv = readNiftiLabelMap(join(dir, sm.truth.levels!));
      const ti = readNiftiLabelMap(join(dir, sm.truth.tissue!));
      expect(sameGeometry(vol, lv, 1e-4)).toBe(true);
      expect(sameGeometry(vol, ti, 1e-4)).toBe(true);
      const mem = st.series.find((s) => s.role === role)!;
      expect(Buffer.compare(Buffer.from(lv.data), Buffer.from(mem.levels))).toBe(0);
      expect(Buffer.compare(Buffer.from(ti.data), Buffer.from(mem.tissue))).toBe(0);
      // DICOM pixel values (after RescaleSlope) equal the generator's real-valued image
      let maxErr = 0;
      for (let i = 0; i < vol.data.length; i++) maxErr = Math.max(maxErr, Math.abs(vol.data[i]! - mem.image[i]!));
      expect(maxErr).toBe(0);
      expect(mem.rescaleSlope).toBeGreaterThan(1); // philips-like
      const levels = new Set(lv.data);
      for (const l of [1, 2, 3, 4, 5, 11, 12, 20]) expect(levels.has(l)).toBe(true);
      for (const l of levels) expect([0, 1, 2, 3, 4, 5, 10, 11, 12, 20, 21]).toContain(l);
      const tissues = new Set(ti.data);
      for (const t of [0, 1, 2, 3, 4, 7, 8, 9]) expect(tissues.has(t)).toBe(true);
      for (const t of tissues) expect(t).toBeLessThanOrEqual(9);
    }
  });

  const noDciodvfy = skipWithout(!spawnSync('dciodvfy', ['-h'], { encoding: 'utf8' }).error, 'dciodvfy', 'Debian package dicom3tools');
  it.skipIf(noDciodvfy)('classic MR instances validate with dciodvfy (no errors)', () => {
    const m = manifests[0]!;
    for (const s of m.series) {
      const r = spawnSync('dciodvfy', [join(dir, s.files[0]!)], { encoding: 'utf8' });
      const errors = (r.stderr + r.stdout).split('\n').filter((l) => l.startsWith('Error'));
      expect(errors, `${s.role}: ${errors.join('\n')}`).toEqual([]);
    }
  });

  it.skipIf(noDciodvfy)('Enhanced MR instances validate with dciodvfy (no errors)', () => {
    const edir = mkdtempSync(join(tmpdir(), 'phantom-enh-'));
    try {
      const [m] = writePhantomStudies({ out: edir, seed: 78, count: 1, subSamples: 1, enhanced: true });
      for (const s of m!.series) {
        expect(s.files).toHaveLength(1);
        const r = spawnSync('dciodvfy', [join(edir, s.files[0]!)], { encoding: 'utf8' });
        const errors = (r.stderr + r.stdout).split('\n').filter((l) => l.startsWith('Error'));
        expect(errors, `${s.role}: ${errors.join('\n')}`).toEqual([]);
      }
    } finally {
      rmSync(edir, { recursive: true, force: true });
    }
  });

  it('CLI command writes studies and documents itself', async () => {
    expect(phantomCommand.help).toMatch(/NOT a claim of/);
    expect(phantomCommand.help).toMatch(/_levels\.nii\.gz/);
    expect(phantomCommand.help).toMatch(/_tissue\.nii\.gz/);
    const out = mkdtempSync(join(tmpdir(), 'phantom-cli-'));
    try {
      const code = await phantomCommand.run(['--out', out, '--seed', '3', '--count', '1', '--bone', 'low', '--vendor', 'ge', '--roles', 't1,t2', '--fast']);
      expect(code).toBe(0);
      const [m] = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as StudyManifest[];
      expect(m!.bone).toBe('low');
      expect(m!.vendor).toBe('ge');
      expect(m!.series.map((s) => s.role).sort()).toEqual(['t1', 't2']);
      await expect(phantomCommand.run(['--out', out, '--bone', 'weird'])).rejects.toThrow(/--bone/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
