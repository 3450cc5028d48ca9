/**
 * Byte-level rewriting of an explicit VR little endian data set that never touches a value: only element
 * headers change. Used for
 * - `definedLengths`: sequences and items with explicit lengths instead of delimiters. This is how DCMTK-based
 *   archives (Orthanc among them) store what they receive, so writing our files this way means the PACS keeps the
 *   very bytes we wrote;
 * - `implicit`: implicit VR little endian, for a peer that accepted only that transfer syntax.
 * Encapsulated pixel data (undefined-length OB/OW) is copied as it is; it cannot be implicit VR (throws).
 */

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR. */
export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

export interface ReencodeOptions {
  /** Write implicit VR little endian (default: explicit, as read). */
  implicit?: boolean;
  /** Give every sequence and item an explicit length (default: keep each one's form). */
  definedLengths?: boolean;
}

function tagHeader(group: number, el: number, len: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(el, 2);
  h.writeUInt32LE(len >>> 0, 4);
  return h;
}

function elementHeader(group: number, el: number, vr: string, len: number, implicit: boolean): Buffer {
  if (implicit) return tagHeader(group, el, len);
  const long = LONG_VRS.has(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(el, 2);
  h.write(vr, 4, 'latin1');
  if (long) h.writeUInt32LE(len >>> 0, 8);
  else h.writeUInt16LE(len, 6);
  return h;
}

export function reencodeExplicitLE(buf: Buffer, opts: ReencodeOptions = {}): Buffer {
  const implicit = opts.implicit ?? false;
  const defined = opts.definedLengths ?? false;
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new Error(`truncated data set at byte ${pos}`);
  };

  /** Elements from pos until `end`, or until the item delimiter when `untilDelimiter`. */
  const elements = (end: number, untilDelimiter: boolean): Buffer[] => {
    const out: Buffer[] = [];
    while (pos < end) {
      need(8);
      const group = buf.readUInt16LE(pos);
      const el = buf.readUInt16LE(pos + 2);
      if (group === 0xfffe) {
        if (untilDelimiter && el === 0xe00d) {
          pos += 8;
          if (!defined) out.push(tagHeader(0xfffe, 0xe00d, 0));
          return out;
        }
        throw new Error(`unexpected (FFFE,${el.toString(16).toUpperCase()}) at byte ${pos}`);
      }
      const vr = buf.toString('latin1', pos + 4, pos + 6);
      if (!/^[A-Z]{2}$/.test(vr)) throw new Error(`not explicit VR at byte ${pos}`);
      let len: number;
      if (LONG_VRS.has(vr)) {
        need(12);
        len = buf.readUInt32LE(pos + 8);
        pos += 12;
      } else {
        len = buf.readUInt16LE(pos + 6);
        pos += 8;
      }
      if (vr === 'SQ') {
        const items = sequence(len);
        const bodyLen = items.reduce((s, b) => s + b.length, 0);
        const undefinedForm = len === UNDEFINED && !defined;
        out.push(elementHeader(group, el, vr, undefinedForm ? UNDEFINED : bodyLen, implicit), ...items);
      } else if (len === UNDEFINED) {
        if (implicit) throw new Error('encapsulated (undefined-length) data cannot be written as implicit VR');
        const start = pos;
        skipFragments();
        out.push(elementHeader(group, el, vr, UNDEFINED, false), buf.subarray(start, pos));
      } else {
        need(len);
        out.push(elementHeader(group, el, vr, len, implicit), buf.subarray(pos, pos + len));
        pos += len;
      }
    }
    if (untilDelimiter) throw new Error('item without delimiter');
    return out;
  };

  /** Items of a sequence whose value starts at pos; returns the encoded items (and delimiter when kept). */
  const sequence = (len: number): Buffer[] => {
    const out: Buffer[] = [];
    const end = len === UNDEFINED ? buf.length : pos + len;
    while (pos < end) {
      need(8);
      const g = buf.readUInt16LE(pos);
      const e = buf.readUInt16LE(pos + 2);
      const ilen = buf.readUInt32LE(pos + 4);
      pos += 8;
      if (g === 0xfffe && e === 0xe0dd) {
        if (len !== UNDEFINED) throw new Error('sequence delimiter in a defined-length sequence');
        if (!defined) out.push(tagHeader(0xfffe, 0xe0dd, 0));
        return out;
      }
      if (g !== 0xfffe || e !== 0xe000) throw new Error(`expected an item at byte ${pos - 8}`);
      const content = ilen === UNDEFINED ? elements(buf.length, true) : elements(pos + ilen, false);
      const contentLen = content.reduce((s, b) => s + b.length, 0);
      out.push(tagHeader(0xfffe, 0xe000, ilen === UNDEFINED && !defined ? UNDEFINED : contentLen), ...content);
    }
    if (len === UNDEFINED) throw new Error('sequence without delimiter');
    return out;
  };

  const skipFragments = () => {
    for (;;) {
      need(8);
      const g = buf.readUInt16LE(pos);
      const e = buf.readUInt16LE(pos + 2);
      const flen = buf.readUInt32LE(pos + 4);
      pos += 8;
      if (g === 0xfffe && e === 0xe0dd) return;
      if (g !== 0xfffe || e !== 0xe000 || flen === UNDEFINED) throw new Error(`bad pixel data fragment at byte ${pos - 8}`);
      need(flen);
      pos += flen;
    }
  };

  return Buffer.concat(elements(buf.length, false));
}
