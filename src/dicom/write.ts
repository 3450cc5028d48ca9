/**
 * Write a naturalized dcmjs dataset as a DICOM Part-10 file (explicit VR little endian).
 * The file meta header is built from the dataset's SOPClassUID/SOPInstanceUID; sequences get explicit lengths.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import dcmjs from 'dcmjs';
import { splitPart10 } from './part10.js';
import { reencodeExplicitLE } from './reencode.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLEMENTATION_CLASS_UID = '2.25.127734120658127311245935116392718046207';
export const IMPLEMENTATION_VERSION_NAME = 'OSTEOSCREEN_1';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

/** Serialise a naturalized dataset to Part-10 bytes. */
export function toPart10(ds: Record<string, any>): Buffer {
  if (!ds.SOPClassUID || !ds.SOPInstanceUID) throw new Error('dataset needs SOPClassUID and SOPInstanceUID');
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID,
    MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
    _vrMap: {},
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  const bytes = Buffer.from(dict.write({ fragmentMultiframe: false }));
  // Sequences and items with explicit lengths (dcmjs writes delimiters): the canonical form DCMTK-based archives
  // such as Orthanc store, so the PACS keeps exactly the bytes we wrote (test/report/pacs-bytes.test.ts).
  const { datasetOffset } = splitPart10(bytes);
  return Buffer.concat([bytes.subarray(0, datasetOffset), reencodeExplicitLE(bytes.subarray(datasetOffset), { definedLengths: true })]);
}

/** Write `ds` as a Part-10 file at `path` (atomically: temp file + rename). Returns the path. */
export function writePart10(ds: Record<string, any>, path: string): string {
  const bytes = toPart10(ds);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return path;
}

/** Read a Part-10 file into a naturalized dataset (meta header dropped). */
export function readPart10(bytes: Uint8Array): Record<string, any> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const f = dcmjs.data.DicomMessage.readFile(ab);
  return DicomMetaDictionary.naturalizeDataset(f.dict);
}
