/**
 * Secondary Capture summary image (single frame, 8-bit RGB): the rendered panel from render.ts wrapped in the
 * SC Image IOD, in the source study, in its own deterministic series (see uids.ts).
 */
import { DISCLAIMER_TEXT, UNVERIFIED_TEXT, dicomDateTime, equipmentModule, modelLine, noFlagReasons, patientStudyModules, resultPhrase } from './header.js';
import { renderSummary, type RgbImage } from './render.js';
import { outputSeriesDescription, outputUids } from './uids.js';
import type { ReportInput } from './types.js';

export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';

export interface SummaryImage {
  dataset: Record<string, any>;
  /** The same picture as PNG (preview, admin UI, tests). */
  png: Buffer;
}

/** Build the summary image dataset (and its PNG preview). */
export function buildSummaryImageWithPreview(input: ReportInput): SummaryImage {
  const img: RgbImage = renderSummary(input);
  const uids = outputUids(input.source.StudyInstanceUID, input.model, 'summary');
  const revision = input.revision ?? 1;
  const { date, time } = dicomDateTime(input.now ?? new Date());
  const pixels = img.rgb.buffer.slice(img.rgb.byteOffset, img.rgb.byteOffset + img.rgb.byteLength);
  const ds: Record<string, any> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
    SOPInstanceUID: uids.instanceUid(revision),
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...patientStudyModules(input),
    Modality: 'OT',
    BodyPartExamined: 'LSPINE',
    SeriesInstanceUID: uids.seriesInstanceUid,
    SeriesNumber: uids.seriesNumber,
    SeriesDate: date,
    SeriesTime: time,
    SeriesDescription: outputSeriesDescription('summary', input.model),
    ...equipmentModule(input),
    ConversionType: 'WSD',
    InstanceNumber: revision,
    PatientOrientation: '',
    ContentDate: date,
    ContentTime: time,
    ImageType: ['DERIVED', 'SECONDARY'],
    DerivationDescription: 'OsteoScreen result summary: mid-sagittal T1 slice with L1-L4 ROI outlines and result text',
    BurnedInAnnotation: 'NO',
    ImageComments: [resultPhrase(input), ...noFlagReasons(input), UNVERIFIED_TEXT, `${DISCLAIMER_TEXT} ${modelLine(input)}`, input.modelChoice].filter(Boolean).join('. ').slice(0, 10240),
    LossyImageCompression: '00',
    DateOfSecondaryCapture: date,
    TimeOfSecondaryCapture: time,
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: img.rows,
    Columns: img.columns,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [pixels],
    _vrMap: { PixelData: 'OB' },
  };
  const src = input.summary?.sourceInstance;
  if (src) {
    ds.SourceImageSequence = [{ ReferencedSOPClassUID: src.sopClassUid, ReferencedSOPInstanceUID: src.sopInstanceUid }];
  }
  return { dataset: ds, png: img.png };
}

/** Build the summary image as a naturalized dcmjs dataset. */
export function buildSummaryImage(input: ReportInput): Record<string, any> {
  return buildSummaryImageWithPreview(input).dataset;
}
