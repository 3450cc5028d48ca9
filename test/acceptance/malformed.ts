/**
 * Builders of malformed DICOM for the acceptance fuzz test: zzuf mutations (seeded, deterministic) and
 * targeted malformations (lying lengths, undefined-length sequences, huge Rows x Columns, wrong pixel data
 * size, path-traversal UIDs).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import dcmjs from 'dcmjs';

const { DicomMessage, DicomMetaDictionary, DicomDict } = (dcmjs as any).data;
const LONG_VRS = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'OD', 'OL', 'UC', 'UR', 'OV'];

/** Offset of the dataset in a Part-10 file (after preamble, DICM and the meta group), or -1. */
export function datasetOffset(buf: Buffer): number {
  if (buf.length < 144 || buf.toString('ascii', 128, 132) !== 'DICM') return -1;
  // (0002,0000) UL 4 <len>
  if (buf.readUInt16LE(132) !== 0x0002 || buf.readUInt16LE(134) !== 0x0000) return -1;
  const off = 132 + 12 + buf.readUInt32LE(140);
  return off <= buf.length ? off : -1;
}

/** The bytes a C-STORE would carry for this file: its dataset (or, for a broken file, what follows the preamble). */
export function rawDatasetOf(buf: Buffer): Buffer {
  const off = datasetOffset(buf);
  if (off >= 0) return buf.subarray(off);
  return buf.length > 132 ? buf.subarray(132) : buf;
}

/** Offset of the PixelData element tag (7FE0,0010), or the file length. */
export function pixelDataOffset(buf: Buffer): number {
  const i = buf.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  return i > 0 ? i : buf.length;
}

/** Offset of the first pixel value after the PixelData element at `px` (explicit VR: 12-byte header). */
export function pixelValueOffset(buf: Buffer, px: number): number {
  return Math.min(px + 12, buf.length);
}

/** zzuf-mutated copy of `src` (deterministic for a seed/ratio/range). */
export function zzuf(src: string, seed: number, ratio: number, range?: string): Buffer {
  const args = ['-s', String(seed), '-r', String(ratio), ...(range ? ['-b', range] : []), 'cat', src];
  const r = spawnSync('zzuf', args, { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 || !r.stdout) throw new Error(`zzuf failed (${r.status}): ${r.stderr?.toString()}`);
  return r.stdout;
}

/** Read a Part-10 file, change its naturalized dataset, write it back to `out` (dcmjs). */
export function rewrite(src: string, out: string, mutate: (ds: Record<string, any>, meta: Record<string, any>) => void): void {
  const b = readFileSync(src);
  const dict = DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const ds = DicomMetaDictionary.naturalizeDataset(dict.dict);
  const meta = DicomMetaDictionary.naturalizeDataset(dict.meta);
  ds._vrMap = { ...(ds._vrMap ?? {}), PixelData: 'OW' };
  mutate(ds, meta);
  const nd = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  nd.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  writeFileSync(out, Buffer.from(nd.write()));
}

/** Explicit VR little endian element. */
export function element(group: number, elem: number, vr: string, value: Buffer, length?: number): Buffer {
  const long = LONG_VRS.includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elem, 2);
  h.write(vr, 4, 'ascii');
  if (long) h.writeUInt32LE(length ?? value.length, 8);
  else h.writeUInt16LE(length ?? value.length, 6);
  return Buffer.concat([h, value]);
}

const ITEM = (len: number) => {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(0xfffe, 0);
  b.writeUInt16LE(0xe000, 2);
  b.writeUInt32LE(len >>> 0, 4);
  return b;
};
const ITEM_END = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
const SEQ_END = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** Insert `extra` before the first element of group >= 0x0010 (so a header parser meets it before PixelData). */
export function insertEarly(dataset: Buffer, extra: Buffer): Buffer {
  // Walk explicit VR LE top-level elements until group 0x0010.
  let off = 0;
  while (off + 8 <= dataset.length) {
    const group = dataset.readUInt16LE(off);
    if (group >= 0x0010) break;
    const long = LONG_VRS.includes(dataset.toString('ascii', off + 4, off + 6));
    const len = long ? dataset.readUInt32LE(off + 8) : dataset.readUInt16LE(off + 6);
    if (len === 0xffffffff) break;
    off += (long ? 12 : 8) + len;
  }
  return Buffer.concat([dataset.subarray(0, off), extra, dataset.subarray(off)]);
}

/** Offset, header size and value length of the first top-level element (group, elem) of an explicit VR LE dataset. */
function findElement(dataset: Buffer, group: number, elem: number): { off: number; header: number; len: number; long: boolean } {
  let off = 0;
  while (off + 8 <= dataset.length) {
    const g = dataset.readUInt16LE(off);
    const e = dataset.readUInt16LE(off + 2);
    const long = LONG_VRS.includes(dataset.toString('ascii', off + 4, off + 6));
    const len = long ? dataset.readUInt32LE(off + 8) : dataset.readUInt16LE(off + 6);
    if (g === group && e === elem) return { off, header: long ? 12 : 8, len, long };
    if (len === 0xffffffff) break;
    off += (long ? 12 : 8) + len;
  }
  throw new Error(`element (${group.toString(16)},${elem.toString(16)}) not found`);
}

/** Replace the value length of the first top-level element (group, elem) in an explicit VR LE dataset. */
export function lieAboutLength(dataset: Buffer, group: number, elem: number, newLength: number): Buffer {
  const out = Buffer.from(dataset);
  const el = findElement(out, group, elem);
  if (el.long) out.writeUInt32LE(newLength >>> 0, el.off + 8);
  else out.writeUInt16LE(newLength & 0xffff, el.off + 6);
  return out;
}

/** Replace the value (and its length) of a short-VR top-level element, bypassing any writer's checks. */
export function replaceValue(dataset: Buffer, group: number, elem: number, value: Buffer): Buffer {
  const el = findElement(dataset, group, elem);
  if (el.long) throw new Error('replaceValue handles short-VR elements only');
  const header = Buffer.from(dataset.subarray(el.off, el.off + el.header));
  header.writeUInt16LE(value.length, 6);
  return Buffer.concat([dataset.subarray(0, el.off), header, value, dataset.subarray(el.off + el.header + el.len)]);
}

/** Undefined-length sequence whose item and sequence delimiters are missing (runs to the end of the data). */
export function undelimitedSequence(): Buffer {
  const inner = element(0x0008, 0x1150, 'UI', Buffer.from('1.2.840.10008.5.1.4.1.1.4\0'));
  return Buffer.concat([element(0x0008, 0x1140, 'SQ', Buffer.alloc(0), 0xffffffff), ITEM(0xffffffff), inner]);
}

/** `depth` nested undefined-length sequences, properly delimited (valid but very deep). */
export function deepSequence(depth: number): Buffer {
  const open: Buffer[] = [];
  const close: Buffer[] = [];
  for (let i = 0; i < depth; i++) {
    open.push(element(0x0040, 0xa730, 'SQ', Buffer.alloc(0), 0xffffffff), ITEM(0xffffffff));
    close.push(ITEM_END, SEQ_END);
  }
  return Buffer.concat([...open, element(0x0040, 0xa040, 'CS', Buffer.from('TEXT')), ...close]);
}

/** Set (replace or insert, in tag order) top-level elements of an explicit VR LE dataset; each is a full element. */
export function setElements(dataset: Buffer, elements: Buffer[]): Buffer {
  const tagOf = (b: Buffer, o = 0) => ((b.readUInt16LE(o) << 16) | b.readUInt16LE(o + 2)) >>> 0;
  const parts: { tag: number; bytes: Buffer }[] = [];
  let off = 0;
  while (off + 8 <= dataset.length) {
    const long = LONG_VRS.includes(dataset.toString('ascii', off + 4, off + 6));
    const len = long ? dataset.readUInt32LE(off + 8) : dataset.readUInt16LE(off + 6);
    if (len === 0xffffffff) break;
    const end = off + (long ? 12 : 8) + len;
    parts.push({ tag: tagOf(dataset, off), bytes: dataset.subarray(off, end) });
    off = end;
  }
  const rest = dataset.subarray(off);
  for (const e of elements) {
    const t = tagOf(e);
    const i = parts.findIndex((p) => p.tag >= t);
    if (i >= 0 && parts[i]!.tag === t) parts[i] = { tag: t, bytes: e };
    else parts.splice(i < 0 ? parts.length : i, 0, { tag: t, bytes: e });
  }
  return Buffer.concat([...parts.map((p) => p.bytes), rest]);
}

/** A Part-10 file = the original's preamble and meta group + a new dataset. */
export function withDataset(file: Buffer, dataset: Buffer): Buffer {
  return Buffer.concat([file.subarray(0, datasetOffset(file)), dataset]);
}

/** A text element with an even-length value (space padded). */
export function textElement(group: number, elem: number, vr: string, value: Buffer): Buffer {
  return element(group, elem, vr, value.length % 2 ? Buffer.concat([value, Buffer.from(' ')]) : value);
}

/** Secondary Capture, 8-bit YBR_FULL_422 uncompressed (2 stored samples per pixel), `frames` frames. */
export function writeYbr422(base: string, out: string, o: { rows?: number; columns?: number; frames?: number; sop: string }): void {
  const rows = o.rows ?? 16;
  const cols = o.columns ?? 16;
  const frames = o.frames ?? 1;
  rewrite(base, out, (d, m) => {
    d.SOPClassUID = m.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7';
    d.SOPInstanceUID = m.MediaStorageSOPInstanceUID = o.sop;
    d.Modality = 'OT';
    Object.assign(d, { SamplesPerPixel: 3, PhotometricInterpretation: 'YBR_FULL_422', PlanarConfiguration: 0, BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0, Rows: rows, Columns: cols });
    if (frames > 1) d.NumberOfFrames = frames;
    delete d.RescaleSlope;
    delete d.RescaleIntercept;
    d._vrMap.PixelData = 'OB';
    d.PixelData = Uint8Array.from({ length: rows * cols * 2 * frames }, (_, i) => (i % 4 === 1 || i % 4 === 3 ? 128 : (i * 7) % 256)).buffer;
  });
}
