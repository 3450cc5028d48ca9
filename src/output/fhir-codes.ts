/**
 * The codes of the FHIR output, declared once. Standard code systems where a code exists (LOINC for the report
 * kind, the HL7 terminology for category, interpretation, data-absent reason and identifier type, UCUM for the
 * unit); the project's own code system (PROJECT_SYSTEM) for what none of them has: the radscore, its cut-off, the
 * model's name, version and hash, its calibration state and the screening status. README "FHIR R4" lists them.
 */

/** The project's code system: one URI, its codes in PROJECT_CODES (also served as a CodeSystem resource by projectCodeSystem()). */
export const PROJECT_SYSTEM = 'https://osteoscreen.example/fhir/CodeSystem/osteoscreen';

export const PROJECT_CODES = {
  screening: 'Opportunistic screening for abnormal bone mass on lumbar spine MRI (radscore)',
  radscore: 'Radscore for abnormal bone mass, lumbar spine MRI',
  cutoff: 'Radscore cut-off (flag = radscore > cut-off)',
  calibrated: 'Model calibrated for this site',
  'model-name': 'Radscore model name',
  'model-version': 'Radscore model version',
  'model-hash': 'Radscore model hash (SHA-256)',
  'screening-status': 'Screening status of the result',
  unverified: 'UNVERIFIED — screening support',
  flagged: 'Abnormal bone mass suspected',
  'not-flagged': 'Abnormal bone mass not suspected',
  'no-flag': 'No flag given',
  'not-assessable': 'Not assessable',
} as const;

export type ProjectCode = keyof typeof PROJECT_CODES;

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

export const project = (code: ProjectCode): Coding => ({ system: PROJECT_SYSTEM, code, display: PROJECT_CODES[code] });

/** The status text every result carries (DiagnosticReport.conclusion, Observation.note, the screening-status component). */
export const SCREENING_STATUS = 'UNVERIFIED — screening support';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
/** DICOM UIDs as FHIR identifiers: system urn:dicom:uid, value urn:oid:<UID> (FHIR R4 ImagingStudy.identifier). */
export const DICOM_UID_SYSTEM = 'urn:dicom:uid';

export const CODES = {
  /** LOINC 18748-4 "Diagnostic imaging study" (LOINC imaging document codes). */
  imagingReport: { system: LOINC, code: '18748-4', display: 'Diagnostic imaging study' },
  /** HL7 v2 table 0074 diagnostic service section RAD (DiagnosticReport.category). */
  radiology: { system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' },
  /** Observation category "imaging". */
  imaging: { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging', display: 'Imaging' },
  /** HL7 v2 table 0203 identifier type ACSN (accession number). */
  accession: { system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN', display: 'Accession ID' },
  /** v3 ObservationInterpretation: A (flagged), N (not flagged), IND (no flag: uncalibrated / out of range). */
  abnormal: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'A', display: 'Abnormal' },
  normal: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N', display: 'Normal' },
  indeterminate: { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'IND', display: 'Indeterminate' },
  /** data-absent-reason "error": the analysis ran and could not give a radscore (the reason is its text). */
  notAssessable: { system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'error', display: 'Error' },
} satisfies Record<string, Coding>;

/** The project code system as a FHIR R4 CodeSystem resource (for a terminology server; validated in the tests). */
export function projectCodeSystem() {
  return {
    resourceType: 'CodeSystem' as const,
    url: PROJECT_SYSTEM,
    name: 'OsteoScreen',
    title: 'OsteoScreen result codes',
    status: 'active' as const,
    content: 'complete' as const,
    caseSensitive: true,
    concept: Object.entries(PROJECT_CODES).map(([code, display]) => ({ code, display })),
  };
}
