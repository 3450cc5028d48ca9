/**
 * DICOM header reading with dcmjs: one instance → the attributes series selection and volume assembly need,
 * for classic single-frame images and Enhanced MR multi-frame images (shared + per-frame functional groups).
 * Reads only up to the pixel data (untilTag 7FE00010) unless the caller asks for the full dataset.
 */
import { readFileSync } from 'node:fs';
import dcmjs from 'dcmjs';
import { OsteoError } from '../common/errors.js';
import { readDicomFile } from './charset.js';
import { personName } from './tags.js';
import type { Vec3 } from '../volume/types.js';

const { DicomMetaDictionary } = dcmjs.data;

export const ENHANCED_MR_STORAGE = '1.2.840.10008.5.1.4.1.1.4.1';
export const ENHANCED_SOP_CLASSES = new Set([
  ENHANCED_MR_STORAGE,
  '1.2.840.10008.5.1.4.1.1.4.3', // Enhanced MR Color
  '1.2.840.10008.5.1.4.1.1.4.4', // Legacy Converted Enhanced MR
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
]);

export interface FrameHeader {
  /** ImagePositionPatient (LPS mm) of the first pixel centre */
  position: Vec3 | null;
  /** ImageOrientationPatient: row (3) then column (3) direction cosines */
  orientation: number[] | null;
  /** [row spacing (between rows), column spacing (between columns)] as in DICOM PixelSpacing */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  rescaleSlope: number;
  rescaleIntercept: number;
}

export interface InstanceHeader {
  file: string;
  transferSyntaxUID: string;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
  modality: string;
  seriesNumber: number | null;
  instanceNumber: number | null;
  seriesDescription: string;
  bodyPartExamined: string;
  imageType: string[];
  repetitionTime: number | null;
  echoTime: number | null;
  inversionTime: number | null;
  /** true when the sequence is an inversion recovery (ScanningSequence IR or MR Modifier InversionRecovery YES) */
  inversionRecovery: boolean;
  scanningSequence: string[];
  scanOptions: string[];
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  numberOfFrames: number;
  enhanced: boolean;
  /** one entry per frame (classic images: exactly one) */
  frames: FrameHeader[];
}

/** ArrayBuffer holding exactly the bytes of `buf` (dcmjs needs this; Node's pooled buffers would break it). */
export function exactArrayBuffer(buf: Buffer | Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** Parse a Part-10 file: naturalized dataset + meta. `full` keeps pixel data. */
export function parseDicom(buf: Buffer | Uint8Array, full = false): { meta: Record<string, any>; dataset: Record<string, any> } {
  let dict: { meta: Record<string, any>; dict: Record<string, any> };
  try {
    dict = readDicomFile(buf, full ? {} : { untilTag: '7FE00010', includeUntilTagValue: false });
  } catch (e) {
    throw new OsteoError('dicom-unreadable', `not a readable DICOM Part-10 file: ${(e as Error).message}`, 400, { cause: e });
  }
  return { meta: DicomMetaDictionary.naturalizeDataset(dict.meta), dataset: DicomMetaDictionary.naturalizeDataset(dict.dict) };
}

function first(v: unknown): any {
  if (Array.isArray(v)) return v[0];
  return v;
}
function str(v: unknown): string {
  const x = first(v);
  if (x === undefined || x === null) return '';
  if (typeof x === 'object') return personName(x);
  return String(x).trim();
}
function strs(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  const arr = Array.isArray(v) ? v : String(v).split('\\');
  return arr.map((x) => String(x).trim().toUpperCase()).filter((x) => x !== '');
}
function num(v: unknown): number | null {
  const x = first(v);
  if (x === undefined || x === null || x === '') return null;
  const n = Number(x);
  return Number.isFinite(n) ? n : null;
}
function nums(v: unknown, n: number): number[] | null {
  if (v === undefined || v === null) return null;
  const arr = (Array.isArray(v) ? v : String(v).split('\\')).map((x) => Number(x));
  return arr.length >= n && arr.slice(0, n).every(Number.isFinite) ? arr.slice(0, n) : null;
}
/** first item of a sequence attribute (dcmjs gives arrays of items) */
function item(seq: unknown): Record<string, any> | undefined {
  const it = first(seq);
  return it && typeof it === 'object' ? (it as Record<string, any>) : undefined;
}

/** Summarise a naturalized dataset. */
export function instanceHeaderOf(file: string, meta: Record<string, any>, ds: Record<string, any>): InstanceHeader {
  const sopClassUID = str(ds.SOPClassUID) || str(meta.MediaStorageSOPClassUID);
  const nFrames = num(ds.NumberOfFrames) ?? 1;
  const enhanced = ENHANCED_SOP_CLASSES.has(sopClassUID) || (!!ds.PerFrameFunctionalGroupsSequence && !!ds.SharedFunctionalGroupsSequence);
  const shared = item(ds.SharedFunctionalGroupsSequence) ?? {};
  const perFrame: Record<string, any>[] = Array.isArray(ds.PerFrameFunctionalGroupsSequence) ? ds.PerFrameFunctionalGroupsSequence : ds.PerFrameFunctionalGroupsSequence ? [ds.PerFrameFunctionalGroupsSequence] : [];
  // functional group lookup: per-frame overrides shared
  const fg = (f: number, name: string): Record<string, any> | undefined => item(perFrame[f]?.[name]) ?? item(shared[name]);

  let repetitionTime = num(ds.RepetitionTime);
  let echoTime = num(ds.EchoTime);
  let inversionTime = num(ds.InversionTime);
  const scanningSequence = strs(ds.ScanningSequence);
  const scanOptions = strs(ds.ScanOptions);
  let inversionRecovery = scanningSequence.includes('IR') || scanOptions.includes('IR');
  let imageType = strs(ds.ImageType);
  if (enhanced) {
    const timing = fg(0, 'MRTimingAndRelatedParametersSequence');
    const echo = fg(0, 'MREchoSequence');
    const mod = fg(0, 'MRModifierSequence');
    repetitionTime ??= num(timing?.RepetitionTime);
    echoTime ??= num(echo?.EffectiveEchoTime);
    if (mod) {
      if (str(mod.InversionRecovery).toUpperCase() === 'YES') inversionRecovery = true;
      inversionTime ??= num(mod.InversionTimes);
    }
    const ft = fg(0, 'MRImageFrameTypeSequence');
    if (!imageType.length && ft) imageType = strs(ft.FrameType);
  }
  if (inversionTime !== null && inversionTime > 0) inversionRecovery = true;

  const frames: FrameHeader[] = [];
  if (enhanced) {
    for (let f = 0; f < nFrames; f++) {
      const pos = nums(fg(f, 'PlanePositionSequence')?.ImagePositionPatient, 3);
      const ori = nums(fg(f, 'PlaneOrientationSequence')?.ImageOrientationPatient, 6);
      const pm = fg(f, 'PixelMeasuresSequence');
      const pv = fg(f, 'PixelValueTransformationSequence');
      const ps = nums(pm?.PixelSpacing, 2);
      frames.push({
        position: pos ? (pos as Vec3) : null,
        orientation: ori,
        pixelSpacing: ps ? [ps[0]!, ps[1]!] : null,
        sliceThickness: num(pm?.SliceThickness),
        rescaleSlope: num(pv?.RescaleSlope) ?? num(ds.RescaleSlope) ?? 1,
        rescaleIntercept: num(pv?.RescaleIntercept) ?? num(ds.RescaleIntercept) ?? 0,
      });
    }
  } else {
    const pos = nums(ds.ImagePositionPatient, 3);
    const ps = nums(ds.PixelSpacing, 2);
    for (let f = 0; f < Math.max(1, nFrames); f++) {
      frames.push({
        position: pos ? (pos as Vec3) : null,
        orientation: nums(ds.ImageOrientationPatient, 6),
        pixelSpacing: ps ? [ps[0]!, ps[1]!] : null,
        sliceThickness: num(ds.SliceThickness),
        rescaleSlope: num(ds.RescaleSlope) ?? 1,
        rescaleIntercept: num(ds.RescaleIntercept) ?? 0,
      });
    }
  }
  return {
    file,
    transferSyntaxUID: str(meta.TransferSyntaxUID) || '1.2.840.10008.1.2',
    sopClassUID,
    sopInstanceUID: str(ds.SOPInstanceUID),
    studyInstanceUID: str(ds.StudyInstanceUID),
    seriesInstanceUID: str(ds.SeriesInstanceUID),
    frameOfReferenceUID: str(ds.FrameOfReferenceUID),
    modality: str(ds.Modality).toUpperCase(),
    seriesNumber: num(ds.SeriesNumber),
    instanceNumber: num(ds.InstanceNumber),
    seriesDescription: str(ds.SeriesDescription),
    bodyPartExamined: str(ds.BodyPartExamined).toUpperCase(),
    imageType,
    repetitionTime,
    echoTime,
    inversionTime,
    inversionRecovery,
    scanningSequence,
    scanOptions,
    rows: num(ds.Rows) ?? 0,
    columns: num(ds.Columns) ?? 0,
    bitsAllocated: num(ds.BitsAllocated) ?? 16,
    bitsStored: num(ds.BitsStored) ?? num(ds.BitsAllocated) ?? 16,
    highBit: num(ds.HighBit) ?? (num(ds.BitsStored) ?? 16) - 1,
    pixelRepresentation: num(ds.PixelRepresentation) ?? 0,
    samplesPerPixel: num(ds.SamplesPerPixel) ?? 1,
    photometricInterpretation: str(ds.PhotometricInterpretation).toUpperCase() || 'MONOCHROME2',
    planarConfiguration: num(ds.PlanarConfiguration) ?? 0,
    numberOfFrames: nFrames,
    enhanced,
    frames,
  };
}

/** Read the header (no pixel data) of one file. */
export function readInstanceHeader(file: string): InstanceHeader {
  const { meta, dataset } = parseDicom(readFileSync(file));
  return instanceHeaderOf(file, meta, dataset);
}
