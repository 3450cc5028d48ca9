/**
 * A structural walk over raw dataset bytes, independent of dcmjs (which trusts declared lengths: a PixelData
 * declaring 8192 bytes of which fewer arrived reads as 8192). Every element's declared length must fit in the
 * bytes received (and in its enclosing item or sequence); undefined-length sequences, items and encapsulated
 * pixel data must end with their delimiters. Top-level elements are reported to `visit` (tag, VR, value bytes),
 * and `notes` records a VR that PS3.5 does not define (read here with a 2-byte length).
 */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
/** Every VR of PS3.5 6.2. The walk reads another VR with a 2-byte length; dcmjs reads it as UN (4-byte length). */
const KNOWN_VRS = new Set([...LONG_VRS, 'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US']);
const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQ_END = 0xfffee0dd;
export const PIXEL_DATA = 0x7fe00010;
export const MAX_SEQUENCE_DEPTH = 64;

/** What the walk noticed besides problems. */
export interface WalkNotes {
  /** an element (at any depth) has a VR that PS3.5 does not define: other readers may read its length otherwise */
  unknownVr: boolean;
}

export interface RawElement {
  tag: number;
  vr: string;
  /** Value bytes (empty for undefined-length elements). */
  value: Buffer;
}

class Problem extends Error {}

class Walker {
  constructor(
    private readonly b: Buffer,
    private readonly explicit: boolean,
    private readonly little: boolean,
    private readonly notes: WalkNotes = { unknownVr: false },
  ) {}
  private u16(o: number): number {
    return this.little ? this.b.readUInt16LE(o) : this.b.readUInt16BE(o);
  }
  private u32(o: number): number {
    return this.little ? this.b.readUInt32LE(o) : this.b.readUInt32BE(o);
  }
  private tagAt(o: number): number {
    return ((this.u16(o) << 16) | this.u16(o + 2)) >>> 0;
  }
  private need(o: number, n: number, end: number, what: string): void {
    if (o + n > end) throw new Problem(`${what} needs ${n} bytes at offset ${o}, only ${Math.max(0, end - o)} remain`);
  }

  /** Elements from `o` to `end` (or to the delimiter `until`); returns the offset after them. */
  elements(o: number, end: number, depth: number, until: number | null, visit?: (e: RawElement) => void): number {
    if (depth > MAX_SEQUENCE_DEPTH) throw new Problem(`sequences nested deeper than ${MAX_SEQUENCE_DEPTH}`);
    while (o < end) {
      this.need(o, 8, end, 'element header');
      const tag = this.tagAt(o);
      if (tag === ITEM_END || tag === SEQ_END) {
        if (until === tag) return o + 8;
        throw new Problem(`unexpected delimiter (${hex(tag)}) at offset ${o}`);
      }
      let vr = '';
      let len: number;
      let hdr: number;
      // Item and delimiter tags are always implicit; group 0xFFFE elements elsewhere are malformed.
      if (this.explicit && tag >>> 16 !== 0xfffe) {
        vr = this.b.toString('latin1', o + 4, o + 6);
        if (!/^[A-Z]{2}$/.test(vr)) throw new Problem(`invalid VR at offset ${o + 4} (${hex(tag)})`);
        if (!KNOWN_VRS.has(vr)) this.notes.unknownVr = true;
        if (LONG_VRS.has(vr)) {
          this.need(o, 12, end, 'element header');
          len = this.u32(o + 8);
          hdr = 12;
        } else {
          len = this.u16(o + 6);
          hdr = 8;
        }
      } else {
        len = this.u32(o + 4);
        hdr = 8;
      }
      o += hdr;
      if (len === UNDEFINED) {
        if (tag === PIXEL_DATA && vr !== 'SQ') o = this.fragments(o, end);
        else o = this.sequence(o, end, depth + 1, vr === 'UN' || !this.explicit);
        visit?.({ tag, vr, value: Buffer.alloc(0) });
        continue;
      }
      if (o + len > end) throw new Problem(`element ${hex(tag)} declares ${len} bytes, only ${end - o} remain`);
      if (vr === 'SQ') this.definedSequence(o, o + len, depth + 1);
      visit?.({ tag, vr, value: this.b.subarray(o, o + len) });
      o += len;
    }
    if (until !== null) throw new Problem(`missing delimiter ${hex(until)}: the data ends first`);
    return o;
  }

  private item(o: number, end: number, depth: number): number {
    this.need(o, 8, end, 'item header');
    const tag = this.tagAt(o);
    if (tag !== ITEM) throw new Problem(`expected an item at offset ${o}, found ${hex(tag)}`);
    const len = this.u32(o + 4);
    o += 8;
    if (len === UNDEFINED) return this.elements(o, end, depth, ITEM_END);
    if (o + len > end) throw new Problem(`item declares ${len} bytes, only ${end - o} remain`);
    this.elements(o, o + len, depth, null);
    return o + len;
  }

  private definedSequence(o: number, end: number, depth: number): void {
    while (o < end) o = this.item(o, end, depth);
  }

  /** Undefined-length sequence: items until the sequence delimiter. (UN content is implicit VR little endian.) */
  private sequence(o: number, end: number, depth: number, implicit: boolean): number {
    const w = implicit && this.explicit ? new Walker(this.b, false, true, this.notes) : this;
    for (;;) {
      w.need(o, 8, end, 'item header');
      if (w.tagAt(o) === SEQ_END) return o + 8;
      o = w.item(o, end, depth);
    }
  }

  /** Encapsulated pixel data: defined-length fragments until the sequence delimiter. */
  private fragments(o: number, end: number): number {
    for (;;) {
      this.need(o, 8, end, 'fragment header');
      const tag = this.tagAt(o);
      const len = this.u32(o + 4);
      if (tag === SEQ_END) return o + 8;
      if (tag !== ITEM || len === UNDEFINED) throw new Problem(`invalid fragment at offset ${o}`);
      if (o + 8 + len > end) throw new Problem(`pixel data fragment declares ${len} bytes, only ${end - o - 8} remain`);
      o += 8 + len;
    }
  }
}

function hex(tag: number): string {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/**
 * Why the dataset bytes (no Part-10 header) in transfer syntax `ts` are truncated or structurally broken, or null.
 * Compressed syntaxes are explicit VR little endian around their fragments; big endian is 1.2.840.10008.1.2.2.
 */
export function datasetStructureProblem(dataset: Buffer, ts: string, visit?: (e: RawElement) => void, notes?: WalkNotes): string | null {
  const explicit = ts !== '1.2.840.10008.1.2';
  const little = ts !== '1.2.840.10008.1.2.2';
  try {
    new Walker(dataset, explicit, little, notes).elements(0, dataset.length, 0, null, visit);
    return null;
  } catch (e) {
    if (e instanceof Problem) return e.message;
    throw e;
  }
}
