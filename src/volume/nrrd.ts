/**
 * NRRD reader/writer (attached header only) for 3-D scalar images: the reader here, the writer in nrrd-write.ts,
 * the pixel types both use in nrrd-types.ts (all exported from here).
 *
 * Supported: `type` (u)int8/16/32, float, double (all NRRD spellings); `encoding` raw, gzip (gz), ascii (text/txt);
 * `endian` little/big; `byte skip` (raw); `space` left-posterior-superior / LPS, right-anterior-superior / RAS and the
 * other 3-D anatomical spaces (converted to LPS); `space directions` + `space origin`, or the `spacings` /
 * `axis mins` fallback (identity direction). `dimension` 2 is read as a single-slice 3-D image.
 *
 * Geometry follows src/volume/types.ts: spacing[c] = norm of space direction c, direction column c = that vector
 * normalised, origin = `space origin` (all in LPS).
 */
import { cross } from './geometry.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { OsteoError } from '../common/errors.js';
import type { PixelType, RImage, RMask } from './image.js';
import type { Mat3, Vec3 } from './types.js';
import { allocTyped, BYTES_PER_PIXEL, TYPE_ALIASES, type NrrdTypedArray, type NrrdVolume } from './nrrd-types.js';

export type { PixelType } from './image.js';
export { allocTyped, BYTES_PER_PIXEL, type NrrdTypedArray, type NrrdVolume } from './nrrd-types.js';
export { serializeNrrd, writeNrrd, type NrrdWriteOptions } from './nrrd-write.js';

function bad(msg: string): OsteoError {
  return new OsteoError('nrrd-invalid', `NRRD: ${msg}`, 400);
}

/** Sign of each LPS axis for a NRRD `space` value (+1 = same direction as LPS). */
function spaceToLpsSigns(space: string): Vec3 {
  const s = space.trim().toLowerCase();
  const abbrev: Record<string, string> = {
    lps: 'left-posterior-superior',
    ras: 'right-anterior-superior',
    las: 'left-anterior-superior',
    rps: 'right-posterior-superior',
    lpi: 'left-posterior-inferior',
    rai: 'right-anterior-inferior',
    lai: 'left-anterior-inferior',
    rpi: 'right-posterior-inferior',
  };
  const full = abbrev[s] ?? s;
  const parts = full.split('-');
  if (parts.length !== 3) throw bad(`unsupported space "${space}"`);
  const signs: Vec3 = [0, 0, 0];
  const table: Record<string, [number, number]> = {
    left: [0, 1],
    right: [0, -1],
    posterior: [1, 1],
    anterior: [1, -1],
    superior: [2, 1],
    inferior: [2, -1],
  };
  for (let n = 0; n < 3; n++) {
    const t = table[parts[n]!];
    if (!t || t[0] !== n) throw bad(`unsupported space "${space}"`);
    signs[n] = t[1];
  }
  return signs;
}

function parseVector(s: string): number[] | null {
  const t = s.trim();
  if (t === 'none') return null;
  const m = /^\(([^)]*)\)$/.exec(t);
  if (!m) throw bad(`bad vector "${s}"`);
  const v = m[1]!.split(',').map((x) => Number(x.trim()));
  if (v.some((x) => !Number.isFinite(x))) throw bad(`bad vector "${s}"`);
  return v;
}

function parseVectorList(s: string): (number[] | null)[] {
  const out: (number[] | null)[] = [];
  const re = /\([^)]*\)|none/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) out.push(parseVector(m[0]));
  return out;
}

interface Header {
  fields: Map<string, string>;
  dataOffset: number;
}

function parseHeader(buf: Buffer): Header {
  const magic = buf.subarray(0, 8).toString('latin1');
  if (!/^NRRD000[1-5]$/.test(magic)) throw bad('missing NRRD magic');
  const fields = new Map<string, string>();
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) throw bad('header not terminated by a blank line');
    let line = buf.subarray(pos, nl).toString('latin1');
    pos = nl + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') break;
    if (line.startsWith('#') || line.startsWith('NRRD')) continue;
    const kv = line.indexOf(':=');
    if (kv >= 0 && line.indexOf(': ') < 0) continue; // key/value pair, ignored
    const c = line.indexOf(': ');
    if (c < 0) {
      if (kv >= 0) continue;
      throw bad(`bad header line "${line}"`);
    }
    fields.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 2).trim());
  }
  return { fields, dataOffset: pos };
}

function decodeValues(
  bytes: Uint8Array,
  pt: PixelType,
  n: number,
  littleEndian: boolean,
): NrrdTypedArray {
  const bpp = BYTES_PER_PIXEL[pt];
  if (bytes.length < n * bpp) throw bad(`data too short: ${bytes.length} bytes for ${n} ${pt} values`);
  const out = allocTyped(pt, n);
  const osLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (littleEndian === osLittle || bpp === 1) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * bpp));
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n * bpp);
  const le = littleEndian;
  switch (pt) {
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, le);
      break;
    case 'uint16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, le);
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, le);
      break;
    case 'uint32':
      for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, le);
      break;
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, le);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, le);
      break;
    default:
      break;
  }
  return out;
}

/** Parse an NRRD file held in memory. */
export function parseNrrd(buf: Buffer): NrrdVolume {
  const { fields, dataOffset } = parseHeader(buf);
  const get = (k: string): string | undefined => fields.get(k);
  if (get('data file') !== undefined || get('datafile') !== undefined) throw bad('detached data files are not supported');
  const typeName = get('type');
  if (!typeName) throw bad('missing "type"');
  const pixelType = TYPE_ALIASES[typeName.toLowerCase()];
  if (!pixelType) throw bad(`unsupported type "${typeName}"`);
  const dimension = Number(get('dimension'));
  if (dimension !== 3 && dimension !== 2) throw bad(`unsupported dimension ${get('dimension')}`);
  const sizes = (get('sizes') ?? '').split(/\s+/).filter(Boolean).map(Number);
  if (sizes.length !== dimension || sizes.some((s) => !Number.isInteger(s) || s < 1)) throw bad('bad "sizes"');
  const dims: Vec3 = [sizes[0]!, sizes[1]!, dimension === 3 ? sizes[2]! : 1];

  // Geometry.
  let spacing: Vec3 = [1, 1, 1];
  let origin: Vec3 = [0, 0, 0];
  const direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const spaceField = get('space');
  const signs: Vec3 = spaceField ? spaceToLpsSigns(spaceField) : [1, 1, 1];
  const sd = get('space directions');
  if (sd !== undefined) {
    const vecs = parseVectorList(sd);
    if (vecs.length !== dimension) throw bad('"space directions" count does not match dimension');
    for (let c = 0; c < dimension; c++) {
      const v = vecs[c];
      if (!v || v.length !== 3) throw bad('"space directions" must be 3-vectors for every axis');
      const w = [v[0]! * signs[0] + 0, v[1]! * signs[1] + 0, v[2]! * signs[2] + 0]; // + 0: no -0
      const norm = Math.hypot(w[0]!, w[1]!, w[2]!);
      if (!(norm > 0)) throw bad('zero-length space direction');
      spacing[c] = norm;
      for (let r = 0; r < 3; r++) direction[r * 3 + c] = w[r]! / norm + 0;
    }
    if (dimension === 2) {
      // Third axis: right-handed normal, unit spacing.
      const a = [direction[0], direction[3], direction[6]];
      const b = [direction[1], direction[4], direction[7]];
      [direction[2], direction[5], direction[8]] = cross(a, b);
    }
    const so = get('space origin');
    if (so !== undefined) {
      const o = parseVector(so);
      if (!o || o.length !== 3) throw bad('bad "space origin"');
      origin = [o[0]! * signs[0] + 0, o[1]! * signs[1] + 0, o[2]! * signs[2] + 0];
    }
  } else {
    const sp = get('spacings');
    if (sp !== undefined) {
      const v = sp.split(/\s+/).filter(Boolean).map(Number);
      if (v.length !== dimension) throw bad('bad "spacings"');
      spacing = [
        Number.isFinite(v[0]) ? Math.abs(v[0]!) : 1,
        Number.isFinite(v[1]) ? Math.abs(v[1]!) : 1,
        dimension === 3 && Number.isFinite(v[2]) ? Math.abs(v[2]!) : 1,
      ];
    }
    const am = get('axis mins') ?? get('axismins');
    if (am !== undefined) {
      const v = am.split(/\s+/).filter(Boolean).map(Number);
      origin = [Number.isFinite(v[0]) ? v[0]! : 0, Number.isFinite(v[1]) ? v[1]! : 0, Number.isFinite(v[2]) ? v[2]! : 0];
    }
  }

  // Data.
  const n = dims[0] * dims[1] * dims[2];
  const bpp = BYTES_PER_PIXEL[pixelType];
  const encoding = (get('encoding') ?? '').toLowerCase();
  const endian = (get('endian') ?? 'little').toLowerCase();
  if (bpp > 1 && endian !== 'little' && endian !== 'big') throw bad(`bad endian "${endian}"`);
  const littleEndian = endian !== 'big';
  if (get('line skip') !== undefined && Number(get('line skip')) !== 0) throw bad('"line skip" is not supported');
  let payload = buf.subarray(dataOffset);
  let data: NrrdTypedArray;
  if (encoding === 'raw') {
    const skip = Number(get('byte skip') ?? 0);
    if (skip === -1) payload = payload.subarray(payload.length - n * bpp);
    else if (skip > 0) payload = payload.subarray(skip);
    data = decodeValues(payload, pixelType, n, littleEndian);
  } else if (encoding === 'gzip' || encoding === 'gz') {
    let raw: Buffer;
    try {
      raw = gunzipSync(payload);
    } catch (e) {
      throw new OsteoError('nrrd-invalid', 'NRRD: gzip data could not be decompressed', 400, { cause: e });
    }
    data = decodeValues(raw, pixelType, n, littleEndian);
  } else if (encoding === 'ascii' || encoding === 'text' || encoding === 'txt') {
    const tokens = payload.toString('latin1').split(/[\s,]+/).filter(Boolean);
    if (tokens.length < n) throw bad(`ascii data has ${tokens.length} values, expected ${n}`);
    data = allocTyped(pixelType, n);
    for (let i = 0; i < n; i++) data[i] = Number(tokens[i]);
  } else {
    throw bad(`unsupported encoding "${encoding}"`);
  }
  return { geometry: { dims, spacing, origin, direction }, data, pixelType };
}

/** Read an NRRD file, keeping the stored pixel type. */
export function readNrrd(path: string): NrrdVolume {
  return parseNrrd(readFileSync(path));
}

/** Read an NRRD file as a radiomics image (values as Float64Array, original pixel type recorded). */
export function readNrrdImage(path: string): RImage {
  const v = readNrrd(path);
  return { ...v.geometry, data: Float64Array.from(v.data), pixelType: v.pixelType };
}

/** Read an NRRD label map; data keeps its stored type where RMask allows it (int8 → Int16, uint32 → Float64). */
export function readNrrdMask(path: string): RMask {
  const v = readNrrd(path);
  let data: RMask['data'];
  if (v.data instanceof Int8Array) data = Int16Array.from(v.data);
  else if (v.data instanceof Uint32Array) data = Float64Array.from(v.data);
  else data = v.data;
  return { ...v.geometry, data };
}
