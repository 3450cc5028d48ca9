/**
 * FHIR R4 output: for each finished study (scored or not assessable) one Observation (the radscore, its cut-off,
 * flag, model and calibration state) and one DiagnosticReport (the screening report that has it as result) are
 * POSTed to each configured FHIR server (`output.fhir`), each with conditional create, so a retry after a lost
 * answer finds the resource made by the first attempt instead of making a second:
 *
 *   POST <base>/Observation        If-None-Exist: identifier=urn:dicom:uid|urn:oid:<UID of this result's Observation>
 *   POST <base>/DiagnosticReport   If-None-Exist: identifier=urn:dicom:uid|urn:oid:<UID of this result's report>
 *
 * The UIDs are derived from the study UID and the job (deterministicUid), like the webhook's event id: the same
 * for every retry, new for a re-analysis of the study (a new result). Both resources link to the study: an
 * ImagingStudy reference by identifier (urn:dicom:uid | urn:oid:<StudyInstanceUID>), the order (basedOn, a
 * ServiceRequest by its accession number, identifier type ACSN) and the patient (subject, by identifier) as the
 * site's `identity` config maps them (output/identity.ts). The report's result references the Observation by
 * identifier, and by the server's id once the server has said it.
 *
 * The two resources are written once to `<job dir>/fhir.json` (a FHIR collection Bundle) and one outbox row per
 * server points to it. A study without a usable patient identity gets its row all the same, with an
 * undeliverable payload: dead-lettered at the first attempt with the reason, the server not contacted.
 * Answers: 2xx delivered (201 created, 200 found by the condition); 408/425/429, 5xx or no answer retried with the
 * outbox back-off; 3xx and other 4xx dead-lettered at once with the server's OperationOutcome text. The patient
 * identifier and accession number never reach a log line: an answer that repeats them is redacted before it is
 * recorded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config, FhirDestination } from '../config/schema.js';
import type { SendResult } from '../dicom/scu.js';
import type { Store } from '../store/index.js';
import { deterministicUid } from '../dicom/uid.js';
import { CODES, DICOM_UID_SYSTEM, project, SCREENING_STATUS, UCUM, type ProjectCode } from './fhir-codes.js';
import { describeAnswer, describeNetworkError, httpPost, isRetryableHttpStatus, readCaFile, readPayloadFile, type PostAnswer } from './http-post.js';
import { undeliverablePayload, undeliverableReason, type IdentityResult, type StudyIdentity } from './identity.js';
import { urlKey } from './keys.js';
import { authHeaders } from './stow.js';
import { webhookResult, type FinishedResult } from './webhook.js';

/** The outbox's key for a FHIR server: "fhir:<base url>" (a query string, if any, is hashed). */
export function fhirKey(d: Pick<FhirDestination, 'url'>): string {
  return `fhir:${urlKey(d.url)}`;
}

type Json = Record<string, unknown>;
interface Identifier {
  system: string;
  value: string;
  type?: { coding: { system: string; code: string; display?: string }[] };
}

const uidIdentifier = (uid: string): Identifier => ({ system: DICOM_UID_SYSTEM, value: `urn:oid:${uid}` });
const concept = (code: ProjectCode) => ({ coding: [project(code)] });

/** The two identifiers of one result (conditional create searches on them). */
export function resultIdentifiers(studyUid: string, jobId: number): { observation: Identifier; report: Identifier } {
  return {
    observation: uidIdentifier(deterministicUid('osteoscreen-fhir-observation', studyUid, jobId)),
    report: uidIdentifier(deterministicUid('osteoscreen-fhir-report', studyUid, jobId)),
  };
}

/** A DICOM DA (YYYYMMDD) as a FHIR date, or undefined. */
function fhirDate(da: string | null | undefined): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec((da ?? '').trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

const fmt = (x: number) => String(Number(x.toPrecision(6)));

/** A finished job's result; `flagSuppressed` (the job result's words for why a scored study has no flag) when known. */
export type FhirResult = FinishedResult & { flagSuppressed?: string | null };

const noFlagReason = (r: FhirResult) => r.flagSuppressed ?? r.reason ?? 'model not calibrated';

/** The result in words, as the conclusion says it (no identifiers). */
export function resultSentence(r: FhirResult): string {
  const kind = webhookResult(r);
  const model = r.model ? ` Model ${r.model.name} ${r.model.version}${r.model.hash ? ` (hash ${r.model.hash})` : ''}, ${r.calibrated ? 'calibrated' : 'not calibrated'}.` : '';
  if (kind === 'not-assessable') return `Not assessable: ${r.reason ?? 'no reason given'}.${model}`;
  const score = `Radscore ${fmt(r.score!)}${r.cutoff !== null ? ` (cut-off ${fmt(r.cutoff)})` : ''}`;
  const what = kind === 'flagged' ? 'abnormal bone mass suspected' : kind === 'not-flagged' ? 'abnormal bone mass not suspected' : `no flag: ${noFlagReason(r)}`;
  return `${score}: ${what}.${model}`;
}

export interface FhirInput {
  studyUid: string;
  jobId: number;
  identity: StudyIdentity & { patientSystem: string };
  result: FhirResult;
  /** The study's date (DICOM DA), for Observation.effectiveDateTime. */
  studyDate?: string | null;
  finishedAt: number;
}

/** Observation and DiagnosticReport of one result, as a FHIR collection Bundle (the payload file). Pure. */
export function fhirResources(a: FhirInput): { resourceType: 'Bundle'; type: 'collection'; entry: { resource: Json }[] } {
  const r = a.result;
  const kind = webhookResult(r);
  const ids = resultIdentifiers(a.studyUid, a.jobId);
  const subject = { type: 'Patient', identifier: { system: a.identity.patientSystem, value: a.identity.patientId } };
  const order = { type: 'ServiceRequest', identifier: { type: { coding: [CODES.accession] }, system: a.identity.accessionSystem ?? a.identity.patientSystem, value: a.identity.accessionNumber } };
  const study = { type: 'ImagingStudy', identifier: uidIdentifier(a.studyUid) };
  const issued = new Date(a.finishedAt).toISOString();
  const effective = fhirDate(a.studyDate);
  const sentence = resultSentence(r);
  const unitless = (value: number) => ({ value, unit: '1', system: UCUM, code: '1' });

  const components: Json[] = [{ code: concept('screening-status'), valueCodeableConcept: { coding: [project('unverified')], text: SCREENING_STATUS } }];
  if (r.cutoff !== null) components.push({ code: concept('cutoff'), valueQuantity: unitless(r.cutoff) });
  if (r.calibrated !== null) components.push({ code: concept('calibrated'), valueBoolean: r.calibrated });
  if (r.model) {
    components.push({ code: concept('model-name'), valueString: r.model.name }, { code: concept('model-version'), valueString: r.model.version });
    if (r.model.hash) components.push({ code: concept('model-hash'), valueString: r.model.hash });
  }
  const interpretation =
    kind === 'flagged'
      ? { coding: [CODES.abnormal, project('flagged')], text: PROJECT_TEXT.flagged }
      : kind === 'not-flagged'
        ? { coding: [CODES.normal, project('not-flagged')], text: PROJECT_TEXT['not-flagged'] }
        : kind === 'no-flag'
          ? { coding: [CODES.indeterminate, project('no-flag')], text: `No flag: ${noFlagReason(r)}` }
          : undefined;
  const observation: Json = {
    resourceType: 'Observation',
    identifier: [ids.observation],
    basedOn: [order],
    status: 'preliminary',
    category: [{ coding: [CODES.imaging] }],
    code: { coding: [project('radscore')], text: 'OsteoScreen radscore' },
    subject,
    ...(effective ? { effectiveDateTime: effective } : {}),
    issued,
    ...(kind === 'not-assessable' || r.score === null ? { dataAbsentReason: { coding: [CODES.notAssessable], text: `Not assessable: ${r.reason ?? 'no reason given'}` } } : { valueQuantity: unitless(r.score) }),
    ...(interpretation ? { interpretation: [interpretation] } : {}),
    note: [{ text: `${SCREENING_STATUS}, not a diagnosis. ${sentence}` }],
    derivedFrom: [study],
    component: components,
  };
  const report: Json = {
    resourceType: 'DiagnosticReport',
    identifier: [ids.report],
    basedOn: [order],
    status: 'preliminary',
    category: [{ coding: [CODES.radiology] }],
    code: { coding: [CODES.imagingReport, project('screening')], text: 'Opportunistic screening for abnormal bone mass, lumbar spine MRI (OsteoScreen)' },
    subject,
    ...(effective ? { effectiveDateTime: effective } : {}),
    issued,
    result: [{ type: 'Observation', identifier: ids.observation }],
    imagingStudy: [study],
    conclusion: `${SCREENING_STATUS}, not a diagnosis. ${sentence}`,
    conclusionCode: [{ coding: [project(kind)], text: PROJECT_TEXT[kind] }],
  };
  return { resourceType: 'Bundle', type: 'collection', entry: [{ resource: observation }, { resource: report }] };
}

const PROJECT_TEXT: Record<ReturnType<typeof webhookResult>, string> = {
  flagged: project('flagged').display!,
  'not-flagged': project('not-flagged').display!,
  'no-flag': project('no-flag').display!,
  'not-assessable': project('not-assessable').display!,
};

/**
 * Queue the study's FHIR resources for every FHIR server that wants them: the payload goes to `<dir>/fhir.json`,
 * one outbox row per server (kind "fhir", the report's identifier UID in the SOP UID column). Returns the rows.
 */
export function queueFhir(deps: { config: Config; store: Store; identity: () => IdentityResult }, job: { id: number; study_uid: string }, result: FhirResult, dir: string, now = Date.now()): number {
  const servers = deps.config.output.fhir.filter((d) => !d.onlyFlagged || webhookResult(result) === 'flagged');
  if (!servers.length) return 0;
  const id = deps.identity();
  let payload: string;
  if (!id.ok) payload = undeliverablePayload(id.reason);
  else if (!id.identity.patientSystem) payload = undeliverablePayload(`no FHIR identifier system for the patient identifier: ${id.identity.patientSystemProblem ?? 'unknown issuer'}`);
  else {
    const study = deps.store.index.getStudy(job.study_uid);
    const bundle = fhirResources({ studyUid: job.study_uid, jobId: job.id, identity: { ...id.identity, patientSystem: id.identity.patientSystem }, result, studyDate: study?.study_date, finishedAt: now });
    payload = JSON.stringify(bundle);
  }
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'fhir.json');
  writeFileSync(file, payload);
  const sopUid = resultIdentifiers(job.study_uid, job.id).report.value.slice('urn:oid:'.length);
  for (const d of servers) deps.store.outbox.add({ studyUid: job.study_uid, jobId: job.id, kind: 'fhir', destination: fhirKey(d), path: file, sopUid });
  return servers.length;
}

/** The OperationOutcome's issues in one line ("error invalid: <diagnostics> (at <expression>)"), or undefined. */
export function operationOutcomeText(body: Buffer): string | undefined {
  let oo: { resourceType?: string; issue?: { severity?: string; code?: string; diagnostics?: string; details?: { text?: string }; expression?: string[] }[] };
  try {
    oo = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (oo?.resourceType !== 'OperationOutcome' || !Array.isArray(oo.issue) || !oo.issue.length) return undefined;
  return oo.issue
    .map((i) => `${[i.severity, i.code].filter(Boolean).join(' ')}: ${i.details?.text ?? i.diagnostics ?? ''}${i.expression?.length ? ` (at ${i.expression.join(', ')})` : ''}`)
    .join('; ')
    .replace(/\s+/g, ' ')
    .slice(0, 500);
}

/** The id the server gave the resource: the body's id, else the Location header's `<Type>/<id>`. */
function createdId(a: PostAnswer, type: string): string | undefined {
  try {
    const body = JSON.parse(a.body.toString('utf8')) as { resourceType?: string; id?: string };
    if (body?.resourceType === type && typeof body.id === 'string') return body.id;
  } catch {
    // no JSON body: the Location header may say it
  }
  const loc = String(a.headers.location ?? a.headers['content-location'] ?? '');
  return new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/|$)`).exec(loc)?.[1];
}

/** The receiver's text with the patient identifier and accession number taken out (it is recorded in the outbox and logged). */
function redact(text: string, identifiers: [string | undefined, string][]): string {
  let out = text;
  for (const [value, label] of identifiers) if (value && value.length >= 3) out = out.split(value).join(`[${label}]`);
  return out;
}

/** POST each row's two resources (Observation, then DiagnosticReport); one result per row, in order. Never rejects. */
export async function sendFhir(d: FhirDestination, items: { path: string }[]): Promise<SendResult[]> {
  const { ca, error } = readCaFile(d.caFile);
  if (error) return items.map((it) => ({ file: it.path, ok: false, error, retryable: true }));
  const out: SendResult[] = [];
  for (const it of items) out.push({ file: it.path, ...(await sendOne(d, it.path, ca)) });
  return out;
}

async function sendOne(d: FhirDestination, file: string, ca: Buffer | undefined): Promise<Omit<SendResult, 'file'>> {
  const payload = readPayloadFile(file);
  if ('error' in payload) return { ok: false, error: payload.error, retryable: false };
  const why = undeliverableReason(payload.bytes);
  if (why !== null) return { ok: false, error: `not sent: ${why}`, retryable: false };
  let entries: Json[];
  try {
    const bundle = JSON.parse(payload.bytes.toString('utf8')) as { entry?: { resource?: Json }[] };
    entries = (bundle.entry ?? []).map((e) => e.resource!).filter((r) => r && typeof r.resourceType === 'string');
    if (!entries.length) throw new Error('no resources in the payload');
    // Conditional create needs each resource's identifier: without one a retry could duplicate it.
    if (entries.some((r) => !(r.identifier as Identifier[] | undefined)?.[0]?.value)) throw new Error('a resource without an identifier');
  } catch (e) {
    return { ok: false, error: `${file}: unreadable FHIR payload: ${(e as Error).message}`, retryable: false };
  }
  const first = entries[0] as { subject?: { identifier?: Identifier }; basedOn?: { identifier?: Identifier }[] };
  const identifiers: [string | undefined, string][] = [
    [first.subject?.identifier?.value, 'patient identifier'],
    [first.basedOn?.[0]?.identifier?.value, 'accession number'],
  ];
  const ids = new Map<string, string>(); // "Observation|<identifier value>" -> server id
  let status = 0;
  for (const original of entries) {
    const type = String(original.resourceType);
    const identifier = (original.identifier as Identifier[])[0]!;
    // The report's result: the Observation by identifier, plus the server's id for it when known.
    const resource = Array.isArray(original.result)
      ? { ...original, result: (original.result as { type: string; identifier: Identifier }[]).map((ref) => ({ ...(ids.has(`${ref.type}|${ref.identifier.value}`) ? { reference: `${ref.type}/${ids.get(`${ref.type}|${ref.identifier.value}`)}` } : {}), ...ref })) }
      : original;
    let a: PostAnswer;
    try {
      a = await httpPost(`${d.url}/${type}`, {
        headers: {
          'content-type': 'application/fhir+json; charset=utf-8',
          accept: 'application/fhir+json',
          'if-none-exist': new URLSearchParams({ identifier: `${identifier.system}|${identifier.value}` }).toString(),
          ...authHeaders(d),
        },
        body: Buffer.from(JSON.stringify(resource)),
        ca,
        timeoutMs: d.timeoutSeconds * 1000,
      });
    } catch (e) {
      return { ok: false, error: `${type}: ${describeNetworkError(e)}`, retryable: true };
    }
    if (a.status < 200 || a.status >= 300) {
      const detail = a.status >= 300 && a.status < 400 ? `redirected to ${a.headers.location ?? '?'}; configure that URL` : operationOutcomeText(a.body);
      return { ok: false, status: a.status, error: redact(`${type}: ${describeAnswer(a, detail)}`, identifiers), retryable: a.status >= 400 && isRetryableHttpStatus(a.status) };
    }
    status = a.status;
    const id = createdId(a, type);
    if (id) ids.set(`${type}|${identifier.value}`, id);
  }
  return { ok: true, status };
}
