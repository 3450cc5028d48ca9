import dcmjs from 'dcmjs';
import { readDicomFile } from './charset.js';

const { DicomMetaDictionary } = dcmjs.data;
// dcmjs prints its validation warnings ("Invalid vr type ...", with bytes from the network) straight to stdout:
// keep them out of our logs; what matters is reported by our own checks.
(dcmjs as any).log?.getLogger?.('validation.dcmjs')?.setLevel?.('silent');

/** The header fields of one received instance that the index keeps (identifiers too: never logged). */
export interface InstanceMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  modality?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  bodyPartExamined?: string;
  imageOrientationPatient?: number[];
  imagePositionPatient?: number[];
  repetitionTime?: number;
  echoTime?: number;
  inversionTime?: number;
  imageType?: string[];
  instanceNumber?: number;
  manufacturer?: string;
  manufacturerModelName?: string;
  stationName?: string;
  // Patient/study module: stored in the index, shown only behind the admin token, never logged.
  patientName?: string;
  patientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyDescription?: string;
}

/** Transfer syntaxes whose PixelData is stored uncompressed (native), so its length can be checked. */
export const NATIVE_TRANSFER_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);

/** PixelData (7FE0,0010) as dcmjs keys it in a parsed dict. */
export const PIXEL_DATA_KEY = '7FE00010';

/**
 * For a native (uncompressed) image: does PixelData hold exactly Rows x Columns x Samples x Frames x bytes per
 * sample (one pad byte allowed)? Returns why not, or null. Non-image objects (no PixelData) pass.
 */
export function pixelDataProblem(buf: Buffer, transferSyntaxUid: string, ds: Record<string, any>): string | null {
  if (!NATIVE_TRANSFER_SYNTAXES.has(transferSyntaxUid)) return null;
  return pixelLengthProblem(readDicomFile(buf, { ignoreErrors: false }).dict[PIXEL_DATA_KEY], ds);
}

/** pixelDataProblem for the PixelData element of a full dcmjs parse (undefined: none). */
function pixelLengthProblem(px: { Value?: unknown } | undefined, ds: Record<string, any>): string | null {
  if (!px) return null;
  const values = (Array.isArray(px.Value) ? px.Value : [px.Value]) as (ArrayBuffer | undefined)[];
  return pixelCountProblem(values.reduce((n, v) => n + (v?.byteLength ?? 0), 0), ds);
}

/**
 * The one PixelData length rule: `actual` bytes of native PixelData against what the image attributes of `ds` (as
 * dcmjs naturalises them: Rows, Columns, BitsAllocated, SamplesPerPixel, NumberOfFrames, PhotometricInterpretation)
 * need. Returns why not, or null.
 */
export function pixelCountProblem(actual: number, ds: Record<string, any>): string | null {
  const rows = Number(ds.Rows);
  const cols = Number(ds.Columns);
  const bits = Number(ds.BitsAllocated);
  const spp = Number(ds.SamplesPerPixel ?? 1);
  const frames = Number(ds.NumberOfFrames ?? 1);
  if (!(rows > 0 && cols > 0)) return `Rows ${ds.Rows} x Columns ${ds.Columns} is not a valid image size`;
  if (![1, 8, 16, 32, 64].includes(bits)) return `BitsAllocated ${ds.BitsAllocated} is not supported`;
  if (!(spp >= 1 && spp <= 4) || !(frames >= 1)) return `SamplesPerPixel ${ds.SamplesPerPixel} / NumberOfFrames ${ds.NumberOfFrames} invalid`;
  // YBR_FULL_422 / YBR_PARTIAL_422 (uncompressed): two luminance samples share one Cb and one Cr, so two
  // samples per pixel are stored, not three (PS3.3 C.7.6.3.1.2).
  const subsampled = spp === 3 && /^YBR_(FULL|PARTIAL)_422$/.test(String(ds.PhotometricInterpretation ?? '').trim());
  const stored = subsampled ? 2 : spp;
  const expected = bits === 1 ? Math.ceil((rows * cols * stored * frames) / 8) : rows * cols * stored * frames * (bits / 8);
  if (actual < expected || actual > expected + 1) return `PixelData holds ${actual} bytes, Rows x Columns x Samples x Frames x BitsAllocated needs ${expected}`;
  return null;
}

/** Parse a Part-10 buffer up to (not including) the pixel data; returns the naturalized dataset and file meta. */
export function parseHeader(buf: Buffer): { meta: Record<string, any>; dataset: Record<string, any>; uidProblems: string[] } {
  const dict = readDicomFile(buf, { untilTag: PIXEL_DATA_KEY, includeUntilTagValue: false });
  return {
    meta: DicomMetaDictionary.naturalizeDataset(dict.meta),
    dataset: DicomMetaDictionary.naturalizeDataset(dict.dict),
    uidProblems: uidProblems(dict.dict),
  };
}

export interface ParsedInstance {
  meta: Record<string, any>;
  dataset: Record<string, any>;
  uidProblems: string[];
  /** pixelDataProblem's answer (null: fine, or not a native transfer syntax). */
  pixelProblem: string | null;
}

/**
 * parseHeader, then (when there are no UID problems) pixelDataProblem: the same answers, and the same exceptions, as
 * calling them in that order, with one dcmjs parse instead of two where that is provably the same. A native
 * instance is parsed once in full; its header is that parse without PixelData when PixelData is the last top-level
 * element and dcmjs read exactly the top-level elements of the structure walk (`topLevel`, from
 * datasetStructureProblem: tags in order), so the header parse (which stops at the top-level PixelData) would
 * have read the same elements. Anything else (a parse error, elements after PixelData, a disagreement) takes the
 * two parses, so a malformed instance is judged exactly as before.
 */
export function parseInstance(buf: Buffer, transferSyntaxUid: string, topLevel: number[]): ParsedInstance {
  if (NATIVE_TRANSFER_SYNTAXES.has(transferSyntaxUid)) {
    let full: ReturnType<typeof readDicomFile> | undefined;
    try {
      full = readDicomFile(buf, { ignoreErrors: false });
    } catch {
      full = undefined; // judged by the two parses below (same error, same order as before)
    }
    if (full && sameTopLevel(full.dict, topLevel)) {
      const { [PIXEL_DATA_KEY]: px, ...header } = full.dict;
      const dataset = DicomMetaDictionary.naturalizeDataset(header);
      const bad = uidProblems(header);
      return { meta: DicomMetaDictionary.naturalizeDataset(full.meta), dataset, uidProblems: bad, pixelProblem: bad.length ? null : pixelLengthProblem(px, dataset) };
    }
  }
  const { meta, dataset, uidProblems: bad } = parseHeader(buf);
  return { meta, dataset, uidProblems: bad, pixelProblem: bad.length ? null : pixelDataProblem(buf, transferSyntaxUid, dataset) };
}

/** dcmjs's top-level dict holds exactly the walk's elements, each tag once, and PixelData (if any) came last. */
function sameTopLevel(dict: Record<string, unknown>, topLevel: number[]): boolean {
  const keys = Object.keys(dict);
  if (keys.length !== topLevel.length) return false;
  const tags = topLevel.map((t) => t.toString(16).toUpperCase().padStart(8, '0'));
  if (new Set(tags).size !== tags.length) return false;
  for (const t of tags) if (!(t in dict)) return false;
  const pd = tags.indexOf(PIXEL_DATA_KEY);
  return pd === -1 || pd === tags.length - 1;
}

/** The UIDs that later become file names or identify the instance. */
const KEY_UID_TAGS: Record<string, string> = {
  '00080016': 'SOPClassUID',
  '00080018': 'SOPInstanceUID',
  '0020000D': 'StudyInstanceUID',
  '0020000E': 'SeriesInstanceUID',
};

/**
 * dcmjs silently removes every character that is not a digit or a dot from UI values ("1.2.3/../x" reads as
 * "1.2.3"), so an instance could be filed under a UID it does not carry. Compare the raw bytes with the
 * formatted value and name the attributes whose raw value held anything else (trailing NUL/space padding aside).
 */
export function uidProblems(rawDict: Record<string, any>): string[] {
  const bad: string[] = [];
  for (const [tag, name] of Object.entries(KEY_UID_TAGS)) {
    const el = rawDict[tag];
    const raw = el?._rawValue;
    if (raw === undefined || raw === null) continue;
    const values: unknown[] = Array.isArray(raw) ? raw : [raw];
    if (values.some((v) => typeof v === 'string' && !/^[0-9.]*$/.test(v.replace(/[\0 ]+$/, '')))) bad.push(name);
  }
  return bad;
}

/** A PN value as text: the component groups that are present, '='-separated (Yamada^Tarou=山田^太郎=やまだ^たろう). */
export function personName(v: unknown): string {
  const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
  while (groups.length && !groups[groups.length - 1]) groups.pop();
  return groups.join('=').trim();
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length ? str(v[0]) : undefined;
  if (typeof v === 'object') {
    return personName(v) || undefined;
  }
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

function num(v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function nums(v: unknown): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : String(v).split('\\');
  const out = arr.map((x) => Number(x));
  return out.length && out.every(Number.isFinite) ? out : undefined;
}

function strs(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : String(v).split('\\');
  return arr.map((x) => String(x).trim());
}

/** First item of a functional-group sequence (Enhanced MR keeps TR/TE/orientation there). */
function group(ds: Record<string, any>, seq: string, inner: string): Record<string, any> | undefined {
  const g = ds[seq];
  const item = Array.isArray(g) ? g[0] : g;
  const v = item?.[inner];
  return Array.isArray(v) ? v[0] : v;
}

/** The index's view of one instance (no pixel data). */
export function instanceMeta(meta: Record<string, any>, ds: Record<string, any>): InstanceMeta {
  const shared = 'SharedFunctionalGroupsSequence';
  const perFrame = 'PerFrameFunctionalGroupsSequence';
  const iop = nums(ds.ImageOrientationPatient) ?? nums(group(ds, shared, 'PlaneOrientationSequence')?.ImageOrientationPatient);
  const ipp = nums(ds.ImagePositionPatient) ?? nums(group(ds, perFrame, 'PlanePositionSequence')?.ImagePositionPatient);
  const tr = num(ds.RepetitionTime) ?? num(group(ds, shared, 'MRTimingAndRelatedParametersSequence')?.RepetitionTime);
  const te = num(ds.EchoTime) ?? num(group(ds, shared, 'MREchoSequence')?.EffectiveEchoTime) ?? num(group(ds, perFrame, 'MREchoSequence')?.EffectiveEchoTime);
  const ti = num(ds.InversionTime) ?? num(group(ds, shared, 'MRModifierSequence')?.InversionTimes);
  return {
    sopClassUid: str(ds.SOPClassUID) ?? str(meta.MediaStorageSOPClassUID) ?? '',
    sopInstanceUid: str(ds.SOPInstanceUID) ?? '',
    studyInstanceUid: str(ds.StudyInstanceUID) ?? '',
    seriesInstanceUid: str(ds.SeriesInstanceUID) ?? '',
    transferSyntaxUid: str(meta.TransferSyntaxUID) ?? '',
    modality: str(ds.Modality),
    seriesDescription: str(ds.SeriesDescription),
    seriesNumber: num(ds.SeriesNumber),
    bodyPartExamined: str(ds.BodyPartExamined),
    imageOrientationPatient: iop,
    imagePositionPatient: ipp,
    repetitionTime: tr,
    echoTime: te,
    inversionTime: ti,
    imageType: strs(ds.ImageType),
    instanceNumber: num(ds.InstanceNumber),
    manufacturer: str(ds.Manufacturer),
    manufacturerModelName: str(ds.ManufacturerModelName),
    stationName: str(ds.StationName),
    patientName: str(ds.PatientName),
    patientId: str(ds.PatientID),
    patientBirthDate: str(ds.PatientBirthDate),
    patientSex: str(ds.PatientSex),
    studyDate: str(ds.StudyDate),
    studyTime: str(ds.StudyTime),
    accessionNumber: str(ds.AccessionNumber),
    studyDescription: str(ds.StudyDescription),
  };
}
