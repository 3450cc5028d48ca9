/** Patient identity for FHIR / HL7 outputs: which attributes feed it, and a missing one is a reason, never a guess. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { fhirSystemOf, identityOfDataset, studyIdentity } from '../../src/output/identity.js';
import { writePart10 } from '../../src/dicom/write.js';
import { memoryStore, receive } from '../helpers/memory-store.js';

const defaults = configSchema.parse({}).identity;
const DS = { PatientID: 'PID-4711', IssuerOfPatientID: '1.2.826.0.1.3680043.8.498.1', AccessionNumber: 'ACC-0815', OtherPatientIDs: 'NHS-943 476 5919' };

describe('identity', () => {
  it('reads PatientID, IssuerOfPatientID and AccessionNumber by default; an OID issuer becomes urn:oid:', () => {
    const r = identityOfDataset(DS, defaults);
    expect(r).toEqual({
      ok: true,
      identity: {
        patientId: 'PID-4711',
        issuer: '1.2.826.0.1.3680043.8.498.1',
        patientSystem: 'urn:oid:1.2.826.0.1.3680043.8.498.1',
        patientSystemProblem: null,
        accessionNumber: 'ACC-0815',
        accessionSystem: 'urn:oid:1.2.826.0.1.3680043.8.498.1',
      },
    });
  });

  it('takes the attributes the config names, maps issuers to systems, and a separate accession system', () => {
    const cfg = { ...defaults, patientIdAttribute: 'OtherPatientIDs', issuerAttribute: '' as const, defaultIssuer: 'NHS', issuerSystems: ['NHS=https://fhir.nhs.uk/Id/nhs-number'], accessionSystem: 'urn:oid:1.2.3.4.5' };
    const r = identityOfDataset(DS, cfg);
    expect(r.ok && r.identity).toMatchObject({ patientId: 'NHS-943 476 5919', issuer: 'NHS', patientSystem: 'https://fhir.nhs.uk/Id/nhs-number', accessionSystem: 'urn:oid:1.2.3.4.5' });
    expect(fhirSystemOf('http://hospital.example/mrn', defaults)).toEqual({ system: 'http://hospital.example/mrn' });
    const local = identityOfDataset({ ...DS, IssuerOfPatientID: 'HOSP' }, defaults);
    expect(local.ok && local.identity.patientSystem).toBeNull();
    expect(local.ok && local.identity.patientSystemProblem).toMatch(/identity\.issuerSystems has no entry/);
    expect(local.ok && local.identity.issuer).toBe('HOSP');
  });

  it('a missing identifier is a reason that names the attribute, its tag and the config key', () => {
    const noId = identityOfDataset({ ...DS, PatientID: '  ' }, defaults);
    expect(noId).toEqual({ ok: false, reason: 'no patient identifier: PatientID (0010,0020) is empty or absent in the study (config identity.patientIdAttribute names it)' });
    const noIssuer = identityOfDataset({ PatientID: 'X', AccessionNumber: 'A' }, defaults);
    expect(noIssuer.ok).toBe(false);
    expect(!noIssuer.ok && noIssuer.reason).toBe('no assigning authority for the patient identifier: IssuerOfPatientID (0010,0021) is empty or absent in the study (config identity.issuerAttribute names it) and identity.defaultIssuer is empty');
    expect(identityOfDataset({ PatientID: 'X', AccessionNumber: 'A' }, { ...defaults, defaultIssuer: 'HOSP' }).ok).toBe(true);
    const noAcc = identityOfDataset({ ...DS, AccessionNumber: undefined }, defaults);
    expect(!noAcc.ok && noAcc.reason).toBe('no accession number: AccessionNumber (0008,0050) is empty or absent in the study (config identity.accessionAttribute names it)');
  });

  it('the config refuses names that are not DICOM keywords, and malformed issuer mappings', () => {
    expect(() => loadConfig({ env: {}, overrides: { identity: { patientIdAttribute: 'PatientId' } } })).toThrow(/"PatientId" is not a DICOM attribute keyword/);
    expect(() => loadConfig({ env: {}, overrides: { identity: { issuerSystems: ['HOSP'] } } })).toThrow(/ISSUER=system-URI/);
    const fromEnv = loadConfig({ env: { OSTEOSCREEN_IDENTITY_ISSUER_SYSTEMS: 'HOSP=urn:oid:1.2.3,LAB=http://lab.example/id' } });
    expect(fromEnv.identity.issuerSystems).toEqual(['HOSP=urn:oid:1.2.3', 'LAB=http://lab.example/id']);
  });

  it('studyIdentity reads a stored instance file of the study; without one it says so', () => {
    const store = memoryStore();
    const dir = mkdtempSync(join(tmpdir(), 'osteo-identity-'));
    const study = '1.2.826.0.1.3680043.8.498.77';
    expect(studyIdentity(store, study, defaults)).toEqual({ ok: false, reason: "the study's identifiers could not be read: no stored instance file is left" });
    const file = writePart10({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.4', SOPInstanceUID: `${study}.1.1`, StudyInstanceUID: study, ...DS }, join(dir, 'a.dcm'));
    receive(store, study, `${study}.1`, {}, file);
    const r = studyIdentity(store, study, defaults);
    expect(r.ok && r.identity.patientId).toBe('PID-4711');
    const other = memoryStore();
    receive(other, study, `${study}.1`, {}, join(dir, 'gone.dcm'));
    const gone = studyIdentity(other, study, defaults);
    expect(!gone.ok && gone.reason).toMatch(/^the study's identifiers could not be read: /);
  });
});

describe('undeliverable payloads', () => {
  it('round-trip the reason; real payloads (FHIR JSON, HL7 text) are not mistaken for one', async () => {
    const { undeliverablePayload, undeliverableReason } = await import('../../src/output/identity.js');
    expect(undeliverableReason(Buffer.from(undeliverablePayload('no accession number: x')))).toBe('no accession number: x');
    expect(undeliverableReason('{"resourceType":"Bundle"}')).toBeNull();
    expect(undeliverableReason('MSH|^~\\&|OSTEOSCREEN')).toBeNull();
    expect(undeliverableReason('{"undeliverable":')).toBeNull();
  });
});
