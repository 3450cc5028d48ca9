/**
 * The index's fields of a received instance read straight from the top-level elements that the structure walk
 * (./elements.ts) has already found, without dcmjs (issue 28: the dcmjs parse was a third of the listener's time,
 * most of it spent building objects for elements nobody reads).
 *
 * Only where this provably gives the answer of the dcmjs path (`parseInstance` + `instanceMeta` in ./tags.ts); for
 * anything else it returns undefined and that path decides, so a malformed or unusual instance is judged exactly
 * as before. The fast path takes an instance when
 * - its transfer syntax is explicit VR little endian (the walk has then checked every element's VR and length,
 *   inside sequences too; implicit VR would leave dcmjs to read sequence contents that the walk did not check),
 *   and every VR, at any depth, is one that PS3.5 defines (the walk reads another with a 2-byte length, dcmjs as
 *   UN with a 4-byte one, and the two then see different elements);
 * - every top-level tag appears once, in ascending order, none below group 0008 or of VR UN, and PixelData (if
 *   any) is the last one: exactly the elements dcmjs would read;
 * - it is not an Enhanced (functional group) image: those fields live in sequences;
 * - every value it reads has the VR the standard gives it and plain content: printable ASCII (so every character
 *   set reads it the same), a UID of digits and dots, a number that parseFloat and Number read alike, a US of one
 *   value, a person name without component groups ('=').
 * `test/dicom/parse-instance.test.ts` compares both paths on good instances (synthetic, phantom, the real sites'
 * series), targeted malformations and zzuf mutations.
 */
import { PIXEL_DATA, type RawElement, type WalkNotes } from './elements.js';
import { pixelCountProblem, type InstanceMeta } from './tags.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './write.js';

const SHARED_FUNCTIONAL_GROUPS = 0x52009229;
const PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230;

type Kind = 'uid' | 'str' | 'int' | 'num' | 'nums' | 'strs' | 'pn' | 'us';

/** The fields read, by tag: name in InstanceMeta (or the image attribute), VR and how its value is read. */
const FIELDS = new Map<number, [name: string, vr: string, kind: Kind]>([
  [0x00080008, ['imageType', 'CS', 'strs']],
  [0x00080016, ['sopClassUid', 'UI', 'uid']],
  [0x00080018, ['sopInstanceUid', 'UI', 'uid']],
  [0x00080020, ['studyDate', 'DA', 'str']],
  [0x00080030, ['studyTime', 'TM', 'str']],
  [0x00080050, ['accessionNumber', 'SH', 'str']],
  [0x00080060, ['modality', 'CS', 'str']],
  [0x00080070, ['manufacturer', 'LO', 'str']],
  [0x00081010, ['stationName', 'SH', 'str']],
  [0x00081030, ['studyDescription', 'LO', 'str']],
  [0x0008103e, ['seriesDescription', 'LO', 'str']],
  [0x00081090, ['manufacturerModelName', 'LO', 'str']],
  [0x00100010, ['patientName', 'PN', 'pn']],
  [0x00100020, ['patientId', 'LO', 'str']],
  [0x00100030, ['patientBirthDate', 'DA', 'str']],
  [0x00100040, ['patientSex', 'CS', 'str']],
  [0x00180015, ['bodyPartExamined', 'CS', 'str']],
  [0x00180080, ['repetitionTime', 'DS', 'num']],
  [0x00180081, ['echoTime', 'DS', 'num']],
  [0x00180082, ['inversionTime', 'DS', 'num']],
  [0x0020000d, ['studyInstanceUid', 'UI', 'uid']],
  [0x0020000e, ['seriesInstanceUid', 'UI', 'uid']],
  [0x00200011, ['seriesNumber', 'IS', 'int']],
  [0x00200013, ['instanceNumber', 'IS', 'int']],
  [0x00200032, ['imagePositionPatient', 'DS', 'nums']],
  [0x00200037, ['imageOrientationPatient', 'DS', 'nums']],
  [0x00280002, ['SamplesPerPixel', 'US', 'us']],
  [0x00280004, ['PhotometricInterpretation', 'CS', 'str']],
  [0x00280008, ['NumberOfFrames', 'IS', 'int']],
  [0x00280010, ['Rows', 'US', 'us']],
  [0x00280011, ['Columns', 'US', 'us']],
  [0x00280100, ['BitsAllocated', 'US', 'us']],
]);

/** The image attributes of the PixelData check (named as dcmjs names them; the others are InstanceMeta's). */
const IMAGE_ATTRIBUTE = /^[A-Z]/;

/** A decimal or integer string that Number and parseFloat read alike (surrounding spaces aside). */
const DECIMAL = /^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$/;
const INTEGER = /^ *[+-]?\d+ *$/;

/** Printable ASCII only (0x20-0x7E); UIDs may end in NUL padding. */
function plain(b: Buffer, nulPad: boolean): boolean {
  let end = b.length;
  if (nulPad) while (end > 0 && b[end - 1] === 0) end--;
  for (let i = 0; i < end; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
  return true;
}

/** undefined: the value is not plain enough to be sure (the dcmjs path decides). null: no value. */
function read(e: RawElement, kind: Kind): unknown {
  if (kind === 'us') return e.value.length === 2 ? e.value.readUInt16LE(0) : undefined;
  if (!plain(e.value, kind === 'uid')) return undefined;
  const text = e.value.toString('latin1');
  const values = text.split('\\');
  const first = values[0]!.trim();
  switch (kind) {
    case 'uid': {
      // digits and dots, trailing NUL/space padding only, one value: what dcmjs keeps as is
      const v = text.replace(/[\0 ]+$/, '');
      return /^[0-9.]*$/.test(v) ? v || null : undefined;
    }
    case 'str':
      return first || null;
    case 'pn':
      return first.includes('=') ? undefined : first || null;
    case 'int':
    case 'num': {
      // as instanceMeta's num(): a value that is not a finite number counts as absent
      if (first === '') return null;
      if (!(kind === 'int' ? INTEGER : DECIMAL).test(values[0]!)) return undefined;
      const n = Number(first);
      return Number.isFinite(n) ? n : null;
    }
    case 'nums': {
      if (text.trim() === '') return null;
      if (!values.every((v) => DECIMAL.test(v))) return undefined;
      const ns = values.map(Number);
      return ns.every(Number.isFinite) ? ns : null;
    }
    case 'strs': {
      const out = values.map((v) => v.trim());
      return text.trim() === '' ? undefined : out;
    }
  }
}

export interface FastInstance {
  info: InstanceMeta;
  /** The PixelData length check's answer (null: fine). */
  pixelProblem: string | null;
}

/**
 * The instance's index fields and PixelData verdict from its walked top-level elements (and the walk's notes), or
 * undefined when the dcmjs path must decide (see the file comment); also when the data set has no SOPClassUID
 * (instanceMeta then reads the file meta header's).
 */
export function fastInstance(elements: readonly RawElement[], transferSyntaxUid: string, walk: WalkNotes): FastInstance | undefined {
  // explicit VR little endian is native: its PixelData length can be checked
  if (transferSyntaxUid !== EXPLICIT_VR_LITTLE_ENDIAN || walk.unknownVr) return undefined;
  const got: Record<string, unknown> = {};
  let last = -1;
  let pixelBytes: number | undefined;
  for (let n = 0; n < elements.length; n++) {
    const e = elements[n]!;
    if (e.tag <= last || e.tag >>> 16 < 0x0008 || e.vr === 'UN') return undefined;
    last = e.tag;
    if (e.tag === SHARED_FUNCTIONAL_GROUPS || e.tag === PER_FRAME_FUNCTIONAL_GROUPS) return undefined;
    if (e.tag === PIXEL_DATA) {
      if (n !== elements.length - 1 || (e.vr !== 'OW' && e.vr !== 'OB') || e.value.length === 0) return undefined;
      pixelBytes = e.value.length;
      continue;
    }
    const f = FIELDS.get(e.tag);
    if (!f) continue;
    const [name, vr, kind] = f;
    if (e.vr !== vr) return undefined;
    const v = read(e, kind);
    // an image attribute present but empty: dcmjs's reading of it decides the PixelData check
    if (v === undefined || (v === null && IMAGE_ATTRIBUTE.test(name))) return undefined;
    if (v !== null) got[name] = v;
  }
  if (got.sopClassUid === undefined) return undefined;
  const s = (k: string) => got[k] as string | undefined;
  const x = (k: string) => got[k] as number | undefined;
  const info: InstanceMeta = {
    sopClassUid: s('sopClassUid')!,
    sopInstanceUid: s('sopInstanceUid') ?? '',
    studyInstanceUid: s('studyInstanceUid') ?? '',
    seriesInstanceUid: s('seriesInstanceUid') ?? '',
    transferSyntaxUid,
    modality: s('modality'),
    seriesDescription: s('seriesDescription'),
    seriesNumber: x('seriesNumber'),
    bodyPartExamined: s('bodyPartExamined'),
    imageOrientationPatient: got.imageOrientationPatient as number[] | undefined,
    imagePositionPatient: got.imagePositionPatient as number[] | undefined,
    repetitionTime: x('repetitionTime'),
    echoTime: x('echoTime'),
    inversionTime: x('inversionTime'),
    imageType: got.imageType as string[] | undefined,
    instanceNumber: x('instanceNumber'),
    manufacturer: s('manufacturer'),
    manufacturerModelName: s('manufacturerModelName'),
    stationName: s('stationName'),
    patientName: s('patientName'),
    patientId: s('patientId'),
    patientBirthDate: s('patientBirthDate'),
    patientSex: s('patientSex'),
    studyDate: s('studyDate'),
    studyTime: s('studyTime'),
    accessionNumber: s('accessionNumber'),
    studyDescription: s('studyDescription'),
  };
  return { info, pixelProblem: pixelBytes === undefined ? null : pixelCountProblem(pixelBytes, got) };
}
