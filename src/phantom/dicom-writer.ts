/** Writes phantom series as classic MR Image Storage instances or one Enhanced MR Image per series (dcmjs). */
import { cross } from '../volume/geometry.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import type { PhantomSeries, PhantomStudy } from './generate.js';

const { DicomDict, DicomMetaDictionary } = dcmjs.data;

export const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
export const ENHANCED_MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4.1';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_UID = '2.25.301547512345071861853462398731027634101';

/** DS value: at most 16 characters. */
export function ds(x: number): string {
  for (let p = 10; p >= 1; p--) {
    const s = String(Number(x.toPrecision(p)));
    if (s.length <= 16) return s;
  }
  return String(Math.round(x));
}
function dsv(v: readonly number[]): string[] {
  return v.map(ds);
}


function writePart10(path: string, ds0: Record<string, unknown>, sopClass: string, sopInstance: string): void {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: sopInstance,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: IMPLEMENTATION_UID,
    ImplementationVersionName: 'OSTEOSCREEN_PH',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds0);
  writeFileSync(path, Buffer.from(dict.write()));
}

function commonModules(st: PhantomStudy, s: PhantomSeries): Record<string, unknown> {
  const seq = s.sequence;
  return {
    SpecificCharacterSet: 'ISO_IR 100',
    InstanceCreationDate: st.studyDate,
    InstanceCreationTime: st.studyTime,
    StudyDate: st.studyDate,
    SeriesDate: st.studyDate,
    AcquisitionDate: st.studyDate,
    ContentDate: st.studyDate,
    StudyTime: st.studyTime,
    SeriesTime: st.studyTime,
    ContentTime: st.studyTime,
    AccessionNumber: st.accessionNumber,
    Modality: 'MR',
    Manufacturer: vendorName(st),
    InstitutionName: 'OsteoScreen synthetic phantom',
    ReferringPhysicianName: '',
    StudyDescription: 'L-SPINE PHANTOM (synthetic, not a patient)',
    SeriesDescription: s.description,
    ManufacturerModelName: modelName(st),
    PatientName: st.patientName,
    PatientID: st.patientId,
    PatientBirthDate: st.birthDate,
    PatientSex: st.patientSex,
    PatientAge: `${String(st.patientAge).padStart(3, '0')}Y`,
    PatientIdentityRemoved: 'NO',
    BodyPartExamined: 'LSPINE',
    MagneticFieldStrength: '1.5',
    PatientPosition: 'HFS',
    StudyInstanceUID: st.studyInstanceUID,
    SeriesInstanceUID: s.seriesInstanceUID,
    StudyID: st.studyId,
    SeriesNumber: String(s.seriesNumber),
    AcquisitionNumber: '1',
    FrameOfReferenceUID: st.frameOfReferenceUID,
    PositionReferenceIndicator: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: s.rows,
    Columns: s.cols,
    BitsAllocated: 16,
    BitsStored: st.vendor === 'ge' ? 16 : 12,
    HighBit: st.vendor === 'ge' ? 15 : 11,
    PixelRepresentation: 0,
    // keep: contrast naming for humans only; selection must use TR/TE/TI
    ImageComments: `synthetic phantom (tests/training only), seed ${st.seed}`,
    _seq: seq,
  };
}

function vendorName(st: PhantomStudy): string {
  return st.vendor === 'siemens' ? 'SIEMENS' : st.vendor === 'ge' ? 'GE MEDICAL SYSTEMS' : 'Philips Medical Systems';
}
function modelName(st: PhantomStudy): string {
  return st.vendor === 'siemens' ? 'Avanto' : st.vendor === 'ge' ? 'SIGNA HDxt' : 'Achieva';
}

function windowOf(s: PhantomSeries): [number, number] {
  let mx = 0;
  const step = Math.max(1, Math.floor(s.image.length / 20000));
  for (let i = 0; i < s.image.length; i += step) if (s.image[i]! > mx) mx = s.image[i]!;
  return [mx * 0.45, mx * 0.9];
}

/** Write one series; returns the written file paths. */
export function writeSeries(st: PhantomStudy, s: PhantomSeries, dir: string, enhanced: boolean): string[] {
  mkdirSync(dir, { recursive: true });
  const base = commonModules(st, s);
  const seq = base._seq as PhantomSeries['sequence'];
  delete base._seq;
  const [wc, ww] = windowOf(s);
  const frameBytes = s.rows * s.cols;
  const files: string[] = [];
  if (!enhanced) {
    for (let n = 0; n < s.instanceOrder.length; n++) {
      const f = s.instanceOrder[n]!;
      const F = s.frames[f]!;
      const nrm = cross(F.row, F.col);
      const sop = s.sopInstanceUIDs[n]!;
      const px = s.stored.slice(f * frameBytes, (f + 1) * frameBytes);
      const d: Record<string, unknown> = {
        ...base,
        SOPClassUID: MR_IMAGE_STORAGE,
        SOPInstanceUID: sop,
        ImageType: s.imageType,
        ScanningSequence: seq.scanningSequence,
        SequenceVariant: seq.sequenceVariant,
        ScanOptions: seq.scanOptions.length ? seq.scanOptions : '',
        MRAcquisitionType: '2D',
        SequenceName: seq.contrast === 'GRE' ? '*fl2d1' : '*tse2d1',
        SliceThickness: ds(F.thickness),
        RepetitionTime: ds(seq.repetitionTime),
        EchoTime: ds(seq.echoTime),
        ...(seq.inversionTime !== undefined ? { InversionTime: ds(seq.inversionTime) } : {}),
        NumberOfAverages: '1',
        ImagingFrequency: '63.6',
        ImagedNucleus: '1H',
        EchoNumbers: '1',
        SpacingBetweenSlices: ds(s.spacingBetweenSlices),
        EchoTrainLength: String(seq.echoTrainLength),
        FlipAngle: ds(seq.flipAngle),
        InstanceNumber: String(n + 1),
        ImagePositionPatient: dsv(F.position),
        ImageOrientationPatient: dsv([...F.row, ...F.col]),
        SliceLocation: ds(F.position[0] * nrm[0] + F.position[1] * nrm[1] + F.position[2] * nrm[2]),
        PixelSpacing: dsv([F.spacingJ, F.spacingI]),
        WindowCenter: ds(Math.round(wc)),
        WindowWidth: ds(Math.round(ww)),
        RescaleIntercept: ds(s.rescaleIntercept),
        RescaleSlope: ds(s.rescaleSlope),
        RescaleType: 'US',
        PixelData: [px.buffer],
        _vrMap: { PixelData: 'OW' },
      };
      const path = join(dir, `IM${String(n + 1).padStart(4, '0')}.dcm`);
      writePart10(path, d, MR_IMAGE_STORAGE, sop);
      files.push(path);
    }
    return files;
  }
  // Enhanced MR: one multi-frame instance, frames in instance order
  const nF = s.instanceOrder.length;
  const px = new Uint16Array(nF * frameBytes);
  s.instanceOrder.forEach((f, n) => px.set(s.stored.subarray(f * frameBytes, (f + 1) * frameBytes), n * frameBytes));
  const F0 = s.frames[0]!;
  const multiOrientation = s.frames.some((F) => F.row.some((v, i) => v !== F0.row[i]) || F.col.some((v, i) => v !== F0.col[i]));
  const contrast = seq.contrast === 'T1' ? 'T1' : seq.contrast === 'T2' ? 'T2' : seq.contrast === 'STIR' ? 'STIR' : 'UNKNOWN';
  const derived = s.imageType[0] === 'DERIVED';
  const frameType = derived ? ['DERIVED', 'PRIMARY', 'M', 'NONE'] : ['ORIGINAL', 'PRIMARY', 'M', 'NONE'];
  const shared: Record<string, unknown> = {
    PixelMeasuresSequence: [{ PixelSpacing: dsv([F0.spacingJ, F0.spacingI]), SliceThickness: ds(F0.thickness), SpacingBetweenSlices: ds(s.spacingBetweenSlices) }],
    MRTimingAndRelatedParametersSequence: [
      {
        RepetitionTime: ds(seq.repetitionTime),
        FlipAngle: ds(seq.flipAngle),
        EchoTrainLength: String(seq.echoTrainLength),
        RFEchoTrainLength: String(seq.echoTrainLength),
        GradientEchoTrainLength: '0',
        SpecificAbsorptionRateSequence: [{ SpecificAbsorptionRateDefinition: 'WB', SpecificAbsorptionRateValue: '0.5' }],
        OperatingModeSequence: [
          { OperatingModeType: 'STATIC FIELD', OperatingMode: 'IEC_NORMAL' },
          { OperatingModeType: 'RF', OperatingMode: 'IEC_NORMAL' },
          { OperatingModeType: 'GRADIENT', OperatingMode: 'IEC_NORMAL' },
        ],
      },
    ],
    MREchoSequence: [{ EffectiveEchoTime: ds(seq.echoTime) }],
    MRModifierSequence: [
      {
        InversionRecovery: seq.inversionTime !== undefined ? 'YES' : 'NO',
        ...(seq.inversionTime !== undefined ? { InversionTimes: [ds(seq.inversionTime)] } : {}),
        FlowCompensation: 'NONE',
        Spoiling: 'NONE',
        T2Preparation: 'NO',
        SpectrallySelectedExcitation: 'NONE',
        SpatialPresaturation: 'SLAB',
        PartialFourier: 'NO',
        ParallelAcquisition: 'NO',
      },
    ],
    MRFOVGeometrySequence: [
      {
        InPlanePhaseEncodingDirection: 'ROW',
        MRAcquisitionFrequencyEncodingSteps: s.cols,
        MRAcquisitionPhaseEncodingStepsInPlane: Math.round(s.rows * 0.8),
        PercentSampling: '100',
        PercentPhaseFieldOfView: '100',
      },
    ],
    MRImagingModifierSequence: [{ MagnetizationTransfer: 'NONE', BloodSignalNulling: 'NO', Tagging: 'NONE', TransmitterFrequency: '63.6', PixelBandwidth: '200' }],
    MRReceiveCoilSequence: [{ ReceiveCoilName: 'SPINE', ReceiveCoilManufacturerName: '', ReceiveCoilType: 'MULTICOIL', QuadratureReceiveCoil: 'NO', MultiCoilDefinitionSequence: [{ MultiCoilElementName: 'SP1', MultiCoilElementUsed: 'YES' }] }],
    MRTransmitCoilSequence: [{ TransmitCoilName: 'BODY', TransmitCoilManufacturerName: '', TransmitCoilType: 'BODY' }],
    MRAveragesSequence: [{ NumberOfAverages: '1' }],
    FrameAnatomySequence: [
      {
        AnatomicRegionSequence: [{ CodeValue: '122496002', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Lumbar spine' }],
        FrameLaterality: 'U',
      },
    ],
    PixelValueTransformationSequence: [{ RescaleIntercept: ds(s.rescaleIntercept), RescaleSlope: ds(s.rescaleSlope), RescaleType: 'US' }],
    MRImageFrameTypeSequence: [
      { FrameType: frameType, PixelPresentation: 'MONOCHROME', VolumetricProperties: 'VOLUME', VolumeBasedCalculationTechnique: 'NONE', ComplexImageComponent: 'MAGNITUDE', AcquisitionContrast: contrast },
    ],
    FrameVOILUTSequence: [{ WindowCenter: ds(Math.round(wc)), WindowWidth: ds(Math.round(ww)) }],
    ...(multiOrientation ? {} : { PlaneOrientationSequence: [{ ImageOrientationPatient: dsv([...F0.row, ...F0.col]) }] }),
  };
  const perFrame = s.instanceOrder.map((f, n) => {
    const F = s.frames[f]!;
    return {
      FrameContentSequence: [
        {
          FrameAcquisitionDateTime: `${st.studyDate}${st.studyTime}`,
          FrameReferenceDateTime: `${st.studyDate}${st.studyTime}`,
          FrameAcquisitionDuration: '180000',
          StackID: '1',
          InStackPositionNumber: n + 1,
          DimensionIndexValues: [1, n + 1],
        },
      ],
      PlanePositionSequence: [{ ImagePositionPatient: dsv(F.position) }],
      ...(multiOrientation ? { PlaneOrientationSequence: [{ ImageOrientationPatient: dsv([...F.row, ...F.col]) }] } : {}),
    };
  });
  const dimUid = `${s.seriesInstanceUID}.1`.length <= 64 ? `${s.seriesInstanceUID}.1` : s.seriesInstanceUID;
  const sop = s.sopInstanceUIDs[0]!;
  const d: Record<string, unknown> = {
    ...base,
    SOPClassUID: ENHANCED_MR_IMAGE_STORAGE,
    SOPInstanceUID: sop,
    ImageType: frameType,
    InstanceNumber: '1',
    ContentQualification: 'RESEARCH',
    DeviceSerialNumber: 'PHANTOM0001',
    SoftwareVersions: 'osteoscreen-phantom',
    NumberOfFrames: String(nF),
    AcquisitionContrast: contrast,
    PixelPresentation: 'MONOCHROME',
    VolumetricProperties: 'VOLUME',
    VolumeBasedCalculationTechnique: 'NONE',
    ComplexImageComponent: 'MAGNITUDE',
    ResonantNucleus: '1H',
    KSpaceFiltering: 'NONE',
    ImagingFrequency: '63.6',
    BurnedInAnnotation: 'NO',
    LossyImageCompression: '00',
    PresentationLUTShape: 'IDENTITY',
    AcquisitionDateTime: `${st.studyDate}${st.studyTime}`,
    AcquisitionDuration: '180',
    ApplicableSafetyStandardAgency: 'IEC',
    AcquisitionContextSequence: [],
    ...(derived
      ? {}
      : {
          PulseSequenceName: seq.contrast === 'GRE' ? 'fl2d' : 'tse2d',
          MRAcquisitionType: '2D',
          EchoPulseSequence: seq.contrast === 'GRE' ? 'GRADIENT' : 'SPIN',
          ...(seq.contrast === 'GRE' ? {} : { MultipleSpinEcho: 'YES' }),
          MultiPlanarExcitation: 'YES',
          PhaseContrast: 'NO',
          TimeOfFlightContrast: 'NO',
          SteadyStatePulseSequence: 'NONE',
          EchoPlanarPulseSequence: 'NO',
          SaturationRecovery: 'NO',
          SpectrallySelectedSuppression: 'NONE',
          OversamplingPhase: 'NONE',
          GeometryOfKSpaceTraversal: 'RECTILINEAR',
          SegmentedKSpaceTraversal: 'PARTIAL',
          RectilinearPhaseEncodeReordering: 'LINEAR',
          NumberOfKSpaceTrajectories: '1',
        }),
    ...(seq.inversionTime !== undefined ? { InversionTime: ds(seq.inversionTime) } : {}),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimUid }],
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimUid, DimensionIndexPointer: 0x00209056, FunctionalGroupPointer: 0x00209111, DimensionDescriptionLabel: 'Stack ID' },
      { DimensionOrganizationUID: dimUid, DimensionIndexPointer: 0x00209057, FunctionalGroupPointer: 0x00209111, DimensionDescriptionLabel: 'In-Stack Position Number' },
    ],
    SharedFunctionalGroupsSequence: [shared],
    PerFrameFunctionalGroupsSequence: perFrame,
    PixelData: [px.buffer],
    _vrMap: { PixelData: 'OW' },
  };
  const path = join(dir, 'IM0001.dcm');
  writePart10(path, d, ENHANCED_MR_IMAGE_STORAGE, sop);
  files.push(path);
  return files;
}
