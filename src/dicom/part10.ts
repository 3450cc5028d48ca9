/** Hand-written Part-10 preamble + file meta information group (explicit VR little endian), and its parser. */
import { LONG_VRS } from './reencode.js';
export const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1487.1';
export const IMPLEMENTATION_VERSION = 'OSTEOSCREEN_01';

function element(group: number, el: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB' || vr === 'OW' || vr === 'SQ' || vr === 'UN' || vr === 'UT';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(el, 2);
  head.write(vr, 4, 'ascii');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

function text(s: string, pad: string): Buffer {
  const b = Buffer.from(s, 'ascii');
  return b.length % 2 ? Buffer.concat([b, Buffer.from(pad, 'ascii')]) : b;
}

export function part10Header(sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string, sourceAe?: string): Buffer {
  const els = [
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', text(sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', text(sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION, ' ')),
  ];
  if (sourceAe) els.push(element(0x0002, 0x0016, 'AE', text(sourceAe.trim().slice(0, 16), ' ')));
  const body = Buffer.concat(els);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(body.length, 0);
  const groupLength = element(0x0002, 0x0000, 'UL', len);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'ascii'), groupLength, body]);
}

export interface Part10Parts {
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  /** Byte offset of the data set (first byte after the file meta group). */
  datasetOffset: number;
}

const asciiValue = (b: Buffer) => b.toString('latin1').replace(/[\0 ]+$/, '');

/** Parse the Part-10 preamble and file meta group (always explicit VR little endian). Throws when malformed. */
export function splitPart10(buf: Buffer): Part10Parts {
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a DICOM Part-10 file (no DICM prefix)');
  let off = 132;
  const meta: Record<number, Buffer> = {};
  while (off + 8 <= buf.length && buf.readUInt16LE(off) === 0x0002) {
    const el = buf.readUInt16LE(off + 2);
    const vr = buf.toString('latin1', off + 4, off + 6);
    let len: number;
    let head: number;
    if (LONG_VRS.has(vr)) {
      len = buf.readUInt32LE(off + 8);
      head = 12;
    } else {
      len = buf.readUInt16LE(off + 6);
      head = 8;
    }
    if (off + head + len > buf.length) throw new Error('truncated file meta information');
    meta[el] = buf.subarray(off + head, off + head + len);
    off += head + len;
  }
  const ts = meta[0x0010];
  const cls = meta[0x0002];
  const inst = meta[0x0003];
  if (!ts || !cls || !inst) throw new Error('file meta information lacks the transfer syntax or SOP UIDs');
  return { transferSyntaxUid: asciiValue(ts), sopClassUid: asciiValue(cls), sopInstanceUid: asciiValue(inst), datasetOffset: off };
}
