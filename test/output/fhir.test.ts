/**
 * FHIR R4 output through the real processor hand-off (createProcessor queues it; the analysis is replaced by a
 * result with real report files), the outbox (real SQLite, fake clock for the back-off) and the Deliverer, to a
 * real FHIR server (test/helpers/fhir-server.ts: Medplum's FHIR router with conditional create, validating every
 * resource against the official R4 StructureDefinitions and JSON schema, refusing invalid ones).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { loadConfig, maskedConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/common/metrics.js';
import { setLogSink } from '../../src/common/log.js';
import { Deliverer } from '../../src/pipeline/deliver.js';
import { createProcessor } from '../../src/pipeline/process.js';
import type { AnalyseResult } from '../../src/pipeline/analyse.js';
import { fhirKey, fhirResources } from '../../src/output/fhir.js';
import { PROJECT_SYSTEM, projectCodeSystem } from '../../src/output/fhir-codes.js';
import { destinationStates } from '../../src/admin/destinations.js';
import { writePart10 } from '../../src/dicom/write.js';
import type { Store } from '../../src/store/index.js';
import { memoryStore, receive, type FakeClock } from '../helpers/memory-store.js';
import { FhirTestServer, loadR4Definitions, r4Errors } from '../helpers/fhir-server.js';
import { analysisResult, writeStudyOutputs } from './files.js';

const HOUR = 3_600_000;
const STUDY = '1.2.826.0.1.3680043.8.498.4712';
const ISSUER = '1.2.826.0.1.3680043.8.498.1';
const PATIENT = { PatientName: 'Phantom^Müller', PatientID: 'PID-4712-X', PatientBirthDate: '19600101', IssuerOfPatientID: ISSUER, AccessionNumber: 'ACC-2026-78', StudyDate: '20260105' };
const TOKEN = 'fhir-test-token-5150';

let store: Store & { clock: FakeClock };
let server: FhirTestServer;
const dir = mkdtempSync(join(tmpdir(), 'fhir-test-'));
const logLines: string[] = [];

function configFor(fhir: Record<string, unknown>[], identity: Record<string, unknown> = {}): Config {
  return configSchema.parse({ output: { fhir, retryBaseSeconds: 10 }, identity });
}

type Kind = 'flagged' | 'not-flagged' | 'no-flag' | 'not-assessable';

/** A job's result as the processor hands it on (jobResultView's fields). */
function analysis(kind: Kind): AnalyseResult['score'] {
  const model = { name: 'paper-t1t2', version: '1.1.0', hash: 'abc123' };
  if (kind === 'not-assessable') return { notAssessable: 'no sagittal T1 series', missing: [], model };
  const flag = kind === 'flagged' ? true : kind === 'not-flagged' ? false : null;
  return { score: kind === 'flagged' ? 0.61 : 0.4, cutoff: 0.542, flag, calibrated: kind !== 'no-flag', normalisation: 'calibration', intercept: 0.5, terms: [], model, ...(flag === null ? { flagSuppressed: 'model not calibrated for this site' } : {}) } as AnalyseResult['score'];
}

let instances = 0;

/** Store one instance file of `study` with the patient module, run the processor on a job whose analysis gives `kind`. */
async function finishStudy(config: Config, kind: Kind, study = STUDY, patient: Record<string, string> = PATIENT): Promise<number> {
  const sop = `${study}.1.${++instances}`;
  const file = writePart10({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.4', SOPInstanceUID: sop, StudyInstanceUID: study, ...patient }, join(dir, `${sop}.dcm`));
  receive(store, study, `${study}.1`, { patientName: patient.PatientName, patientId: patient.PatientID, accessionNumber: patient.AccessionNumber, studyDate: patient.StudyDate }, file);
  const job = store.index.enqueueJob(study, 'test');
  const files = writeStudyOutputs(dir, job.id);
  const result = analysisResult(files, analysis(kind), kind === 'not-assessable' ? 'no sagittal T1 series' : kind === 'no-flag' ? 'model not calibrated for this site' : null);
  const processor = createProcessor({ config, store, metrics: createMetrics(), analyse: async () => result, version: 'test' });
  await processor(job);
  return job.id;
}

const deliverer = (config: Config) => new Deliverer(config, store, createMetrics(), { now: store.clock.now });
const fhirRows = () => store.outbox.list().filter((r) => r.kind === 'fhir').reverse();
const posts = () => server.requests.filter((r) => r.method === 'POST');

beforeAll(() => {
  loadR4Definitions();
  setLogSink((line) => logLines.push(line));
});
beforeEach(async () => {
  store = memoryStore();
  server = new FhirTestServer();
  await server.start();
});
afterEach(async () => {
  await server.stop();
  store.close();
  // No patient identifier in any log line of any test.
  for (const v of [PATIENT.PatientID, PATIENT.PatientName, 'Müller', PATIENT.PatientBirthDate, PATIENT.AccessionNumber]) expect(logLines.join('\n')).not.toContain(v);
});

describe('FHIR R4 resources', () => {
  it('every kind of result gives an Observation and a DiagnosticReport valid against the official R4 definitions; the project code system too', () => {
    const identity = { patientId: 'PID-1', issuer: ISSUER, patientSystem: `urn:oid:${ISSUER}`, patientSystemProblem: null, accessionNumber: 'ACC-1', accessionSystem: `urn:oid:${ISSUER}` };
    for (const kind of ['flagged', 'not-flagged', 'no-flag', 'not-assessable'] as Kind[]) {
      const s = analysis(kind)!;
      const result =
        'notAssessable' in s
          ? { kind: 'not-assessable', reason: s.notAssessable, score: null, cutoff: null, flag: null, calibrated: null, model: s.model }
          : { kind: 'scored', reason: s.flag === null ? 'model not calibrated for this site' : null, score: s.score, cutoff: s.cutoff, flag: s.flag, calibrated: s.calibrated, model: s.model };
      const bundle = fhirResources({ studyUid: STUDY, jobId: 3, identity, result, studyDate: '20260105', finishedAt: Date.UTC(2026, 0, 5, 12) });
      expect(r4Errors(bundle), kind).toEqual([]);
      for (const e of bundle.entry) expect(r4Errors(e.resource), `${kind} ${e.resource.resourceType}`).toEqual([]);
      const [obs, report] = bundle.entry.map((e) => e.resource as any);
      expect(obs.status).toBe('preliminary');
      expect(report.conclusion).toMatch(/^UNVERIFIED — screening support, not a diagnosis\. /);
      if (kind === 'not-assessable') {
        expect(obs.valueQuantity).toBeUndefined();
        expect(obs.dataAbsentReason).toMatchObject({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason' }], text: 'Not assessable: no sagittal T1 series' });
        expect(obs.interpretation).toBeUndefined();
      } else expect(obs.valueQuantity).toEqual({ value: s && 'score' in s ? s.score : NaN, unit: '1', system: 'http://unitsofmeasure.org', code: '1' });
      const interp = obs.interpretation?.[0]?.coding?.[0]?.code;
      expect(interp).toBe({ flagged: 'A', 'not-flagged': 'N', 'no-flag': 'IND', 'not-assessable': undefined }[kind]);
      expect(report.conclusionCode[0].coding[0]).toMatchObject({ system: PROJECT_SYSTEM, code: kind });
    }
    expect(r4Errors(projectCodeSystem())).toEqual([]);
  });

  it('the validator is not a rubber stamp: invariants, cardinality, required-binding codes and unknown elements are errors', () => {
    const errors = r4Errors({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1 }, dataAbsentReason: { text: 'x' } });
    expect(errors.join('\n')).toMatch(/obs-6/);
    expect(r4Errors({ resourceType: 'Observation', status: 'final' }).join('\n')).toMatch(/Observation\.code/);
    expect(r4Errors({ resourceType: 'Observation', status: 'unverified', code: { text: 'x' } }).join('\n')).toMatch(/JSON schema: \/status must be equal to one of the allowed values/);
    expect(r4Errors({ resourceType: 'DiagnosticReport', status: 'preliminary', code: { text: 'x' }, flag: true }).join('\n')).toMatch(/flag/);
  });
});

describe('FHIR output', () => {
  it('a finished study: one Observation and one DiagnosticReport, created conditionally, linked to the patient, order and study', async () => {
    const config = configFor([{ url: server.base }]);
    const jobId = await finishStudy(config, 'flagged');
    expect(fhirRows()).toMatchObject([{ state: 'pending', destination: fhirKey({ url: server.base }), job_id: jobId }]);
    await deliverer(config).tick();
    expect(fhirRows()).toMatchObject([{ state: 'sent', attempts: 1 }]);
    expect(posts().map((r) => [r.url, r.status])).toEqual([['/fhir/R4/Observation', 201], ['/fhir/R4/DiagnosticReport', 201]]);
    const [obs] = await server.all<any>('Observation');
    const [report] = await server.all<any>('DiagnosticReport');
    expect(await server.all('Observation')).toHaveLength(1);
    expect(await server.all('DiagnosticReport')).toHaveLength(1);
    for (const r of [obs, report]) {
      expect(r4Errors(r)).toEqual([]);
      expect(r.subject).toEqual({ type: 'Patient', identifier: { system: `urn:oid:${ISSUER}`, value: PATIENT.PatientID } });
      expect(r.basedOn).toEqual([{ type: 'ServiceRequest', identifier: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN', display: 'Accession ID' }] }, system: `urn:oid:${ISSUER}`, value: PATIENT.AccessionNumber } }]);
      expect(r.effectiveDateTime).toBe('2026-01-05');
    }
    expect(report.imagingStudy).toEqual([{ type: 'ImagingStudy', identifier: { system: 'urn:dicom:uid', value: `urn:oid:${STUDY}` } }]);
    expect(obs.derivedFrom).toEqual(report.imagingStudy);
    expect(report.result).toEqual([{ reference: `Observation/${obs.id}`, type: 'Observation', identifier: obs.identifier[0] }]);
    expect(report.code.coding[0]).toEqual({ system: 'http://loinc.org', code: '18748-4', display: 'Diagnostic imaging study' });
    expect(obs.valueQuantity.value).toBe(0.61);
    const component = (code: string) => obs.component.find((c: any) => c.code.coding[0].code === code);
    expect(component('cutoff').valueQuantity.value).toBe(0.542);
    expect(component('calibrated').valueBoolean).toBe(true);
    expect([component('model-name').valueString, component('model-version').valueString, component('model-hash').valueString]).toEqual(['paper-t1t2', '1.1.0', 'abc123']);
    expect(component('screening-status').valueCodeableConcept.text).toBe('UNVERIFIED — screening support');
    expect(report.conclusion).toBe('UNVERIFIED — screening support, not a diagnosis. Radscore 0.61 (cut-off 0.542): abnormal bone mass suspected. Model paper-t1t2 1.1.0 (hash abc123), calibrated.');
    // Conditional create on the result's identifiers.
    for (const [r, res] of [[posts()[0]!, obs], [posts()[1]!, report]] as const) {
      expect(r.headers['if-none-exist']).toBe(new URLSearchParams({ identifier: `urn:dicom:uid|${res.identifier[0].value}` }).toString());
      expect(r.headers['content-type']).toMatch(/^application\/fhir\+json/);
    }
    // Only identifiers the site maps: no name or birth date.
    for (const r of posts()) expect(r.body).not.toMatch(/Müller|19600101/);
    // Sent is final.
    store.clock.advance(HOUR);
    expect(await deliverer(config).tick()).toBe(0);
    expect(posts()).toHaveLength(2);
    // The page's per-destination state.
    expect(destinationStates(config, store)).toMatchObject([{ destination: `fhir:${server.base}`, kind: 'fhir', state: 'ok', sent: 1, pending: 0, deadLetter: 0 }]);
  });

  it('server down, then a lost answer (stored, connection cut), then up: retried with the back-off, delivered exactly once', async () => {
    const config = configFor([{ url: server.base }]);
    const d = deliverer(config);
    await server.stop();
    await finishStudy(config, 'not-assessable');
    await d.tick();
    expect(fhirRows()).toMatchObject([{ state: 'pending', attempts: 1, last_error: expect.stringMatching(/^Observation: .*ECONNREFUSED/) }]);
    expect(destinationStates(config, store)).toMatchObject([{ kind: 'fhir', state: 'retrying', pending: 1 }]);
    await server.start();
    server.dropAnswers = 1; // the Observation is stored, the answer never arrives
    expect(await d.tick()).toBe(0); // not due for 10 s
    store.clock.advance(10_000);
    await d.tick();
    expect(fhirRows()).toMatchObject([{ state: 'pending', attempts: 2 }]);
    expect(await server.all('Observation')).toHaveLength(1);
    server.onRequest = () => [503, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: 'maintenance' }] }];
    store.clock.advance(20_000);
    await d.tick();
    expect(fhirRows()).toMatchObject([{ state: 'pending', attempts: 3, last_error: 'Observation: HTTP 503 Service Unavailable: error transient: maintenance' }]);
    server.onRequest = undefined;
    store.clock.advance(40_000);
    await d.tick();
    expect(fhirRows()).toMatchObject([{ state: 'sent', attempts: 4 }]);
    for (let i = 0; i < 3; i++) {
      store.clock.advance(HOUR);
      expect(await d.tick()).toBe(0);
    }
    // The retry found the Observation of the lost answer (200) instead of making a second one.
    expect(posts().filter((r) => r.status !== 503).map((r) => [r.url, r.status])).toEqual([
      ['/fhir/R4/Observation', -201],
      ['/fhir/R4/Observation', 200],
      ['/fhir/R4/DiagnosticReport', 201],
    ]);
    const observations = await server.all<any>('Observation');
    expect(observations).toHaveLength(1);
    expect(await server.all('DiagnosticReport')).toHaveLength(1);
    expect(observations[0].dataAbsentReason.text).toBe('Not assessable: no sagittal T1 series');
    const [report] = await server.all<any>('DiagnosticReport');
    expect(report.result[0].reference).toBe(`Observation/${observations[0].id}`);
    // Identical bytes each attempt: the payload file.
    const bodies = posts().filter((r) => r.url.endsWith('/Observation')).map((r) => r.body);
    expect(new Set(bodies).size).toBe(1);
    expect(destinationStates(config, store)).toMatchObject([{ kind: 'fhir', state: 'ok', sent: 1 }]);
  });

  it('a refusal is dead-lettered at once with the server’s reason: a wrong token (401), and an invalid resource (400, the validator’s issues)', async () => {
    server.token = TOKEN;
    const wrong = configFor([{ url: server.base, auth: 'bearer', token: 'not-the-token' }]);
    await finishStudy(wrong, 'no-flag');
    await deliverer(wrong).tick();
    expect(fhirRows()).toMatchObject([{ state: 'dead-letter', attempts: 1, last_error: 'Observation: HTTP 401 Unauthorized: error login: Unauthorized: missing or invalid bearer token' }]);
    store.clock.advance(100 * HOUR);
    expect(await deliverer(wrong).tick()).toBe(0);
    expect(posts()).toHaveLength(1);
    expect(destinationStates(wrong, store)).toMatchObject([{ kind: 'fhir', state: 'dead-letters', deadLetter: 1, lastError: expect.stringContaining('401') }]);

    // The right token, and a payload the server finds invalid (the Observation's status is not an R4 code).
    const right = configFor([{ url: server.base, auth: 'bearer', token: TOKEN }]);
    const other = `${STUDY}.2`;
    await finishStudy(right, 'flagged', other);
    const row = fhirRows().find((r) => r.study_uid === other)!;
    writeFileSync(row.path, readFileSync(row.path, 'utf8').replace('"status":"preliminary"', '"status":"unverified"'));
    await deliverer(right).tick();
    const refused = fhirRows().find((r) => r.study_uid === other)!;
    expect(refused).toMatchObject({ state: 'dead-letter', attempts: 1 });
    expect(refused.last_error).toMatch(/^Observation: HTTP 400 Bad Request: error invalid: JSON schema: \/status must be equal to one of the allowed values/);
    expect(await server.all('Observation')).toHaveLength(0);
  });

  it('the server’s text is recorded without the patient identifier and accession number', async () => {
    server.onRequest = () => [422, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'business-rule', diagnostics: `no patient with identifier ${PATIENT.PatientID} for order ${PATIENT.AccessionNumber}` }] }];
    const config = configFor([{ url: server.base }]);
    await finishStudy(config, 'flagged');
    await deliverer(config).tick();
    expect(fhirRows()).toMatchObject([{ state: 'dead-letter', last_error: 'Observation: HTTP 422 Unprocessable Entity: error business-rule: no patient with identifier [patient identifier] for order [accession number]' }]);
    expect(logLines.join('\n')).toContain('[patient identifier]');
  });

  it('a study without a usable patient identity: the row is dead-lettered at its first attempt with the reason, the server not contacted', async () => {
    const config = configFor([{ url: server.base }]);
    await finishStudy(config, 'flagged', `${STUDY}.3`, { ...PATIENT, IssuerOfPatientID: 'HOSP' });
    await finishStudy(config, 'flagged', `${STUDY}.4`, { ...PATIENT, AccessionNumber: '' });
    expect(fhirRows()).toHaveLength(2);
    await deliverer(config).tick();
    expect(fhirRows().map((r) => [r.state, r.attempts, r.last_error])).toEqual([
      ['dead-letter', 1, expect.stringMatching(/^not sent: no FHIR identifier system for the patient identifier: the issuer .* identity\.issuerSystems has no entry/)],
      ['dead-letter', 1, 'not sent: no accession number: AccessionNumber (0008,0050) is empty or absent in the study (config identity.accessionAttribute names it)'],
    ]);
    expect(server.requests).toHaveLength(0);
    // The site maps the issuer: the next study of that kind goes out.
    const mapped = configFor([{ url: server.base }], { issuerSystems: ['HOSP=https://hospital.example/fhir/sid/mrn'] });
    await finishStudy(mapped, 'flagged', `${STUDY}.5`, { ...PATIENT, IssuerOfPatientID: 'HOSP' });
    await deliverer(mapped).tick();
    expect((await server.all<any>('Observation'))[0].subject.identifier.system).toBe('https://hospital.example/fhir/sid/mrn');
  });

  it('a payload file that is gone, or has a resource without identifier, is dead-lettered without contacting the server', async () => {
    const config = configFor([{ url: server.base }]);
    await finishStudy(config, 'flagged', `${STUDY}.8`);
    await finishStudy(config, 'flagged', `${STUDY}.9`);
    const [gone, bad] = fhirRows();
    rmSync(gone!.path);
    writeFileSync(bad!.path, readFileSync(bad!.path, 'utf8').replace(/"identifier":\[\{"system":"urn:dicom:uid","value":"urn:oid:[0-9.]+"\}\],"basedOn"/, '"basedOn"'));
    await deliverer(config).tick();
    expect(fhirRows().map((r) => [r.state, r.last_error])).toEqual([
      ['dead-letter', `${gone!.path}: payload file is missing`],
      ['dead-letter', `${bad!.path}: unreadable FHIR payload: a resource without an identifier`],
    ]);
    expect(server.requests).toHaveLength(0);
  });

  it('onlyFlagged servers get flagged studies only; each server has its own row', async () => {
    const other = new FhirTestServer();
    await other.start();
    try {
      const config = configFor([{ url: server.base }, { url: other.base, onlyFlagged: true }]);
      await finishStudy(config, 'not-flagged', `${STUDY}.6`);
      await finishStudy(config, 'flagged', `${STUDY}.7`);
      expect(fhirRows().map((r) => r.destination)).toEqual([fhirKey({ url: server.base }), fhirKey({ url: server.base }), fhirKey({ url: other.base })]);
      await deliverer(config).tick();
      expect(fhirRows().every((r) => r.state === 'sent')).toBe(true);
      expect(await server.all('DiagnosticReport')).toHaveLength(2);
      expect((await other.all<any>('DiagnosticReport')).map((r) => r.conclusionCode[0].coding[0].code)).toEqual(['flagged']);
    } finally {
      await other.stop();
    }
  });
});

describe('FHIR config', () => {
  it('output.fhir from the env var (a JSON array or URLs), auth checked, secrets masked', () => {
    const c = loadConfig({ env: { OSTEOSCREEN_OUTPUT_FHIR: JSON.stringify([{ url: 'https://fhir.example/r4/', auth: 'basic', user: 'u', password: 'secret-pw' }, { url: 'http://b.example/fhir', auth: 'bearer', token: 'tok-1', onlyFlagged: true }]) } });
    expect(c.output.fhir).toEqual([
      { url: 'https://fhir.example/r4', auth: 'basic', user: 'u', password: 'secret-pw', onlyFlagged: false, timeoutSeconds: 30 },
      { url: 'http://b.example/fhir', auth: 'bearer', token: 'tok-1', onlyFlagged: true, timeoutSeconds: 30 },
    ]);
    expect(loadConfig({ env: { OSTEOSCREEN_OUTPUT_FHIR: 'http://a.example/fhir,http://b.example/fhir' } }).output.fhir.map((f) => f.url)).toEqual(['http://a.example/fhir', 'http://b.example/fhir']);
    expect(JSON.stringify(maskedConfig(c))).not.toMatch(/secret-pw|tok-1/);
    expect(() => loadConfig({ env: { OSTEOSCREEN_OUTPUT_FHIR: JSON.stringify([{ url: 'http://a.example/fhir', auth: 'bearer' }]) } })).toThrow(/OSTEOSCREEN_OUTPUT_FHIR \(output\.fhir\.0\.token\): auth bearer needs a token/);
    expect(() => loadConfig({ env: {}, overrides: { output: { fhir: [{ url: 'http://a.example/fhir', caFile: '/nonexistent/ca.pem' }] } } })).toThrow(/output\.fhir\.0\.caFile: file not found/);
  });
});
