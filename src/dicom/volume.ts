/**
 * DICOM series → 3-D Volume (Float32, LPS). Works for classic single-frame images and Enhanced MR multi-frame
 * objects (per-frame functional groups), native or compressed transfer syntaxes (see codecs.ts).
 *
 * Frames are sorted by position along the slice normal (row × column of ImageOrientationPatient) — never by
 * InstanceNumber or file order. Everything that would make the voxel grid wrong throws NotAssessable with a
 * reason: different matrix/spacing/orientation, missing position, slices not stacked along the normal,
 * duplicated positions, missing slices (gap = k × spacing) or irregular spacing, undecodable pixel data.
 * Real-world values: stored value (bits stored, signed or not) × RescaleSlope + RescaleIntercept.
 */
import { dot, sliceNormal, sortAlongNormal, unitOrNull } from '../volume/geometry.js';
import { readFileSync } from 'node:fs';
import { NotAssessable } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { Mat3, Vec3, Volume } from '../volume/types.js';
import { exactArrayBuffer, instanceHeaderOf, parseDicom, type FrameHeader, type InstanceHeader } from './header.js';
import { canDecode, decodeJpegLosslessFrame, JS_SYNTAXES, NATIVE_SYNTAXES, transcodeToExplicitLE, transferSyntaxName, WASM_SYNTAXES } from './codecs.js';

const log = logger('volume');

export interface VolumeOptions {
  /** relative tolerance of slice gaps (default 0.02 = 2 %, at least 0.01 mm) */
  spacingTolerance?: number;
}

interface FrameRef {
  head: InstanceHeader;
  frame: FrameHeader;
  index: number;
  pixels: Uint8Array;
}

function concat(parts: ArrayBuffer[]): Uint8Array {
  if (parts.length === 1) return new Uint8Array(parts[0]!);
  const n = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/** Read one file: header + native pixel bytes of each frame. */
async function readInstance(file: string): Promise<{ head: InstanceHeader; frames: Uint8Array[] }> {
  let buf: Buffer | Uint8Array = readFileSync(file);
  let parsed = parseDicom(buf, true);
  const ts = String(parsed.meta.TransferSyntaxUID ?? '1.2.840.10008.1.2');
  if (!canDecode(ts)) throw new NotAssessable(`cannot decode transfer syntax ${transferSyntaxName(ts)} (series file ${sopOf(parsed.dataset)})`);
  if (WASM_SYNTAXES.has(ts)) {
    try {
      buf = new Uint8Array(await transcodeToExplicitLE(exactArrayBuffer(buf)));
    } catch (e) {
      throw new NotAssessable(`cannot decode ${transferSyntaxName(ts)} pixel data: ${(e as Error).message}`);
    }
    parsed = parseDicom(buf, true);
  }
  const head = instanceHeaderOf(file, parsed.meta, parsed.dataset);
  const pd = parsed.dataset.PixelData as ArrayBuffer[] | ArrayBuffer | undefined;
  if (!pd) throw new NotAssessable(`instance ${head.sopInstanceUID} has no pixel data`);
  const parts = Array.isArray(pd) ? pd : [pd];
  const nF = head.frames.length;
  const frameBytes = head.rows * head.columns * head.samplesPerPixel * (head.bitsAllocated / 8);
  const frames: Uint8Array[] = [];
  if (JS_SYNTAXES.has(ts)) {
    let enc: Uint8Array[];
    if (parts.length === nF) enc = parts.map((p) => new Uint8Array(p));
    else if (nF === 1) enc = [concat(parts)];
    else throw new NotAssessable(`cannot split ${parts.length} JPEG fragments into ${nF} frames (${transferSyntaxName(ts)})`);
    for (const e of enc) {
      try {
        frames.push(decodeJpegLosslessFrame(e));
      } catch (err) {
        throw new NotAssessable(`cannot decode ${transferSyntaxName(ts)} pixel data: ${(err as Error).message}`);
      }
    }
  } else {
    if (!NATIVE_SYNTAXES.has(ts) && !WASM_SYNTAXES.has(ts)) throw new NotAssessable(`cannot decode transfer syntax ${transferSyntaxName(ts)}`);
    const all = concat(parts);
    if (all.byteLength < frameBytes * nF) throw new NotAssessable(`pixel data of ${head.sopInstanceUID} is truncated (${all.byteLength} < ${frameBytes * nF} bytes)`);
    for (let f = 0; f < nF; f++) frames.push(all.subarray(f * frameBytes, (f + 1) * frameBytes));
  }
  for (const fr of frames) {
    if (fr.byteLength < frameBytes) throw new NotAssessable(`decoded frame of ${head.sopInstanceUID} is too short (${fr.byteLength} < ${frameBytes} bytes)`);
  }
  return { head, frames };
}

function sopOf(ds: Record<string, any>): string {
  return String(ds.SOPInstanceUID ?? '?');
}

function unit(v: number[]): Vec3 {
  const u = unitOrNull(v);
  if (!u) throw new NotAssessable('degenerate ImageOrientationPatient');
  return u;
}

/** Stored value reader for one frame → real-world Float32 values written into `out` at `offset`. */
function convertFrame(px: Uint8Array, h: InstanceHeader, slope: number, intercept: number, out: Float32Array, offset: number): void {
  const n = h.rows * h.columns;
  const dv = new DataView(px.buffer, px.byteOffset, px.byteLength);
  const bits = h.bitsStored;
  const signed = h.pixelRepresentation === 1;
  if (h.bitsAllocated === 16) {
    const mask = bits >= 16 ? 0xffff : (1 << bits) - 1;
    const signBit = 1 << (bits - 1);
    for (let i = 0; i < n; i++) {
      let v = dv.getUint16(i * 2, true) & mask;
      if (signed && v & signBit) v -= 1 << bits;
      out[offset + i] = v * slope + intercept;
    }
  } else if (h.bitsAllocated === 8) {
    const mask = bits >= 8 ? 0xff : (1 << bits) - 1;
    const signBit = 1 << (bits - 1);
    for (let i = 0; i < n; i++) {
      let v = px[i]! & mask;
      if (signed && v & signBit) v -= 1 << bits;
      out[offset + i] = v * slope + intercept;
    }
  } else if (h.bitsAllocated === 32) {
    for (let i = 0; i < n; i++) out[offset + i] = (signed ? dv.getInt32(i * 4, true) : dv.getUint32(i * 4, true)) * slope + intercept;
  } else throw new NotAssessable(`unsupported BitsAllocated ${h.bitsAllocated}`);
}

/** Load and assemble the volume of one series from its instance files. */
export async function loadSeriesVolume(files: string[], opts: VolumeOptions = {}): Promise<Volume> {
  if (!files.length) throw new NotAssessable('series has no instances');
  const refs: FrameRef[] = [];
  const seenSop = new Set<string>();
  for (const f of files) {
    const { head, frames } = await readInstance(f);
    if (head.sopInstanceUID && seenSop.has(head.sopInstanceUID)) {
      log.debug('duplicate instance ignored', { sopInstanceUid: head.sopInstanceUID });
      continue;
    }
    seenSop.add(head.sopInstanceUID);
    head.frames.forEach((fr, i) => refs.push({ head, frame: fr, index: i, pixels: frames[i]! }));
  }
  return assembleFrames(refs, opts);
}

function assembleFrames(refs: FrameRef[], opts: VolumeOptions): Volume {
  const r0 = refs[0]!;
  const h0 = r0.head;
  if (h0.samplesPerPixel !== 1) throw new NotAssessable(`colour images (SamplesPerPixel ${h0.samplesPerPixel}) are not supported`);
  const ori0 = r0.frame.orientation;
  const ps0 = r0.frame.pixelSpacing;
  if (!ori0) throw new NotAssessable('missing ImageOrientationPatient');
  if (!ps0) throw new NotAssessable('missing PixelSpacing');
  const seriesUid = h0.seriesInstanceUID;
  for (const r of refs) {
    const h = r.head;
    if (h.seriesInstanceUID !== seriesUid) throw new NotAssessable(`instances of different series mixed (${seriesUid} and ${h.seriesInstanceUID})`);
    if (h.rows !== h0.rows || h.columns !== h0.columns) throw new NotAssessable(`slices differ in matrix size (${h0.rows}x${h0.columns} vs ${h.rows}x${h.columns})`);
    if (h.bitsAllocated !== h0.bitsAllocated || h.samplesPerPixel !== 1) throw new NotAssessable('slices differ in pixel format');
    const o = r.frame.orientation;
    if (!o) throw new NotAssessable(`missing ImageOrientationPatient in ${h.sopInstanceUID}`);
    for (let k = 0; k < 6; k++) if (Math.abs(o[k]! - ori0[k]!) > 1e-4) throw new NotAssessable(`slices differ in orientation (ImageOrientationPatient ${ori0.join('\\')} vs ${o.join('\\')})`);
    const ps = r.frame.pixelSpacing;
    if (!ps) throw new NotAssessable(`missing PixelSpacing in ${h.sopInstanceUID}`);
    if (Math.abs(ps[0] - ps0[0]) > 1e-4 * ps0[0] + 1e-6 || Math.abs(ps[1] - ps0[1]) > 1e-4 * ps0[1] + 1e-6)
      throw new NotAssessable(`slices differ in pixel spacing (${ps0.join('\\')} vs ${ps.join('\\')})`);
    if (!r.frame.position) throw new NotAssessable(`missing ImagePositionPatient in ${h.sopInstanceUID}`);
  }
  const row = unit(ori0.slice(0, 3));
  const col = unit(ori0.slice(3, 6));
  if (Math.abs(dot(row, col)) > 1e-3) throw new NotAssessable('ImageOrientationPatient row and column are not orthogonal');
  const nrm = sliceNormal(row, col);
  if (!nrm) throw new NotAssessable('degenerate ImageOrientationPatient');
  const sorted = sortAlongNormal(refs, nrm, (r) => r.frame.position!).map(({ item, s }) => ({ r: item, s }));
  const n = sorted.length;
  if (n < 2) throw new NotAssessable('only one slice: a volume needs at least two');
  const p0 = sorted[0]!.r.frame.position!;
  // in-plane alignment: every slice must lie on the normal through the first
  for (const { r } of sorted) {
    const d = [r.frame.position![0] - p0[0], r.frame.position![1] - p0[1], r.frame.position![2] - p0[2]];
    const du = Math.abs(dot(d, row));
    const dv = Math.abs(dot(d, col));
    if (du > 0.05 * ps0[1] + 1e-3 || dv > 0.05 * ps0[0] + 1e-3)
      throw new NotAssessable(`slices are not stacked along the slice normal (in-plane offset ${du.toFixed(2)}/${dv.toFixed(2)} mm: sheared or tilted stack)`);
  }
  const gaps: number[] = [];
  for (let k = 1; k < n; k++) gaps.push(sorted[k]!.s - sorted[k - 1]!.s);
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  const median = sortedGaps[Math.floor((sortedGaps.length - 1) / 2)]!;
  const fmt = (x: number) => x.toFixed(2);
  for (let k = 0; k < gaps.length; k++) {
    if (gaps[k]! < 1e-3 * Math.max(1, median)) {
      throw new NotAssessable(`duplicated slice position ${fmt(sorted[k]!.s)} mm along the slice normal (instances ${sorted[k]!.r.head.sopInstanceUID} and ${sorted[k + 1]!.r.head.sopInstanceUID})`);
    }
  }
  if (!(median > 0)) throw new NotAssessable('slice spacing is zero');
  const tol = Math.max(0.01, (opts.spacingTolerance ?? 0.02) * median);
  const problems: string[] = [];
  let missing = 0;
  let irregular = false;
  for (let k = 0; k < gaps.length; k++) {
    const g = gaps[k]!;
    if (Math.abs(g - median) <= tol) continue;
    const m = Math.round(g / median);
    if (m >= 2 && Math.abs(g - m * median) <= tol * m) {
      missing += m - 1;
      problems.push(`gap of ${fmt(g)} mm between slices at ${fmt(sorted[k]!.s)} and ${fmt(sorted[k + 1]!.s)} mm (${m - 1} missing)`);
    } else {
      irregular = true;
      problems.push(`gap of ${fmt(g)} mm between slices at ${fmt(sorted[k]!.s)} and ${fmt(sorted[k + 1]!.s)} mm`);
    }
  }
  if (problems.length) {
    const what = irregular ? 'irregular slice spacing' : `missing slice${missing > 1 ? 's' : ''}: ${missing} of ${n + missing}`;
    throw new NotAssessable(`${what}; expected ${fmt(median)} mm: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`);
  }
  const spacingZ = (sorted[n - 1]!.s - sorted[0]!.s) / (n - 1);
  const rows = h0.rows;
  const cols = h0.columns;
  const data = new Float32Array(rows * cols * n);
  sorted.forEach(({ r }, k) => convertFrame(r.pixels, r.head, r.frame.rescaleSlope, r.frame.rescaleIntercept, data, k * rows * cols));
  const direction: Mat3 = [row[0], col[0], nrm[0], row[1], col[1], nrm[1], row[2], col[2], nrm[2]];
  return { dims: [cols, rows, n], spacing: [ps0[1], ps0[0], spacingZ], origin: [p0[0], p0[1], p0[2]], direction, data };
}

