/**
 * DICOM Comprehensive SR (TID 1500 "Imaging Measurement Report" structure) of one OsteoScreen result.
 *
 * Tree:
 *   CONTAINER Imaging Measurement Report (TID 1500)
 *     HAS CONCEPT MOD  Language = en-US
 *     HAS OBS CONTEXT  Observer Type = Device, Device Observer UID/Name/Manufacturer/Model Name[/Serial]
 *     HAS CONCEPT MOD  Procedure reported = MR Lumbar spine
 *     CONTAINS Image Library → Image Library Group per source series → IMAGE references (T1, T2)
 *     CONTAINS Imaging Measurements
 *        Measurement Group "Radscore" (scored only): Radscore, cut-off, intercept (+ algorithm name/version/parameters)
 *        Measurement Group per model term: feature value, z, coefficient, contribution (+ feature name)
 *        Measurement Group per level: Volume with Finding Site = Lx vertebra
 *     CONTAINS Qualitative Evaluations
 *        Finding = abnormal bone mass suspected / not suspected / no flag (uncalibrated) / not assessable
 *        Reason not assessable (if any), Comments: result line, model line, UNVERIFIED, disclaimer, uncalibrated warning
 */
import { CODES, CODING_SCHEME_IDENTIFICATION, vertebraCode, type Code } from './codes.js';
import { dicomDateTime, equipmentModule, findingCode, noFlagReasons, patientStudyModules, reportStatements } from './header.js';
import { outputSeriesDescription, outputUids } from './uids.js';
import { forPeople, scoreVsCutoff } from './numbers.js';
import type { EvidenceSeries, ReportInput } from './types.js';
import { deterministicUid } from '../dicom/uid.js';

export const COMPREHENSIVE_SR_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.33';

type Item = Record<string, any>;

const seq = (code: Code) => [{ ...code }];

function container(rel: string | undefined, concept: Code, children: Item[], extra: Item = {}): Item {
  const it: Item = { ValueType: 'CONTAINER', ConceptNameCodeSequence: seq(concept), ContinuityOfContent: 'SEPARATE', ...extra };
  if (rel) it.RelationshipType = rel;
  if (children.length) it.ContentSequence = children;
  return it;
}
function text(rel: string, concept: Code, value: string): Item {
  return { RelationshipType: rel, ValueType: 'TEXT', ConceptNameCodeSequence: seq(concept), TextValue: value };
}
function codeItem(rel: string, concept: Code, value: Code): Item {
  return { RelationshipType: rel, ValueType: 'CODE', ConceptNameCodeSequence: seq(concept), ConceptCodeSequence: seq(value) };
}
function uidref(rel: string, concept: Code, uid: string): Item {
  return { RelationshipType: rel, ValueType: 'UIDREF', ConceptNameCodeSequence: seq(concept), UID: uid };
}
/**
 * NUM item: NumericValue (DS, what viewers show) rounded for people (numbers.ts; `shown` overrides it), the full
 * double in FloatingPointValue (FD) for machines.
 */
function num(rel: string, concept: Code, value: number, unit: Code, children: Item[] = [], shown?: string): Item {
  if (!Number.isFinite(value)) throw new Error(`cannot encode ${value} as a numeric SR value`);
  const it: Item = {
    RelationshipType: rel,
    ValueType: 'NUM',
    ConceptNameCodeSequence: seq(concept),
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: seq(unit), NumericValue: shown ?? forPeople(value), FloatingPointValue: value }],
  };
  if (children.length) it.ContentSequence = children;
  return it;
}

function algorithmItems(input: ReportInput): Item[] {
  const m = input.model;
  return [
    text('HAS CONCEPT MOD', CODES.algorithmName, m.name),
    text('HAS CONCEPT MOD', CODES.algorithmVersion, m.version),
    text(
      'HAS CONCEPT MOD',
      CODES.algorithmParameters,
      `model hash ${m.hash}; ${m.calibrated ? 'calibrated' : 'uncalibrated'}; ${input.algorithm.name} ${input.algorithm.version}`,
    ),
  ];
}

function measurementGroup(trackingId: string, trackingUid: string, body: Item[]): Item {
  return container('CONTAINS', CODES.measurementGroup, [
    text('HAS OBS CONTEXT', CODES.trackingIdentifier, trackingId),
    uidref('HAS OBS CONTEXT', CODES.trackingUid, trackingUid),
    ...body,
  ]);
}

function evidenceList(input: ReportInput): EvidenceSeries[] {
  return [input.evidence.t1, input.evidence.t2].filter((e): e is EvidenceSeries => !!e && e.instances.length > 0);
}

/** A stable id for the device observer (same for every report of this algorithm on this device). */
export function deviceObserverUid(input: ReportInput): string {
  return deterministicUid('osteoscreen-device', input.algorithm.name, input.device?.serialNumber ?? '');
}

/** Build the SR as a naturalized dcmjs dataset. */
export function buildSr(input: ReportInput): Record<string, any> {
  const r = input.result;
  const studyUid = input.source.StudyInstanceUID;
  const uids = outputUids(studyUid, input.model, 'sr');
  const revision = input.revision ?? 1;
  const sopInstanceUid = uids.instanceUid(revision);
  const { date, time } = dicomDateTime(input.now ?? new Date());
  const evidence = evidenceList(input);

  // Observer context (device) and document-level modifiers.
  const header: Item[] = [
    codeItem('HAS CONCEPT MOD', CODES.language, CODES.englishUS),
    codeItem('HAS OBS CONTEXT', CODES.observerType, CODES.device),
    uidref('HAS OBS CONTEXT', CODES.deviceObserverUid, deviceObserverUid(input)),
    text('HAS OBS CONTEXT', CODES.deviceObserverName, input.algorithm.name),
    text('HAS OBS CONTEXT', CODES.deviceObserverManufacturer, input.device?.manufacturer ?? 'OsteoScreen project'),
    text('HAS OBS CONTEXT', CODES.deviceObserverModelName, `${input.algorithm.name} ${input.algorithm.version}`),
  ];
  if (input.device?.serialNumber) header.push(text('HAS OBS CONTEXT', CODES.deviceObserverSerialNumber, input.device.serialNumber));
  header.push(codeItem('HAS CONCEPT MOD', CODES.procedureReported, CODES.mrLumbarSpine));

  // Image library: the source series this result was computed from.
  const library = container(
    'CONTAINS',
    CODES.imageLibrary,
    evidence.map((s) =>
      container(
        'CONTAINS',
        CODES.imageLibraryGroup,
        s.instances.map((i) => ({
          RelationshipType: 'CONTAINS',
          ValueType: 'IMAGE',
          ReferencedSOPSequence: [{ ReferencedSOPClassUID: i.sopClassUid, ReferencedSOPInstanceUID: i.sopInstanceUid }],
        })),
      ),
    ),
  );

  // Measurements.
  const groups: Item[] = [];
  const track = (...p: Array<string | number>) => deterministicUid(sopInstanceUid, 'tracking', ...p);
  if (r.kind === 'scored') {
    const shownPair = scoreVsCutoff(r.score, r.cutoff);
    const scoreBody: Item[] = [
      codeItem('HAS CONCEPT MOD', CODES.findingSite, CODES.lumbarSpine),
      ...algorithmItems(input),
      num('CONTAINS', CODES.radscore, r.score, CODES.unitNone, [], shownPair.score),
      num('CONTAINS', CODES.radscoreCutoff, r.cutoff, CODES.unitNone, [], shownPair.cutoff),
    ];
    if (r.intercept !== undefined) scoreBody.push(num('CONTAINS', CODES.modelIntercept, r.intercept, CODES.unitNone));
    groups.push(measurementGroup('Radscore', track('radscore'), scoreBody));
    r.terms.forEach((t, k) => {
      const name = `${t.sequence} ${t.feature}`;
      groups.push(
        measurementGroup(`Radscore term ${k + 1}: ${name}`, track('term', k, name), [
          codeItem('HAS CONCEPT MOD', CODES.findingSite, CODES.lumbarSpine),
          text('HAS CONCEPT MOD', CODES.radiomicsFeature, name),
          ...algorithmItems(input),
          num('CONTAINS', CODES.featureValue, t.value, CODES.unitNone),
          num('CONTAINS', CODES.featureZ, t.z, CODES.unitNone),
          num('CONTAINS', CODES.coefficient, t.coefficient, CODES.unitNone),
          num('CONTAINS', CODES.contribution, t.contribution, CODES.unitNone),
        ]),
      );
    });
  }
  const levels = r.levels ?? [];
  for (const l of levels) {
    groups.push(
      measurementGroup(`Vertebral body ${l.level}`, track('level', l.level), [
        codeItem('HAS CONCEPT MOD', CODES.findingSite, vertebraCode(l.level)),
        num('CONTAINS', CODES.volume, l.volumeMm3, CODES.unitMm3),
      ]),
    );
  }

  // Qualitative evaluations: the result in words, with the mandatory statements.
  const qual: Item[] = [codeItem('CONTAINS', CODES.finding, findingCode(input))];
  if (r.kind === 'not-assessable') qual.push(text('CONTAINS', CODES.reasonNotAssessable, r.reason));
  for (const why of noFlagReasons(input)) qual.push(text('CONTAINS', CODES.reasonNoFlag, why));
  for (const st of reportStatements(input)) qual.push(text('CONTAINS', CODES[st.concept], st.text));

  const content: Item[] = [...header];
  if (evidence.length) content.push(library);
  if (groups.length) content.push(container('CONTAINS', CODES.imagingMeasurements, groups));
  content.push(container('CONTAINS', CODES.qualitativeEvaluations, qual));

  const ds: Record<string, any> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: COMPREHENSIVE_SR_SOP_CLASS,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...patientStudyModules(input),
    Modality: 'SR',
    SeriesInstanceUID: uids.seriesInstanceUid,
    SeriesNumber: uids.seriesNumber,
    SeriesDate: date,
    SeriesTime: time,
    SeriesDescription: outputSeriesDescription('sr', input.model),
    ReferencedPerformedProcedureStepSequence: [],
    ...equipmentModule(input),
    InstanceNumber: revision,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: date,
    ContentTime: time,
    PerformedProcedureCodeSequence: seq(CODES.mrLumbarSpine),
    CodingSchemeIdentificationSequence: CODING_SCHEME_IDENTIFICATION.map((x) => ({ ...x })),
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: seq(CODES.imagingMeasurementReport),
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: content,
  };
  if (evidence.length) {
    ds.CurrentRequestedProcedureEvidenceSequence = [
      {
        StudyInstanceUID: studyUid,
        ReferencedSeriesSequence: evidence.map((s) => ({
          SeriesInstanceUID: s.seriesInstanceUid,
          ReferencedSOPSequence: s.instances.map((i) => ({ ReferencedSOPClassUID: i.sopClassUid, ReferencedSOPInstanceUID: i.sopInstanceUid })),
        })),
      },
    ];
  }
  if (input.predecessors?.length) {
    const bySeries = new Map<string, Item[]>();
    for (const p of input.predecessors) {
      const list = bySeries.get(p.seriesInstanceUid) ?? [];
      list.push({ ReferencedSOPClassUID: p.sopClassUid, ReferencedSOPInstanceUID: p.sopInstanceUid });
      bySeries.set(p.seriesInstanceUid, list);
    }
    ds.PredecessorDocumentsSequence = [
      {
        StudyInstanceUID: studyUid,
        ReferencedSeriesSequence: [...bySeries].map(([SeriesInstanceUID, ReferencedSOPSequence]) => ({ SeriesInstanceUID, ReferencedSOPSequence })),
      },
    ];
  }
  return ds;
}
