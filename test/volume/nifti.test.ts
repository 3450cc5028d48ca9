import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeNifti, encodeNifti, readNifti, readNiftiLabelMap, readNiftiVolume, writeNifti, geometryToRasAffine } from '../../src/volume/nifti.js';
import { indexToPoint, sameGeometry, type Geometry, type Mat3 } from '../../src/volume/types.js';
import { OsteoError } from '../../src/common/errors.js';
import { readNrrd, writeNrrd } from '../../src/volume/nrrd.js';
import { generateStudy } from '../../src/phantom/index.js';

function rot(ax: number, ay: number, az: number): Mat3 {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  // Rz * Ry * Rx
  return [
    cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx,
    sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx,
    -sy, cy * sx, cy * cx,
  ];
}

/** A sagittal DICOM-like geometry: rows along +y, columns along -z, slices along -x (right-handed). */
const SAG: Geometry = {
  dims: [13, 11, 7],
  spacing: [0.71875, 0.71875, 5.5],
  origin: [31.25, -140.5, 160.75],
  direction: [0.05, -0.04, -0.99795, 0.99875, -0.0019, 0.0499, -0.0039, -0.9992, 0.0399] as Mat3,
};
// make SAG exactly orthonormal
{
  const d = SAG.direction;
  const c0 = [d[0], d[3], d[6]];
  const n0 = Math.hypot(...c0);
  const a = c0.map((x) => x / n0);
  const c1 = [d[1], d[4], d[7]];
  const p = a[0]! * c1[0]! + a[1]! * c1[1]! + a[2]! * c1[2]!;
  const b0 = c1.map((x, i) => x - p * a[i]!);
  const nb = Math.hypot(...b0);
  const b = b0.map((x) => x / nb);
  const c = [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
  SAG.direction = [a[0]!, b[0]!, c[0]!, a[1]!, b[1]!, c[1]!, a[2]!, b[2]!, c[2]!];
}

function ramp(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37) * 1000 + i * 0.25;
  return a;
}

describe('NIfTI-1 read/write', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nifti-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips float32 volumes (.nii and .nii.gz) with oblique sagittal geometry', () => {
    const data = ramp(13 * 11 * 7);
    for (const name of ['v.nii', 'v.nii.gz']) {
      const p = join(dir, name);
      writeNifti(p, { ...SAG, data });
      const v = readNiftiVolume(p);
      expect(sameGeometry(v, SAG, 1e-4)).toBe(true);
      expect(Buffer.compare(Buffer.from(v.data.buffer), Buffer.from(data.buffer))).toBe(0);
    }
    // gzip really used for .gz
    expect(readFileSync(join(dir, 'v.nii.gz'))[0]).toBe(0x1f);
    expect(readFileSync(join(dir, 'v.nii')).readInt32LE(0)).toBe(348);
  });

  it('round-trips label maps and keeps uint8 type', () => {
    const data = new Uint8Array(13 * 11 * 7);
    for (let i = 0; i < data.length; i++) data[i] = [0, 1, 2, 3, 4, 5, 11, 12, 20][i % 9]!;
    const p = join(dir, 'l.nii.gz');
    writeNifti(p, { ...SAG, data });
    const l = readNiftiLabelMap(p);
    expect(l.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(l.data), Buffer.from(data))).toBe(0);
    expect(sameGeometry(l, SAG, 1e-4)).toBe(true);
    expect(readNifti(p).datatype).toBe(2);
  });

  it('writes RAS world coordinates: voxel → RAS equals LPS with x and y negated', () => {
    const p = join(dir, 'ras.nii');
    writeNifti(p, { ...SAG, data: new Float32Array(13 * 11 * 7) });
    const buf = readFileSync(p);
    const srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => buf.readFloatLE(280 + r * 16 + c * 4)));
    expect(buf.readInt16LE(254)).toBe(1); // sform_code scanner
    expect(buf.readInt16LE(252)).toBe(1); // qform_code scanner
    for (const [i, j, k] of [[0, 0, 0], [12, 0, 0], [0, 10, 0], [3, 4, 6]]) {
      const ras = srow.map((r) => r[0]! * i! + r[1]! * j! + r[2]! * k! + r[3]!);
      const lps = indexToPoint(SAG, i!, j!, k!);
      expect(ras[0]).toBeCloseTo(-lps[0], 3);
      expect(ras[1]).toBeCloseTo(-lps[1], 3);
      expect(ras[2]).toBeCloseTo(lps[2], 3);
    }
    expect(geometryToRasAffine(SAG)[0]![3]).toBeCloseTo(-SAG.origin[0], 6);
  });

  it('reads the qform when there is no sform, for proper and improper rotations', () => {
    const geoms: Geometry[] = [
      SAG,
      { dims: [5, 6, 4], spacing: [1, 2, 3], origin: [-10, 20, 30], direction: rot(0.3, -0.2, 1.1) },
      // left-handed grid (qfac = -1): third axis flipped
      { dims: [5, 6, 4], spacing: [0.8, 0.9, 4], origin: [1, 2, 3], direction: (() => { const r = rot(0.1, 0.4, -0.5); return [r[0], r[1], -r[2], r[3], r[4], -r[5], r[6], r[7], -r[8]] as Mat3; })() },
      { dims: [5, 6, 4], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] },
      { dims: [5, 6, 4], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] }, // RAS identity: trace branch
    ];
    for (const g of geoms) {
      const raw = encodeNifti({ ...g, data: new Int16Array(g.dims[0] * g.dims[1] * g.dims[2]) });
      raw.writeInt16LE(0, 254); // sform_code = 0 → qform only
      const back = decodeNifti(raw);
      expect(sameGeometry(back, g, 1e-4), JSON.stringify(back)).toBe(true);
    }
  });

  it('applies scl_slope/scl_inter and handles int16 / uint16 / float64', () => {
    const n = 4 * 3 * 2;
    const g: Geometry = { dims: [4, 3, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    const i16 = new Int16Array(n).map((_, i) => i - 10);
    const p = join(dir, 's.nii');
    writeFileSync(p, encodeNifti({ ...g, data: i16, sclSlope: 2.5, sclInter: -1 }));
    const v = readNiftiVolume(p);
    for (let i = 0; i < n; i++) expect(v.data[i]).toBeCloseTo((i - 10) * 2.5 - 1, 5);
    const u16 = new Uint16Array(n).map((_, i) => 60000 + i);
    writeNifti(p, { ...g, data: u16 });
    expect(Array.from(readNiftiVolume(p).data)).toEqual(Array.from(u16));
    const f64 = new Float64Array(n).map((_, i) => i / 3);
    writeNifti(p, { ...g, data: f64 });
    expect(readNifti(p).data).toEqual(f64);
    // label map from a non-integer image is refused
    writeNifti(p, { ...g, data: new Float32Array(n).fill(1.5) });
    expect(() => readNiftiLabelMap(p)).toThrow(/not an integer/);
  });

  it('reads big-endian files', () => {
    const g: Geometry = { dims: [3, 2, 2], spacing: [1.5, 1.5, 2], origin: [5, -6, 7], direction: rot(0.2, 0, 0) };
    const data = new Int16Array(12).map((_, i) => i * 100 - 300);
    const le = encodeNifti({ ...g, data });
    // swap every header field by its size (layout of the NIfTI-1 header) and the data
    const be = Buffer.from(le);
    const swap = (off: number, size: number) => {
      const part = Buffer.from(be.subarray(off, off + size)).reverse();
      part.copy(be, off);
    };
    swap(0, 4);
    for (let o = 40; o < 56; o += 2) swap(o, 2); // dim[8]
    for (const o of [56, 60, 64]) swap(o, 4); // intent_p1..3
    for (const o of [68, 70, 72, 74]) swap(o, 2); // intent_code, datatype, bitpix, slice_start
    for (let o = 76; o < 108; o += 4) swap(o, 4); // pixdim[8]
    for (const o of [108, 112, 116]) swap(o, 4); // vox_offset, scl_slope, scl_inter
    swap(120, 2); // slice_end
    for (let o = 124; o < 148; o += 4) swap(o, 4); // cal_max, cal_min, slice_duration, toffset, glmax, glmin
    swap(252, 2);
    swap(254, 2);
    for (let o = 256; o < 328; o += 4) swap(o, 4); // quatern b,c,d, qoffset x,y,z, srow_x,y,z
    for (let i = 0; i < 12; i++) swap(352 + i * 2, 2);
    const v = decodeNifti(be);
    expect(sameGeometry(v, g, 1e-4)).toBe(true);
    expect(Array.from(v.data)).toEqual(Array.from(data));
  });

  it('rejects what it cannot read with coded errors', () => {
    const raw = encodeNifti({ ...SAG, data: new Uint8Array(13 * 11 * 7) });
    expect(() => decodeNifti(raw.subarray(0, 400))).toThrow(/truncated/);
    const n2 = Buffer.alloc(600);
    n2.writeInt32LE(540, 0);
    expect(() => decodeNifti(n2)).toThrow(/NIfTI-2/);
    expect(() => decodeNifti(Buffer.alloc(400))).toThrow(OsteoError);
    const four = Buffer.from(raw);
    four.writeInt16LE(4, 40);
    four.writeInt16LE(3, 48); // dim[4] = 3 time points
    expect(() => decodeNifti(four)).toThrow(/only 3-D/);
  });

  it('detects gzip by magic, not by file name', () => {
    const p = join(dir, 'gz-content.nii');
    writeNifti(join(dir, 'tmp.nii.gz'), { ...SAG, data: ramp(13 * 11 * 7) });
    writeFileSync(p, readFileSync(join(dir, 'tmp.nii.gz')));
    expect(gunzipSync(readFileSync(p)).readInt32LE(0)).toBe(348);
    expect(sameGeometry(readNiftiVolume(p), SAG, 1e-4)).toBe(true);
  });

  it('NIfTI → NRRD → NIfTI keeps a phantom label map on its series grid', () => {
    const st = generateStudy({ seed: 4, roles: ['t2'], subSamples: 1 });
    const s = st.series[0]!;
    const g = s.geometry!;
    const nii = join(dir, 'lv.nii.gz');
    writeNifti(nii, { ...g, data: s.levels });
    const a = readNiftiLabelMap(nii);
    const nrrd = join(dir, 'lv.nrrd');
    writeNrrd(nrrd, a, a.data, 'uint8');
    const b = readNrrd(nrrd);
    expect(sameGeometry(b.geometry, g, 1e-4)).toBe(true);
    const nii2 = join(dir, 'lv2.nii');
    writeNifti(nii2, { ...b.geometry, data: b.data as Uint8Array });
    const c = readNiftiLabelMap(nii2);
    expect(sameGeometry(c, g, 1e-4)).toBe(true);
    expect(Buffer.compare(Buffer.from(c.data), Buffer.from(s.levels))).toBe(0);
  });
});
