/**
 * Character sets dcmjs cannot read: a multi-valued SpecificCharacterSet with ISO 2022 code extensions
 * (PS3.5 6.1.2.5, Annex H/I/J: "\ISO 2022 IR 87", "ISO 2022 IR 13\ISO 2022 IR 87", "\ISO 2022 IR 149", ...).
 * dcmjs throws "Using multiple character sets is not supported". readDicomFile hands dcmjs a copy whose
 * SpecificCharacterSet is a single-byte one (same length), then decodes the top-level text elements from their
 * raw bytes with the escape sequences honoured (Node's TextDecoder for EUC-JP / EUC-KR / GBK tables).
 * The file itself is stored unchanged.
 */
import dcmjs from 'dcmjs';
import { datasetStructureProblem, type RawElement } from './elements.js';
import { ownsWholeBuffer } from '../common/buffer-pool.js';

const { DicomMessage, DicomMetaDictionary } = (dcmjs as any).data;
const TEXT_VRS = new Set(['PN', 'SH', 'LO', 'ST', 'LT', 'UT', 'UC']);
const ESC = 0x1b;

type G0 = 'ascii' | 'romaji' | 'jis0208' | 'jis0212';
type G1 = 'none' | 'katakana' | 'ksx1001' | 'gb2312' | string; // string: a single-byte 96-set TextDecoder label
interface State {
  g0: G0;
  g1: G1;
}

/** ISO 8859 / TIS 96-character sets by their ESC - <final> designation. */
const G1_96: Record<string, string> = { A: 'iso-8859-1', B: 'iso-8859-2', C: 'iso-8859-3', D: 'iso-8859-4', L: 'iso-8859-5', G: 'iso-8859-6', F: 'iso-8859-7', H: 'iso-8859-8', M: 'iso-8859-9', T: 'windows-874' };
const TERM_G1: Record<string, G1> = { '100': 'iso-8859-1', '101': 'iso-8859-2', '109': 'iso-8859-3', '110': 'iso-8859-4', '144': 'iso-8859-5', '127': 'iso-8859-6', '126': 'iso-8859-7', '138': 'iso-8859-8', '148': 'iso-8859-9', '166': 'windows-874', '13': 'katakana', '149': 'ksx1001', '58': 'gb2312' };

const decoders = new Map<string, TextDecoder>();
function dec(label: string, bytes: number[]): string {
  let d = decoders.get(label);
  if (!d) decoders.set(label, (d = new TextDecoder(label)));
  return d.decode(Uint8Array.from(bytes));
}

/** The initial code elements a SpecificCharacterSet's first value designates. */
function initialState(first: string): State {
  const ir = /IR[ _]?(\d+)/.exec(first.toUpperCase())?.[1] ?? '6';
  if (ir === '13') return { g0: 'romaji', g1: 'katakana' };
  return { g0: 'ascii', g1: TERM_G1[ir] ?? 'none' };
}

/** True when dcmjs cannot read the value (more than one term) or the terms use ISO 2022 code extensions. */
export function needsIso2022(charsets: string[]): boolean {
  return charsets.length > 1 || charsets.some((c) => /ISO 2022/i.test(c));
}

/** Decode text bytes written with ISO 2022 escape sequences. PN resets at '^' and '=' as well as at '\\' and controls. */
export function decodeIso2022(bytes: Uint8Array, charsets: string[], vr = 'LO'): string {
  const init = initialState(charsets[0] ?? '');
  let st: State = { ...init };
  const resets = vr === 'PN' ? [0x5c, 0x5e, 0x3d, 0x0a, 0x0d, 0x0c, 0x09] : [0x5c, 0x0a, 0x0d, 0x0c, 0x09];
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b === ESC) {
      const a = bytes[i + 1];
      const c = bytes[i + 2];
      const d = bytes[i + 3];
      const ch = (x: number | undefined) => (x === undefined ? '' : String.fromCharCode(x));
      if (a === 0x28 /* ( */) (st.g0 = ch(c) === 'J' ? 'romaji' : 'ascii'), (i += 3);
      else if (a === 0x29 /* ) */ && ch(c) === 'I') (st.g1 = 'katakana'), (i += 3);
      else if (a === 0x2d /* - */) (st.g1 = G1_96[ch(c)] ?? 'none'), (i += 3);
      else if (a === 0x24 /* $ */ && (ch(c) === 'B' || ch(c) === '@')) (st.g0 = 'jis0208'), (i += 3);
      else if (a === 0x24 && c === 0x28 && ch(d) === 'D') (st.g0 = 'jis0212'), (i += 4);
      else if (a === 0x24 && c === 0x29) (st.g1 = ch(d) === 'C' ? 'ksx1001' : ch(d) === 'A' ? 'gb2312' : 'none'), (i += 4);
      else i += 1; // unknown escape: drop the ESC
      continue;
    }
    if (b < 0x80) {
      if ((st.g0 === 'jis0208' || st.g0 === 'jis0212') && b >= 0x21 && b <= 0x7e && i + 1 < bytes.length) {
        const n = bytes[i + 1]!;
        out += st.g0 === 'jis0208' ? dec('euc-jp', [b | 0x80, n | 0x80]) : dec('euc-jp', [0x8f, b | 0x80, n | 0x80]);
        i += 2;
        continue;
      }
      out += st.g0 === 'romaji' && b === 0x5c ? '\u00a5' : st.g0 === 'romaji' && b === 0x7e ? '\u203e' : String.fromCharCode(b);
      if (resets.includes(b)) st = { ...init };
      i += 1;
      continue;
    }
    if (st.g1 === 'katakana' && b >= 0xa1 && b <= 0xdf) (out += String.fromCharCode(0xff61 + b - 0xa1)), (i += 1);
    else if ((st.g1 === 'ksx1001' || st.g1 === 'gb2312') && i + 1 < bytes.length) (out += dec(st.g1 === 'ksx1001' ? 'euc-kr' : 'gbk', [b, bytes[i + 1]!])), (i += 2);
    else if (st.g1 !== 'none' && st.g1 !== 'katakana' && st.g1 !== 'ksx1001' && st.g1 !== 'gb2312') (out += dec(st.g1, [b])), (i += 1);
    else (out += '\ufffd'), (i += 1);
  }
  return out;
}

function datasetStart(buf: Buffer): { offset: number; ts: string } | null {
  if (buf.length < 144 || buf.toString('latin1', 128, 132) !== 'DICM') return null;
  const end = 144 + buf.readUInt32LE(140);
  if (end > buf.length) return null;
  const i = buf.indexOf(Buffer.from([0x02, 0x00, 0x10, 0x00]), 132);
  if (i < 0 || i >= end) return null;
  const ts = buf.toString('latin1', i + 8, i + 8 + buf.readUInt16LE(i + 6)).replace(/[\0 ]+$/, '');
  return { offset: end, ts };
}

function vrOf(tag: number, vr: string): string {
  if (vr) return vr;
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return DicomMetaDictionary.dictionary[`(${h.slice(0, 4)},${h.slice(4)})`]?.vr ?? '';
}

function textValues(bytes: Uint8Array, charsets: string[], vr: string): unknown[] {
  const s = decodeIso2022(bytes, charsets, vr).replace(/[\0 ]+$/, '');
  const values = vr === 'LT' || vr === 'ST' || vr === 'UT' ? [s] : s.split('\\').map((v) => v.trim());
  if (vr !== 'PN') return values;
  return values.map((v) => {
    const [a, i, p] = v.split('=');
    return { ...(a ? { Alphabetic: a } : {}), ...(i ? { Ideographic: i } : {}), ...(p ? { Phonetic: p } : {}) };
  });
}

/**
 * DicomMessage.readFile that also reads ISO 2022 multi-character-set files: the top-level text elements come
 * out decoded (PN as Alphabetic/Ideographic/Phonetic groups). Other files go to dcmjs unchanged.
 */
export function readDicomFile(buf: Buffer | Uint8Array, options?: Record<string, unknown>): { meta: Record<string, any>; dict: Record<string, any> } {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  // dcmjs reads an ArrayBuffer: a buffer that owns all of its memory is given as it is (dcmjs only reads it),
  // a view into a larger one is copied out.
  const ab = (x: Buffer) => (ownsWholeBuffer(x) ? x.buffer : x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength)) as ArrayBuffer;
  const start = datasetStart(b);
  if (!start) return DicomMessage.readFile(ab(b), options);
  const ds = b.subarray(start.offset);
  const text: RawElement[] = [];
  let charsetEl: RawElement | undefined;
  // Look at (0008,0005) first: only ISO 2022 files pay for the walk over the text elements.
  const head = ds.subarray(0, 4096);
  const idx = head.indexOf(Buffer.from([0x08, 0x00, 0x05, 0x00]));
  if (idx < 0 || !/ISO 2022|\\/.test(head.toString('latin1', idx, idx + 80))) return DicomMessage.readFile(ab(b), options);
  datasetStructureProblem(ds, start.ts, (e) => {
    if (e.tag === 0x00080005) charsetEl = e;
    else if (TEXT_VRS.has(vrOf(e.tag, e.vr))) text.push({ ...e, vr: vrOf(e.tag, e.vr) });
  });
  if (!charsetEl) return DicomMessage.readFile(ab(b), options);
  const charsets = charsetEl.value.toString('latin1').replace(/[\0 ]+$/, '').split('\\').map((s) => s.trim());
  if (!needsIso2022(charsets) || charsetEl.value.length < 10) return DicomMessage.readFile(ab(b), options);
  const copy = Buffer.from(b);
  const at = charsetEl.value.byteOffset - b.byteOffset;
  copy.fill(0x20, at, at + charsetEl.value.length);
  copy.write('ISO_IR 100', at, 'latin1');
  const dict = DicomMessage.readFile(ab(copy), options);
  for (const e of text) {
    const h = e.tag.toString(16).toUpperCase().padStart(8, '0');
    const el = dict.dict[h];
    if (el) el.Value = textValues(e.value, charsets, e.vr);
  }
  if (dict.dict['00080005']) dict.dict['00080005'].Value = charsets;
  return dict;
}
