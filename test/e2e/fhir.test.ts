/**
 * Scanner -> OsteoScreen -> FHIR R4 servers, with real processes: a phantom study is sent with storescu to the
 * service (dist/cli.js), which analyses it and POSTs an Observation and a DiagnosticReport to three real FHIR
 * servers started here (test/helpers/fhir-server.ts: Medplum's FHIR router, validating every resource against the
 * official R4 definitions, conditional create): one that is up, one that refuses our token, and one that is down
 * until the service has tried it once. The page's per-destination state says which is which; no patient
 * identifier reaches the service's log.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, type RunningService } from '../helpers/service.js';
import { have, storescu } from '../helpers/dcmtk.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { FhirTestServer, r4Errors } from '../helpers/fhir-server.js';
import { skipWithout } from '../helpers/tools.js';
import { writePhantomStudies } from '../../src/phantom/index.js';
import { filesUnder } from '../acceptance/harness.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'osteo-e2e-fhir-'));
const ISSUER = '1.2.826.0.1.3680043.8.498.1';

describe.skipIf(skipWithout(have('storescu'), 'storescu', 'Debian package dcmtk'))('end to end: phantom study -> OsteoScreen -> FHIR R4 servers', () => {
  let svc: RunningService;
  let up: FhirTestServer;
  let refusing: FhirTestServer;
  let late: FhirTestServer;

  beforeAll(async () => {
    up = new FhirTestServer();
    refusing = new FhirTestServer();
    refusing.token = 'the-right-token';
    late = new FhirTestServer(await freePort()); // down until the service has tried it
    await Promise.all([up.start(), refusing.start()]);
    svc = await startService({
      env: {
        OSTEOSCREEN_OUTPUT_FHIR: JSON.stringify([{ url: up.base }, { url: refusing.base, auth: 'bearer', token: 'a-wrong-token' }, { url: late.base }]),
        OSTEOSCREEN_IDENTITY_DEFAULT_ISSUER: ISSUER,
        OSTEOSCREEN_OUTPUT_RETRY_BASE_SECONDS: '1',
      },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await Promise.all([up?.stop(), refusing?.stop(), late?.stop()]);
  });

  it('delivered to the server that is up, dead-lettered with the refusing server’s reason, delivered exactly once to the one that came up late', async () => {
    const [m] = writePhantomStudies({ out: path.join(tmp, 'ph'), seed: 9402, count: 1, bone: 'low' });
    const r = storescu(svc.dicomPort, filesUnder(path.join(tmp, 'ph', 'study-0001'), '.dcm'));
    expect(r.status, r.out).toBe(0);
    const uid = m!.studyInstanceUID;
    const state = async () => new Map((await svc.json<any[]>('/api/outbox/destinations')).map((d) => [d.destination, d]));

    // The late server is tried (connection refused), then started.
    await waitFor(async () => (await state()).get(`fhir:${late.base}`)?.lastError?.includes('ECONNREFUSED'), 'a failed attempt at the server that is down', 300_000, 500);
    await late.start();
    const st = await waitFor(async () => {
      const s = await svc.json<any>(`/api/studies/${uid}`);
      const fhir = s.outputs.filter((o: any) => o.kind === 'fhir');
      return s.state === 'done' && fhir.length === 3 && fhir.every((o: any) => o.state !== 'pending') ? s : undefined;
    }, 'FHIR outputs delivered or dead-lettered', 120_000, 500);

    const d = await state();
    expect(d.get(`fhir:${up.base}`)).toMatchObject({ kind: 'fhir', state: 'ok', sent: 1, deadLetter: 0 });
    expect(d.get(`fhir:${late.base}`)).toMatchObject({ kind: 'fhir', state: 'ok', sent: 1, deadLetter: 0 });
    expect(d.get(`fhir:${refusing.base}`)).toMatchObject({ kind: 'fhir', state: 'dead-letters', sent: 0, deadLetter: 1, lastError: 'Observation: HTTP 401 Unauthorized: error login: Unauthorized: missing or invalid bearer token' });
    expect(refusing.requests).toHaveLength(1);
    expect(await refusing.all('Observation')).toHaveLength(0);

    for (const server of [up, late]) {
      const observations = await server.all<any>('Observation');
      const reports = await server.all<any>('DiagnosticReport');
      expect(observations).toHaveLength(1);
      expect(reports).toHaveLength(1);
      const [obs, report] = [observations[0], reports[0]];
      for (const res of [obs, report]) {
        expect(r4Errors(res)).toEqual([]);
        expect(res.subject.identifier).toEqual({ system: `urn:oid:${ISSUER}`, value: m!.patientId });
        expect(res.basedOn[0].identifier.value).toBe('ACC940200001'); // the phantom's AccessionNumber (seed, index)
      }
      expect(report.imagingStudy[0].identifier).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${uid}` });
      expect(report.result[0].reference).toBe(`Observation/${obs.id}`);
      // The shipped placeholder model with model.requireCalibrated (default true): scored, no flag.
      expect(st.flag).toBeNull();
      expect(obs.valueQuantity.value).toBeCloseTo(st.score, 10);
      expect(obs.interpretation[0].coding[0].code).toBe('IND');
      expect(obs.component.find((c: any) => c.code.coding[0].code === 'calibrated').valueBoolean).toBe(false);
      // The job's own words for why there is no flag.
      expect(report.conclusion).toMatch(/^UNVERIFIED — screening support, not a diagnosis\. Radscore [-0-9.e]+ \(cut-off [-0-9.e]+\): no flag: radscore .*model\.requireCalibrated is true\)\. Model /);
      expect(obs.interpretation[0].text).toMatch(/^No flag: radscore .*model\.requireCalibrated is true\)$/);
    }
    // Exactly once at the late server: each resource POSTed once after it came up.
    expect(late.requests.map((q) => [q.method, q.url, q.status])).toEqual([
      ['POST', '/fhir/R4/Observation', 201],
      ['POST', '/fhir/R4/DiagnosticReport', 201],
    ]);

    const study = (await svc.json<any[]>('/api/studies')).find((s) => s.studyInstanceUID === uid || s.studyInstanceUid === uid);
    expect(study.patientName).toBeTruthy();
    expect(m!.patientId).toBeTruthy();
    for (const id of [study.patientName, m!.patientId, study.patientId, 'ACC940200001'].filter(Boolean)) expect(svc.logs()).not.toContain(id);
  });
});
