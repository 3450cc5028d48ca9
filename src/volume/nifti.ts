/**
 * NIfTI-1 read/write (`.nii`, `.nii.gz`) for volumes and label maps.
 *
 * NIfTI world space is RAS; our volumes are LPS (DICOM patient space). On write the affine is
 * diag(-1,-1,1) · [direction · diag(spacing) | origin] and stored as both sform and qform (code 1, scanner).
 * On read the sform is used when sform_code > 0, else the qform when qform_code > 0, else pixdim only
 * (identity direction, as the NIfTI standard's "method 1"), and converted back to LPS. Voxel order is the same
 * (i fastest), so a label map written from a DICOM series geometry lands exactly on the series.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { OsteoError } from '../common/errors.js';
import type { Geometry, LabelMap, Mat3, Vec3, Volume } from './types.js';

export type NiftiTypedArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface NiftiImage extends Geometry {
  data: NiftiTypedArray;
  /** NIfTI datatype code */
  datatype: number;
  sclSlope: number;
  sclInter: number;
  description: string;
}

const DT: Record<number, { bytes: number; ctor: new (n: number) => NiftiTypedArray; get: (dv: DataView, off: number, le: boolean) => number }> = {
  2: { bytes: 1, ctor: Uint8Array, get: (d, o) => d.getUint8(o) },
  4: { bytes: 2, ctor: Int16Array, get: (d, o, le) => d.getInt16(o, le) },
  8: { bytes: 4, ctor: Int32Array, get: (d, o, le) => d.getInt32(o, le) },
  16: { bytes: 4, ctor: Float32Array, get: (d, o, le) => d.getFloat32(o, le) },
  64: { bytes: 8, ctor: Float64Array, get: (d, o, le) => d.getFloat64(o, le) },
  256: { bytes: 1, ctor: Int8Array, get: (d, o) => d.getInt8(o) },
  512: { bytes: 2, ctor: Uint16Array, get: (d, o, le) => d.getUint16(o, le) },
  768: { bytes: 4, ctor: Uint32Array, get: (d, o, le) => d.getUint32(o, le) },
};

function datatypeOf(a: NiftiTypedArray): number {
  if (a instanceof Uint8Array) return 2;
  if (a instanceof Int16Array) return 4;
  if (a instanceof Int32Array) return 8;
  if (a instanceof Float32Array) return 16;
  if (a instanceof Float64Array) return 64;
  if (a instanceof Int8Array) return 256;
  if (a instanceof Uint16Array) return 512;
  return 768;
}

/** LPS geometry → RAS 4x4 affine rows (3 rows of 4). */
export function geometryToRasAffine(g: Geometry): number[][] {
  const d = g.direction;
  const rows: number[][] = [];
  for (let r = 0; r < 3; r++) {
    const f = r < 2 ? -1 : 1;
    rows.push([f * d[r * 3]! * g.spacing[0], f * d[r * 3 + 1]! * g.spacing[1], f * d[r * 3 + 2]! * g.spacing[2], f * g.origin[r]!]);
  }
  return rows;
}

/** RAS affine rows → LPS geometry (dims supplied). */
export function rasAffineToGeometry(rows: number[][], dims: Vec3): Geometry {
  const spacing: Vec3 = [0, 0, 0];
  const direction = new Array<number>(9).fill(0) as Mat3;
  for (let c = 0; c < 3; c++) {
    const col = [-rows[0]![c]!, -rows[1]![c]!, rows[2]![c]!];
    const n = Math.hypot(col[0]!, col[1]!, col[2]!);
    spacing[c] = n;
    for (let r = 0; r < 3; r++) direction[r * 3 + c] = n > 0 ? col[r]! / n : r === c ? 1 : 0;
  }
  const origin: Vec3 = [-rows[0]![3]!, -rows[1]![3]!, rows[2]![3]!];
  return { dims, spacing, origin, direction };
}

/** Quaternion (b, c, d), qfac for a 3x3 rotation (columns = axes), per the NIfTI-1 reference code. */
function matToQuatern(R: number[][]): { b: number; c: number; d: number; qfac: number } {
  const r11 = R[0]![0]!, r12 = R[0]![1]!;
  let r13 = R[0]![2]!;
  const r21 = R[1]![0]!, r22 = R[1]![1]!;
  let r23 = R[1]![2]!;
  const r31 = R[2]![0]!, r32 = R[2]![1]!;
  let r33 = R[2]![2]!;
  const det = r11 * r22 * r33 - r11 * r32 * r23 - r21 * r12 * r33 + r21 * r32 * r13 + r31 * r12 * r23 - r31 * r22 * r13;
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    r13 = -r13;
    r23 = -r23;
    r33 = -r33;
  }
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac };
}

function quaternToRows(b: number, c: number, d: number, qfac: number, pix: Vec3, off: Vec3): number[][] {
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else a = Math.sqrt(a);
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const zf = qfac < 0 ? -1 : 1;
  return R.map((row, r) => [row[0]! * pix[0], row[1]! * pix[1], row[2]! * pix[2] * zf, off[r]!]);
}

/** Encode a NIfTI-1 single file. */
export function encodeNifti(img: Geometry & { data: NiftiTypedArray; sclSlope?: number; sclInter?: number; description?: string }): Buffer {
  const n = img.dims[0] * img.dims[1] * img.dims[2];
  if (img.data.length !== n) throw new OsteoError('nifti-size', `data length ${img.data.length} != ${n} voxels`);
  const datatype = datatypeOf(img.data);
  const bpv = DT[datatype]!.bytes;
  const hdr = Buffer.alloc(352);
  const dv = new DataView(hdr.buffer, hdr.byteOffset, 352);
  dv.setInt32(0, 348, true);
  hdr.write('r', 38, 'latin1'); // regular
  dv.setInt16(40, 3, true);
  dv.setInt16(42, img.dims[0], true);
  dv.setInt16(44, img.dims[1], true);
  dv.setInt16(46, img.dims[2], true);
  for (let i = 4; i <= 7; i++) dv.setInt16(40 + i * 2, 1, true);
  dv.setInt16(70, datatype, true);
  dv.setInt16(72, bpv * 8, true);
  const rows = geometryToRasAffine(img);
  const R = [0, 1, 2].map((r) => [0, 1, 2].map((c) => rows[r]![c]! / img.spacing[c]!));
  const q = matToQuatern(R);
  dv.setFloat32(76, q.qfac, true);
  dv.setFloat32(80, img.spacing[0], true);
  dv.setFloat32(84, img.spacing[1], true);
  dv.setFloat32(88, img.spacing[2], true);
  dv.setFloat32(108, 352, true); // vox_offset
  dv.setFloat32(112, img.sclSlope ?? (datatype === 2 ? 0 : 1), true);
  dv.setFloat32(116, img.sclInter ?? 0, true);
  hdr.writeUInt8(123, 2 | 8); // xyzt_units: mm, s
  hdr.write((img.description ?? '').slice(0, 79), 148, 'latin1');
  dv.setInt16(252, 1, true); // qform_code scanner
  dv.setInt16(254, 1, true); // sform_code scanner
  dv.setFloat32(256, q.b, true);
  dv.setFloat32(260, q.c, true);
  dv.setFloat32(264, q.d, true);
  dv.setFloat32(268, rows[0]![3]!, true);
  dv.setFloat32(272, rows[1]![3]!, true);
  dv.setFloat32(276, rows[2]![3]!, true);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) dv.setFloat32(280 + r * 16 + c * 4, rows[r]![c]!, true);
  hdr.write('n+1\0', 344, 'latin1');
  const body = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new OsteoError('nifti-endian', 'big-endian hosts are not supported');
  return Buffer.concat([hdr, body]);
}

/** Decode a NIfTI-1 file (already gunzipped or not: gzip magic is detected). */
export function decodeNifti(buf: Buffer): NiftiImage {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  if (buf.length < 348) throw new OsteoError('nifti-invalid', 'file too short for a NIfTI-1 header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let le = true;
  const sz = dv.getInt32(0, true);
  if (sz !== 348) {
    if (dv.getInt32(0, false) === 348) le = false;
    else if (sz === 540 || dv.getInt32(0, false) === 540) throw new OsteoError('nifti-unsupported', 'NIfTI-2 files are not supported');
    else throw new OsteoError('nifti-invalid', 'not a NIfTI-1 file (sizeof_hdr != 348)');
  }
  const ndim = dv.getInt16(40, le);
  if (ndim < 1 || ndim > 7) throw new OsteoError('nifti-invalid', `bad dim[0] = ${ndim}`);
  const dim = [1, 1, 1, 1, 1, 1, 1].map((_, i) => (i < ndim ? dv.getInt16(42 + i * 2, le) : 1));
  for (let i = 3; i < ndim; i++) if (dim[i]! > 1) throw new OsteoError('nifti-unsupported', `only 3-D images are supported (dim[${i + 1}] = ${dim[i]})`);
  const dims: Vec3 = [dim[0]!, dim[1]!, dim[2]!];
  const datatype = dv.getInt16(70, le);
  const info = DT[datatype];
  if (!info) throw new OsteoError('nifti-unsupported', `unsupported NIfTI datatype ${datatype}`);
  const pix: Vec3 = [Math.abs(dv.getFloat32(80, le)) || 1, Math.abs(dv.getFloat32(84, le)) || 1, Math.abs(dv.getFloat32(88, le)) || 1];
  let qfac = dv.getFloat32(76, le);
  qfac = qfac < 0 ? -1 : 1;
  const voxOffset = Math.round(dv.getFloat32(108, le));
  const sclSlope = dv.getFloat32(112, le);
  const sclInter = dv.getFloat32(116, le);
  const description = buf.toString('latin1', 148, 228).replace(/\0.*$/s, '');
  const qformCode = dv.getInt16(252, le);
  const sformCode = dv.getInt16(254, le);
  let rows: number[][];
  if (sformCode > 0) {
    rows = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => dv.getFloat32(280 + r * 16 + c * 4, le)));
  } else if (qformCode > 0) {
    rows = quaternToRows(dv.getFloat32(256, le), dv.getFloat32(260, le), dv.getFloat32(264, le), qfac, pix, [dv.getFloat32(268, le), dv.getFloat32(272, le), dv.getFloat32(276, le)]);
  } else {
    rows = [
      [pix[0], 0, 0, 0],
      [0, pix[1], 0, 0],
      [0, 0, pix[2], 0],
    ];
  }
  const g = rasAffineToGeometry(rows, dims);
  const n = dims[0] * dims[1] * dims[2];
  const need = voxOffset + n * info.bytes;
  if (buf.length < need) throw new OsteoError('nifti-invalid', `file truncated: ${buf.length} bytes < ${need}`);
  const data = new info.ctor(n);
  const hostLe = true;
  if (le === hostLe) {
    const copy = buf.subarray(voxOffset, voxOffset + n * info.bytes);
    new Uint8Array(data.buffer).set(copy);
  } else {
    for (let i = 0; i < n; i++) data[i] = info.get(dv, voxOffset + i * info.bytes, le);
  }
  return { ...g, data, datatype, sclSlope, sclInter, description };
}

export function readNifti(path: string): NiftiImage {
  return decodeNifti(readFileSync(path));
}

/** Read as a Float32 volume, applying scl_slope/scl_inter when slope is non-zero. */
export function readNiftiVolume(path: string): Volume {
  const img = readNifti(path);
  const out = new Float32Array(img.data.length);
  const s = img.sclSlope && Number.isFinite(img.sclSlope) ? img.sclSlope : 1;
  const b = img.sclSlope && Number.isFinite(img.sclInter) ? img.sclInter : 0;
  for (let i = 0; i < out.length; i++) out[i] = img.data[i]! * s + b;
  return { dims: img.dims, spacing: img.spacing, origin: img.origin, direction: img.direction, data: out };
}

/** Read as a label map (values must be integers 0..255). */
export function readNiftiLabelMap(path: string): LabelMap {
  const img = readNifti(path);
  let data: Uint8Array;
  if (img.data instanceof Uint8Array) data = img.data;
  else {
    data = new Uint8Array(img.data.length);
    for (let i = 0; i < data.length; i++) {
      const v = img.data[i]!;
      if (v < 0 || v > 255 || Math.round(v) !== v) throw new OsteoError('nifti-label', `label map value ${v} is not an integer in 0..255`);
      data[i] = v;
    }
  }
  return { dims: img.dims, spacing: img.spacing, origin: img.origin, direction: img.direction, data };
}

/** Write a volume or label map; gzip when the path ends in .gz. */
export function writeNifti(path: string, img: Geometry & { data: NiftiTypedArray; description?: string }, gzipLevel = 6): void {
  const raw = encodeNifti(img);
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(raw, { level: gzipLevel }) : raw);
}
