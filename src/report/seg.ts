/**
 * Optional DICOM Segmentation (BINARY) of the measured ROI: one segment per vertebral body label (1..4 = L1..L4),
 * one frame per (segment, source slice that contains it), on the grid of the source T1 series, so that viewers
 * with SEG support overlay exactly what was measured. Enabled by config `output.seg`.
 */
import { vertebraCode, type Code } from './codes.js';
import { dicomDateTime, equipmentModule, patientStudyModules } from './header.js';
import { LEVEL_COLOURS } from './render.js';
import { outputSeriesDescription, outputUids } from './uids.js';
import type { EvidenceInstance, ReportInput } from './types.js';
import { indexToPoint, type LabelMap } from '../volume/types.js';
import { deterministicUid } from '../dicom/uid.js';

export const SEGMENTATION_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';

export interface SegInput {
  /** Label map on the source T1 grid (i = columns, j = rows, k = slices of the source series). 1..4 = L1..L4. */
  labels: LabelMap;
  /** FrameOfReferenceUID of the source T1 series. */
  frameOfReferenceUid: string;
  /** Source T1 instance of each slice k, in the label map's k order. */
  sliceInstances: EvidenceInstance[];
  /** SeriesInstanceUID of the source T1 series. */
  sourceSeriesInstanceUid: string;
}

const ANATOMICAL_STRUCTURE: Code = { CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' };
const SOURCE_IMAGE_PURPOSE: Code = { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' };
const SEGMENTATION_DERIVATION: Code = { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' };

/** sRGB hex → DICOM CIELab (scaled to 0..65535) for RecommendedDisplayCIELabValue. */
export function hexToDicomLab(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [lin((n >> 16) & 255), lin((n >> 8) & 255), lin(n & 255)];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27) * t / 116 + 16 / 116);
  const L = 116 * f(y) - 16;
  const A = 500 * (f(x) - f(y));
  const B = 200 * (f(y) - f(z));
  const clamp = (v: number) => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((A + 128) * 65535) / 255), clamp(((B + 128) * 65535) / 255)];
}

/** Build the SEG dataset, or null when the label map holds no labelled voxel. */
export function buildSeg(input: ReportInput, seg: SegInput): Record<string, any> | null {
  const { labels } = seg;
  const [cols, rows, slices] = labels.dims;
  if (labels.data.length !== cols * rows * slices) throw new Error('label map size does not match its dims');
  if (seg.sliceInstances.length !== slices) throw new Error(`need one source instance per slice (${slices}), got ${seg.sliceInstances.length}`);
  const plane = cols * rows;

  // Which labels occur on which slices.
  const present = new Map<number, Set<number>>();
  for (let k = 0; k < slices; k++) {
    for (let p = 0; p < plane; p++) {
      const l = labels.data[k * plane + p]!;
      if (!l) continue;
      let s = present.get(l);
      if (!s) present.set(l, (s = new Set()));
      s.add(k);
    }
  }
  if (present.size === 0) return null;
  const labelList = [...present.keys()].sort((a, b) => a - b);

  const frames: Array<{ segment: number; label: number; k: number }> = [];
  labelList.forEach((label, n) => {
    for (const k of [...present.get(label)!].sort((a, b) => a - b)) frames.push({ segment: n + 1, label, k });
  });

  // Pack bits: frames back to back, pixel order row-major, bit 0 of each byte first (PS3.5 8.1.1).
  const totalBits = frames.length * plane;
  const bits = new Uint8Array(Math.ceil(totalBits / 8) + (Math.ceil(totalBits / 8) % 2));
  frames.forEach((f, fi) => {
    const base = fi * plane;
    const off = f.k * plane;
    for (let p = 0; p < plane; p++) {
      if (labels.data[off + p] === f.label) {
        const b = base + p;
        bits[b >> 3]! |= 1 << (b & 7);
      }
    }
  });

  const d = labels.direction;
  const orientation = [d[0], d[3], d[6], d[1], d[4], d[7]];
  const uids = outputUids(input.source.StudyInstanceUID, input.model, 'seg');
  const revision = input.revision ?? 1;
  const sopInstanceUid = uids.instanceUid(revision);
  const { date, time } = dicomDateTime(input.now ?? new Date());
  const dimOrgUid = deterministicUid(sopInstanceUid, 'dimension-organization');
  const levelName = (l: number) => (l >= 1 && l <= 5 ? `L${l}` : `label ${l}`);
  const round = (v: number) => Number(v.toFixed(6));

  const usedInstances = new Map<string, EvidenceInstance>();
  for (const f of frames) usedInstances.set(seg.sliceInstances[f.k]!.sopInstanceUid, seg.sliceInstances[f.k]!);

  const ds: Record<string, any> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEGMENTATION_SOP_CLASS,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...patientStudyModules(input),
    Modality: 'SEG',
    SeriesInstanceUID: uids.seriesInstanceUid,
    SeriesNumber: uids.seriesNumber,
    SeriesDate: date,
    SeriesTime: time,
    SeriesDescription: outputSeriesDescription('seg', input.model),
    BodyPartExamined: 'LSPINE',
    FrameOfReferenceUID: seg.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    ...equipmentModule(input),
    DeviceSerialNumber: input.device?.serialNumber ?? 'none',
    InstanceNumber: revision,
    ContentDate: date,
    ContentTime: time,
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'OSTEOSCREEN_ROI',
    ContentDescription: 'L1-L4 vertebral body ROI used for radiomics (UNVERIFIED)',
    ContentCreatorName: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: cols,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    NumberOfFrames: frames.length,
    SegmentSequence: labelList.map((label, n) => {
      const site = vertebraCode(levelName(label));
      return {
        SegmentNumber: n + 1,
        SegmentLabel: `${levelName(label)} vertebral body`,
        SegmentDescription: `${levelName(label)} vertebral body ROI (cortex excluded)`,
        SegmentAlgorithmType: 'AUTOMATIC',
        SegmentAlgorithmName: `${input.algorithm.name} ${input.algorithm.version}`.slice(0, 64),
        SegmentedPropertyCategoryCodeSequence: [{ ...ANATOMICAL_STRUCTURE }],
        SegmentedPropertyTypeCodeSequence: [{ ...site }],
        RecommendedDisplayCIELabValue: hexToDicomLab(LEVEL_COLOURS[(label - 1) % LEVEL_COLOURS.length]!),
      };
    }),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimOrgUid }],
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimOrgUid, DimensionIndexPointer: 0x0062000b, FunctionalGroupPointer: 0x0062000a, DimensionDescriptionLabel: 'ReferencedSegmentNumber' },
      { DimensionOrganizationUID: dimOrgUid, DimensionIndexPointer: 0x00200032, FunctionalGroupPointer: 0x00209113, DimensionDescriptionLabel: 'ImagePositionPatient' },
    ],
    SharedFunctionalGroupsSequence: [
      {
        PixelMeasuresSequence: [{ PixelSpacing: [round(labels.spacing[1]), round(labels.spacing[0])], SliceThickness: round(labels.spacing[2]), SpacingBetweenSlices: round(labels.spacing[2]) }],
        PlaneOrientationSequence: [{ ImageOrientationPatient: orientation.map(round) }],
      },
    ],
    PerFrameFunctionalGroupsSequence: frames.map((f) => {
      const src = seg.sliceInstances[f.k]!;
      return {
        FrameContentSequence: [{ DimensionIndexValues: [f.segment, f.k + 1] }],
        PlanePositionSequence: [{ ImagePositionPatient: indexToPoint(labels, 0, 0, f.k).map(round) }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.segment }],
        DerivationImageSequence: [
          {
            SourceImageSequence: [
              { ReferencedSOPClassUID: src.sopClassUid, ReferencedSOPInstanceUID: src.sopInstanceUid, PurposeOfReferenceCodeSequence: [{ ...SOURCE_IMAGE_PURPOSE }] },
            ],
            DerivationCodeSequence: [{ ...SEGMENTATION_DERIVATION }],
          },
        ],
      };
    }),
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: seg.sourceSeriesInstanceUid,
        ReferencedInstanceSequence: [...usedInstances.values()].map((i) => ({ ReferencedSOPClassUID: i.sopClassUid, ReferencedSOPInstanceUID: i.sopInstanceUid })),
      },
    ],
    PixelData: [bits.buffer],
    _vrMap: { PixelData: 'OB' },
  };
  return ds;
}
