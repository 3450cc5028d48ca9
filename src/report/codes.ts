/**
 * Coded concepts used in the SR. Standard codes (DCM, SCT, LN, UCUM, UMLS, RFC5646) where one exists;
 * otherwise the private scheme `99OSTEO`, declared in CodingSchemeIdentificationSequence of every SR.
 * Code values are at most 16 characters (SH).
 */
export interface Code {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

export const PRIVATE_SCHEME = '99OSTEO';

const c = (CodeValue: string, CodingSchemeDesignator: string, CodeMeaning: string): Code => {
  if (CodeValue.length > 16) throw new Error(`code value too long: ${CodeValue}`);
  return { CodeValue, CodingSchemeDesignator, CodeMeaning: CodeMeaning.slice(0, 64) };
};

export const CODES = {
  // DICOM (PS3.16 DCM)
  imagingMeasurementReport: c('126000', 'DCM', 'Imaging Measurement Report'),
  language: c('121049', 'DCM', 'Language of Content Item and Descendants'),
  procedureReported: c('121058', 'DCM', 'Procedure reported'),
  observerType: c('121005', 'DCM', 'Observer Type'),
  device: c('121007', 'DCM', 'Device'),
  deviceObserverUid: c('121012', 'DCM', 'Device Observer UID'),
  deviceObserverName: c('121013', 'DCM', 'Device Observer Name'),
  deviceObserverManufacturer: c('121014', 'DCM', 'Device Observer Manufacturer'),
  deviceObserverModelName: c('121015', 'DCM', 'Device Observer Model Name'),
  deviceObserverSerialNumber: c('121016', 'DCM', 'Device Observer Serial Number'),
  imageLibrary: c('111028', 'DCM', 'Image Library'),
  imageLibraryGroup: c('126200', 'DCM', 'Image Library Group'),
  imagingMeasurements: c('126010', 'DCM', 'Imaging Measurements'),
  measurementGroup: c('125007', 'DCM', 'Measurement Group'),
  trackingIdentifier: c('112039', 'DCM', 'Tracking Identifier'),
  trackingUid: c('112040', 'DCM', 'Tracking Unique Identifier'),
  algorithmName: c('111001', 'DCM', 'Algorithm Name'),
  algorithmVersion: c('111003', 'DCM', 'Algorithm Version'),
  algorithmParameters: c('111002', 'DCM', 'Algorithm Parameters'),
  finding: c('121071', 'DCM', 'Finding'),
  comment: c('121106', 'DCM', 'Comment'),
  // UMLS
  qualitativeEvaluations: c('C0034375', 'UMLS', 'Qualitative Evaluations'),
  // SNOMED CT
  findingSite: c('363698007', 'SCT', 'Finding Site'),
  lumbarSpine: c('122496007', 'SCT', 'Lumbar spine'),
  volume: c('118565006', 'SCT', 'Volume'),
  // LOINC
  mrLumbarSpine: c('24531-6', 'LN', 'MR Lumbar spine WO contrast'),
  radiologyNarrative: c('18782-3', 'LN', 'Radiology Study observation (narrative)'),
  // RFC 5646
  englishUS: c('en-US', 'RFC5646', 'English (United States)'),
  // UCUM units
  unitMm3: c('mm3', 'UCUM', 'cubic millimeter'),
  unitNone: c('1', 'UCUM', 'no units'),
  // Private (99OSTEO)
  radscore: c('OS-RADSCORE', PRIVATE_SCHEME, 'Radscore'),
  radscoreCutoff: c('OS-CUTOFF', PRIVATE_SCHEME, 'Radscore cut-off (abnormal if above)'),
  modelIntercept: c('OS-INTERCEPT', PRIVATE_SCHEME, 'Model intercept'),
  radscoreTerm: c('OS-TERM', PRIVATE_SCHEME, 'Radscore term'),
  radiomicsFeature: c('OS-FEATURE', PRIVATE_SCHEME, 'Radiomics feature'),
  featureValue: c('OS-FEAT-VALUE', PRIVATE_SCHEME, 'Feature value'),
  featureZ: c('OS-FEAT-Z', PRIVATE_SCHEME, 'Standardized feature value (z)'),
  coefficient: c('OS-COEF', PRIVATE_SCHEME, 'Model coefficient'),
  contribution: c('OS-CONTRIB', PRIVATE_SCHEME, 'Contribution to radscore'),
  reasonNotAssessable: c('OS-NA-REASON', PRIVATE_SCHEME, 'Reason not assessable'),
  abnormalSuspected: c('OS-ABN-SUSP', PRIVATE_SCHEME, 'Abnormal bone mass suspected'),
  abnormalNotSuspected: c('OS-ABN-NOT-SUSP', PRIVATE_SCHEME, 'Abnormal bone mass not suspected'),
  notAssessable: c('OS-NOT-ASSESS', PRIVATE_SCHEME, 'Not assessable'),
  flagSuppressed: c('OS-NO-FLAG', PRIVATE_SCHEME, 'No flag'),
  notInterpretable: c('OS-NOT-INTERP', PRIVATE_SCHEME, 'Radscore not interpretable until calibrated for this site'),
  outOfRange: c('OS-OUT-RANGE', PRIVATE_SCHEME, "No flag: outside the model's calibrated range"),
  reasonNoFlag: c('OS-NOFLAG-REASON', PRIVATE_SCHEME, 'Reason for no flag'),
  modelSelection: c('OS-MODEL-CHOICE', PRIVATE_SCHEME, 'Model selection'),
  // Private, used by the HL7 v2 output (an SR carries these in its algorithm items and comments)
  modelHash: c('OS-MODEL-HASH', PRIVATE_SCHEME, 'Model hash'),
  calibrationState: c('OS-CALIB', PRIVATE_SCHEME, 'Calibration state'),
  calibrated: c('OS-CALIBRATED', PRIVATE_SCHEME, 'Calibrated for this site'),
  uncalibrated: c('OS-UNCALIBRATED', PRIVATE_SCHEME, 'Not calibrated for this site'),
  calibrationNotApplicable: c('OS-CALIB-NA', PRIVATE_SCHEME, 'Not applicable (not assessable)'),
  verificationStatus: c('OS-VERIF', PRIVATE_SCHEME, 'Verification status'),
  unverified: c('OS-UNVERIFIED', PRIVATE_SCHEME, 'UNVERIFIED \u2014 screening support, not a diagnosis'),
} as const;

/** SNOMED CT vertebra codes (CID 7603). */
export const VERTEBRA_CODES: Record<string, Code> = {
  L1: c('66794005', 'SCT', 'L1 vertebra'),
  L2: c('14293000', 'SCT', 'L2 vertebra'),
  L3: c('36470004', 'SCT', 'L3 vertebra'),
  L4: c('11994002', 'SCT', 'L4 vertebra'),
  L5: c('49668003', 'SCT', 'L5 vertebra'),
};

export function vertebraCode(level: string): Code {
  return VERTEBRA_CODES[level.toUpperCase()] ?? c(`OS-LVL-${level.slice(0, 8)}`, PRIVATE_SCHEME, `Vertebra ${level}`);
}

export const CODING_SCHEME_IDENTIFICATION = [
  {
    CodingSchemeDesignator: PRIVATE_SCHEME,
    CodingSchemeName: 'OsteoScreen private codes',
    CodingSchemeVersion: '1',
    CodingSchemeResponsibleOrganization: 'OsteoScreen project',
  },
];
