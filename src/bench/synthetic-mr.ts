import dcmjs from 'dcmjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

export function uid(): string {
  return DicomMetaDictionary.uid();
}

export interface MrSeriesOptions {
  count: number;
  rows?: number;
  columns?: number;
  studyUid?: string;
  seriesUid?: string;
  patientName?: string;
  patientId?: string;
  description?: string;
  tr?: number;
  te?: number;
  seed?: number;
}

/** Write a small, valid single-frame MR series (benchmarks and tests; not anatomy — see src/phantom for that) (sagittal) with dcmjs; returns file paths and UIDs. */
export function writeMrSeries(dir: string, o: MrSeriesOptions): { files: string[]; studyUid: string; seriesUid: string; sopUids: string[] } {
  mkdirSync(dir, { recursive: true });
  const rows = o.rows ?? 16;
  const cols = o.columns ?? 16;
  const studyUid = o.studyUid ?? uid();
  const seriesUid = o.seriesUid ?? uid();
  const files: string[] = [];
  const sopUids: string[] = [];
  for (let k = 0; k < o.count; k++) {
    const sop = uid();
    const px = new Uint16Array(rows * cols);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7 + k * 13 + (o.seed ?? 0)) % 1000;
    const ds: Record<string, unknown> = {
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
      SOPInstanceUID: sop,
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: seriesUid,
      Modality: 'MR',
      PatientName: o.patientName ?? 'PHANTOM^TEST',
      PatientID: o.patientId ?? 'PHANTOM-0001',
      PatientBirthDate: '19600101',
      PatientSex: 'F',
      StudyDate: '20260101',
      StudyTime: '120000',
      AccessionNumber: 'ACC0001',
      StudyID: '1',
      SeriesNumber: '3',
      InstanceNumber: String(k + 1),
      SeriesDescription: o.description ?? 't1_tse_sag',
      ImageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'],
      RepetitionTime: String(o.tr ?? 450),
      EchoTime: String(o.te ?? 9.6),
      ImageOrientationPatient: [0, 1, 0, 0, 0, -1],
      ImagePositionPatient: [k * 5 - 20, -100, 100],
      PixelSpacing: [1, 1],
      SliceThickness: '4.5',
      FrameOfReferenceUID: studyUid + '.1',
      Rows: rows,
      Columns: cols,
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 0,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      PixelData: px.buffer,
      _vrMap: { PixelData: 'OW' },
    };
    const meta = {
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: ds.SOPClassUID,
      MediaStorageSOPInstanceUID: sop,
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
      ImplementationClassUID: '1.2.826.0.1.3680043.10.1487.99',
    };
    const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
    dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
    const f = path.join(dir, `${String(k + 1).padStart(4, '0')}.dcm`);
    writeFileSync(f, Buffer.from(dict.write()));
    files.push(f);
    sopUids.push(sop);
  }
  return { files, studyUid, seriesUid, sopUids };
}
