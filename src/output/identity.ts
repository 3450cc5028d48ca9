/**
 * Patient identity for outputs other than DICOM (FHIR, HL7 v2): which DICOM attributes feed the patient
 * identifier, its assigning authority (issuer) and the accession number is the site's choice (config section
 * `identity`). A missing identifier is never guessed: the output is not sent, and its outbox row is
 * dead-lettered with a reason that names the attribute and the config key.
 *
 * The values are read from one stored instance of the study (its patient and study modules are the same in all
 * of them), when the study's outputs are queued, and written into that output's payload file; they never reach
 * a log line.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { parseDicom } from '../dicom/header.js';
import { tagOfKeyword } from '../dicom/keywords.js';
import { personName } from '../dicom/tags.js';
import { errorMessage } from '../common/errors.js';

export type IdentityConfig = Config['identity'];

export interface StudyIdentity {
  /** The patient identifier (PatientID, or the attribute the config names). */
  patientId: string;
  /** Who assigned it (IssuerOfPatientID, else identity.defaultIssuer): HL7 PID-3.4 assigning authority. */
  issuer: string;
  /** FHIR Identifier.system of the patient identifier (from the issuer: see fhirSystemOf). */
  patientSystem: string | null;
  /** Why patientSystem is null (an issuer that is neither a URI nor an OID and has no identity.issuerSystems entry). */
  patientSystemProblem: string | null;
  accessionNumber: string;
  /** FHIR Identifier.system of the accession number (identity.accessionSystem, else the patient system). */
  accessionSystem: string | null;
}

export type IdentityResult = { ok: true; identity: StudyIdentity } | { ok: false; reason: string };

function text(v: unknown): string {
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined || x === null) return '';
  if (typeof x === 'object') return personName(x).trim();
  return String(x).trim();
}

const OID = /^[0-2](\.(0|[1-9]\d*))+$/;
const URI = /^(urn:[a-z0-9][a-z0-9-]{0,31}:\S+|https?:\/\/\S+)$/i;

/** The FHIR Identifier.system of an issuer: its identity.issuerSystems entry; else the issuer if a URI; "urn:oid:<OID>" if an OID. */
export function fhirSystemOf(issuer: string, cfg: IdentityConfig): { system: string } | { problem: string } {
  for (const item of cfg.issuerSystems) {
    const eq = item.indexOf('=');
    if (item.slice(0, eq).trim() === issuer) return { system: item.slice(eq + 1).trim() };
  }
  if (URI.test(issuer)) return { system: issuer };
  if (OID.test(issuer)) return { system: `urn:oid:${issuer}` };
  return { problem: `the issuer of the patient identifier is not a URI or an OID and identity.issuerSystems has no entry for it (add ISSUER=system-URI)` };
}

/** The identity of a study from one naturalized dataset. Pure. */
export function identityOfDataset(ds: Record<string, unknown>, cfg: IdentityConfig): IdentityResult {
  const missing = (attr: string, key: string) => `${attr} ${tagOfKeyword(attr)} is empty or absent in the study (config identity.${key} names it)`;
  const patientId = text(ds[cfg.patientIdAttribute]);
  if (!patientId) return { ok: false, reason: `no patient identifier: ${missing(cfg.patientIdAttribute, 'patientIdAttribute')}` };
  const issuer = (cfg.issuerAttribute ? text(ds[cfg.issuerAttribute]) : '') || cfg.defaultIssuer.trim();
  if (!issuer) {
    const where = cfg.issuerAttribute ? `${missing(cfg.issuerAttribute, 'issuerAttribute')} and identity.defaultIssuer is empty` : 'identity.issuerAttribute and identity.defaultIssuer are empty';
    return { ok: false, reason: `no assigning authority for the patient identifier: ${where}` };
  }
  const accessionNumber = text(ds[cfg.accessionAttribute]);
  if (!accessionNumber) return { ok: false, reason: `no accession number: ${missing(cfg.accessionAttribute, 'accessionAttribute')}` };
  const sys = fhirSystemOf(issuer, cfg);
  const patientSystem = 'system' in sys ? sys.system : null;
  return {
    ok: true,
    identity: {
      patientId,
      issuer,
      patientSystem,
      patientSystemProblem: 'problem' in sys ? sys.problem : null,
      accessionNumber,
      accessionSystem: cfg.accessionSystem.trim() || patientSystem,
    },
  };
}

/** The identity of a stored study, read from the first of its instances whose file is still kept. */
export function studyIdentity(store: Store, studyUid: string, cfg: IdentityConfig): IdentityResult {
  for (const series of store.index.listSeries({ studyUid })) {
    for (const inst of store.index.instancesOfSeries(series.series_uid)) {
      if (inst.files_deleted) continue;
      try {
        return identityOfDataset(parseDicom(readFileSync(inst.path)).dataset, cfg);
      } catch (e) {
        return { ok: false, reason: `the study's identifiers could not be read: ${errorMessage(e)}` };
      }
    }
  }
  return { ok: false, reason: "the study's identifiers could not be read: no stored instance file is left" };
}

/**
 * A study whose identity is missing still gets its outbox row, so the page shows the destination's dead-letter
 * with the reason (and a fixed study can be re-run). The row's payload file then holds only the reason:
 * {"undeliverable": "<reason>"}; the sender dead-letters such a row at its first attempt, without contacting the
 * receiver.
 */
export function undeliverablePayload(reason: string): string {
  return JSON.stringify({ undeliverable: reason });
}

/** The reason in an undeliverable payload (see undeliverablePayload), or null for a real payload. */
export function undeliverableReason(payload: Buffer | string): string | null {
  const s = typeof payload === 'string' ? payload : payload.toString('utf8', 0, Math.min(payload.length, 64 * 1024));
  if (!s.startsWith('{"undeliverable":')) return null;
  try {
    const v = JSON.parse(s) as { undeliverable?: unknown };
    return typeof v.undeliverable === 'string' ? v.undeliverable : null;
  } catch {
    return null;
  }
}
