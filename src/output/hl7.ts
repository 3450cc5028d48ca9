/**
 * HL7 v2.5.1 ORU^R01 result messages over MLLP, for sites whose EHR only takes v2 (README, HL7 v2).
 *
 * When a study finishes, one message per receiver is written to a file next to the job's reports
 * (`hl7-<key hash>.hl7`, UTF-8, segments ended by CR) and one outbox row per receiver points to it, its MSH-10
 * message control id in the SOP UID column: every retry sends identical bytes with the same MSH-10, so a receiver
 * that got a message whose ACK was lost can drop the repeat.
 *
 *   MSH  ^~\& sending/receiving application and facility from the config, MSH-7 the time the message was made,
 *        ORU^R01^ORU_R01, MSH-10 control id (20 characters, the same for every retry), MSH-11 processing id,
 *        2.5.1, MSH-18 UNICODE UTF-8 (original acknowledgment mode: MSH-15/16 empty)
 *   PID  PID-3 id^^^issuer^MR (config identity); no name, birth date or other demographics
 *   OBR  OBR-3 filler order number = accession number, OBR-4 24531-6^MR Lumbar spine WO contrast^LN, OBR-7 the
 *        study date/time, OBR-22 the time of the result, OBR-24 RAD, OBR-25 P (preliminary)
 *   OBX  (OBX-11 P) NM radscore and cut-off (scored), CWE finding (OBX-8 A / N with a flag), ST reasons
 *        (not assessable, no flag), ST model name / version / hash, CWE calibration state, CWE verification
 *        status UNVERIFIED — screening support, TX report text (one OBX per line, the SR's statements)
 * Codes: LOINC (LN), DICOM (DCM), UCUM and the local system 99OSTEO, the same as the SR's (report/codes.ts).
 *
 * ACK (MSA-1): AA / CA delivered. AE / AR / CE / CR retried with the outbox back-off and dead-lettered when
 * output.maxAgeHours runs out, with the receiver's reason (MSA-3, ERR-8 / ERR-7 / ERR-3) as the error. No answer, a
 * malformed answer, or an ACK for another control id: retried. A study without patient identity is not sent.
 * Neither the message nor the receiver's texts reach a log with the patient identifier: it is masked in errors.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config, Hl7Destination } from '../config/schema.js';
import type { SendResult } from '../dicom/scu.js';
import type { Store } from '../store/index.js';
import type { JobResult } from '../store/job-result.js';
import { CODES, type Code } from '../report/codes.js';
import { findingCode, noFlagReasons, reportStatements, type ReportTextInput } from '../report/header.js';
import { scoreVsCutoff } from '../report/numbers.js';
import { errorMessage } from '../common/errors.js';
import { undeliverablePayload, undeliverableReason, type IdentityResult, type StudyIdentity } from './identity.js';
import { readCaFile, readPayloadFile } from './http-post.js';
import { reportTextOf } from './report-text.js';
import { webhookResult } from './webhook.js';
import { MllpClient } from './mllp.js';

/** The outbox's key for an HL7 v2 receiver: "hl7:<host>:<port>". */
export function hl7Key(d: Pick<Hl7Destination, 'host' | 'port'>): string {
  return `hl7:${d.host}:${d.port}`;
}

const ESCAPES: Record<string, string> = { '\\': '\\E\\', '|': '\\F\\', '^': '\\S\\', '&': '\\T\\', '~': '\\R\\' };

/** Text as an HL7 v2 value: the delimiters escaped (\E\ \F\ \S\ \T\ \R\), line breaks and control characters as spaces. */
export function escapeHl7(s: string): string {
  return s.replace(/[\\|^&~]/g, (ch) => ESCAPES[ch]!).replace(/[\x00-\x1f\x7f]+/g, ' ');
}

/** An HL7 value back to text: \F\ \S\ \T\ \R\ \E\ and \.br\ (a space); other escape sequences are dropped. */
export function unescapeHl7(s: string, esc = '\\'): string {
  if (!s.includes(esc)) return s;
  const map: Record<string, string> = { F: '|', S: '^', T: '&', R: '~', E: esc, '.br': ' ' };
  const e = esc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return s.replace(new RegExp(`${e}([^${e}]*)${e}`, 'g'), (_, k: string) => map[k] ?? '');
}

/** HL7 DTM of a time, in UTC: YYYYMMDDHHMMSS+0000. */
export function hl7Timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, '').replace(/\D/g, '') + '+0000';
}

/** The study's DICOM date and time as an HL7 DTM (the modality's local time: no zone); null without a valid date. */
function studyDateTime(date: string | null | undefined, time: string | null | undefined): string | null {
  if (!date || !/^\d{8}$/.test(date.trim())) return null;
  const t = /^\d{2,6}/.exec((time ?? '').trim())?.[0] ?? '';
  return date.trim() + (t.length % 2 ? t.slice(0, -1) : t);
}

/** The MSH-10 control id of a study's result: 20 characters, the same for every retry of the job's message. */
export function hl7ControlId(studyUid: string, jobId: number): string {
  return 'OS' + createHash('sha256').update(`osteoscreen-hl7\0${studyUid}\0${jobId}`).digest('hex').slice(0, 18).toUpperCase();
}

const components = (...parts: string[]) => parts.join('^').replace(/\^+$/, '');
const coded = (c: Code) => components(escapeHl7(c.CodeValue), escapeHl7(c.CodeMeaning), escapeHl7(c.CodingSchemeDesignator));
const segment = (name: string, fields: string[]) => [name, ...fields].join('|').replace(/\|+$/, '');

/** HD as subcomponents: an OID -> &OID&ISO, a URI -> &URI&URI, else the namespace id. */
function assigningAuthority(issuer: string): string {
  const oid = /^(?:urn:oid:)?([0-2](?:\.(?:0|[1-9]\d*))+)$/i.exec(issuer)?.[1];
  if (oid) return `&${oid}&ISO`;
  if (/^(urn:|https?:\/\/)/i.test(issuer)) return `&${escapeHl7(issuer)}&URI`;
  return escapeHl7(issuer);
}

export interface OruInput {
  dest: Pick<Hl7Destination, 'sendingApplication' | 'sendingFacility' | 'receivingApplication' | 'receivingFacility' | 'processingId'>;
  controlId: string;
  identity: Pick<StudyIdentity, 'patientId' | 'issuer' | 'accessionNumber'>;
  text: ReportTextInput;
  /** DICOM StudyDate / StudyTime (OBR-7); the result time when absent. */
  studyDate?: string | null;
  studyTime?: string | null;
  /** When the result was made (MSH-7, OBR-22). */
  createdAt: number;
}

/** The ORU^R01 message (segments ended by CR). Pure. */
export function buildOru(a: OruInput): string {
  const t = a.text;
  const r = t.result;
  const made = hl7Timestamp(a.createdAt);
  const d = a.dest;
  const msh = 'MSH|^~\\&|' + [escapeHl7(d.sendingApplication), escapeHl7(d.sendingFacility), escapeHl7(d.receivingApplication), escapeHl7(d.receivingFacility), made, '', 'ORU^R01^ORU_R01', a.controlId, d.processingId, '2.5.1', '', '', '', '', '', 'UNICODE UTF-8'].join('|');
  const pid = segment('PID', ['1', '', components(escapeHl7(a.identity.patientId), '', '', assigningAuthority(a.identity.issuer), 'MR')]);
  const obrFields = Array<string>(25).fill('');
  obrFields[0] = '1';
  obrFields[2] = escapeHl7(a.identity.accessionNumber);
  obrFields[3] = coded(CODES.mrLumbarSpine);
  obrFields[6] = studyDateTime(a.studyDate, a.studyTime) ?? made;
  obrFields[21] = made;
  obrFields[23] = 'RAD';
  obrFields[24] = 'P';
  const obr = segment('OBR', obrFields);

  const obx: string[] = [];
  const add = (type: 'NM' | 'ST' | 'CWE' | 'TX', id: Code, value: string, extra: { units?: Code; abnormal?: string; subId?: string } = {}) =>
    obx.push(segment('OBX', [String(obx.length + 1), type, coded(id), extra.subId ?? '', value, extra.units ? coded(extra.units) : '', '', extra.abnormal ?? '', '', '', 'P']));
  if (r.kind === 'scored') {
    // NM: digits only, shown as the report shows them (radscore and cut-off with the same decimals).
    const p = scoreVsCutoff(r.score, r.cutoff);
    add('NM', CODES.radscore, p.score, { units: CODES.unitNone });
    add('NM', CODES.radscoreCutoff, p.cutoff, { units: CODES.unitNone });
  }
  add('CWE', CODES.finding, coded(findingCode(t)), { abnormal: r.kind === 'scored' && r.flag !== null ? (r.flag ? 'A' : 'N') : '' });
  if (r.kind === 'not-assessable') add('ST', CODES.reasonNotAssessable, escapeHl7(r.reason));
  for (const why of noFlagReasons(t)) add('ST', CODES.reasonNoFlag, escapeHl7(why));
  add('ST', CODES.algorithmName, escapeHl7(t.model.name));
  add('ST', CODES.algorithmVersion, escapeHl7(t.model.version));
  if (t.model.hash) add('ST', CODES.modelHash, escapeHl7(t.model.hash));
  add('CWE', CODES.calibrationState, coded(t.model.calibrated === null ? CODES.calibrationNotApplicable : t.model.calibrated ? CODES.calibrated : CODES.uncalibrated));
  add('CWE', CODES.verificationStatus, coded(CODES.unverified));
  for (const st of reportStatements(t)) add('TX', CODES.radiologyNarrative, escapeHl7(st.text), { subId: '1' });
  return [msh, pid, obr, ...obx].join('\r') + '\r';
}

/**
 * Queue the study's result message for every HL7 v2 receiver that wants it: one file per receiver in `dir`, one
 * outbox row each (kind "hl7", the control id in the SOP UID column). Without the patient identity (config
 * identity) the file holds the reason and the row is dead-lettered at its first attempt. Returns the rows queued.
 */
export function queueHl7(deps: { config: Config; store: Store; identity: () => IdentityResult }, job: { id: number; study_uid: string }, view: JobResult, dir: string, algorithmVersion: string, now = Date.now()): number {
  const dests = deps.config.output.hl7.filter((d) => !d.onlyFlagged || webhookResult(view) === 'flagged');
  if (!dests.length) return 0;
  const identity = deps.identity();
  const study = deps.store.index.getStudy(job.study_uid);
  const controlId = hl7ControlId(job.study_uid, job.id);
  const text = reportTextOf(view, algorithmVersion);
  mkdirSync(dir, { recursive: true });
  for (const dest of dests) {
    const key = hl7Key(dest);
    const file = path.join(dir, `hl7-${createHash('sha256').update(key).digest('hex').slice(0, 8)}.hl7`);
    const payload = identity.ok ? buildOru({ dest, controlId, identity: identity.identity, text, studyDate: study?.study_date, studyTime: study?.study_time, createdAt: now }) : undeliverablePayload(identity.reason);
    writeFileSync(file, payload);
    deps.store.outbox.add({ studyUid: job.study_uid, jobId: job.id, kind: 'hl7', destination: key, path: file, sopUid: controlId });
  }
  return dests.length;
}

const ACK_CODES: Record<string, string> = { AA: 'accepted', CA: 'accepted', AE: 'application error', AR: 'application reject', CE: 'commit error', CR: 'commit reject' };

/** A receiver's text as one printable line (it goes into logs and onto the page). */
const oneLine = (s: string) => s.replace(/[\s\x00-\x1f\x7f]+/g, ' ').trim();

export type AckReading = { code: string; controlId: string; text: string } | { malformed: string };

/** Read an ACK: MSA-1, MSA-2 and the receiver's reason (MSA-3 and each ERR's ERR-8, ERR-7 or ERR-3 / ERR-1 text). */
export function readAck(answer: string): AckReading {
  const segs = answer.split(/\r\n|\r|\n/).filter((s) => s.length);
  const msh = segs[0] ?? '';
  if (!/^MSH[^A-Za-z0-9\s]/.test(msh) || msh.length < 8) return { malformed: 'the answer does not start with an MSH segment' };
  const fs = msh[3]!;
  const enc = msh.split(fs)[1] ?? '';
  const [comp = '^', , esc = '\\', sub = '&'] = enc;
  const msa = segs.find((s) => s.startsWith(`MSA${fs}`))?.split(fs);
  if (!msa) return { malformed: 'the answer has no MSA segment' };
  const code = (msa[1] ?? '').trim();
  if (!ACK_CODES[code]) return { malformed: `MSA-1 is "${oneLine(code).slice(0, 10)}", not an acknowledgment code` };
  const texts = [msa[3] ?? ''];
  for (const s of segs.filter((x) => x.startsWith(`ERR${fs}`))) {
    const e = s.split(fs);
    const hl7Code = (e[3] ?? '').split(comp);
    const legacy = ((e[1] ?? '').split(comp)[3] ?? '').split(sub);
    texts.push([e[8], e[7], hl7Code[1], hl7Code[0], legacy[1], legacy[0]].find((x) => x && x.trim()) ?? '');
  }
  const text = [...new Set(texts.map((x) => oneLine(unescapeHl7(x, esc))).filter(Boolean))].join('; ');
  return { code, controlId: oneLine(msa[2] ?? ''), text };
}

/** What an answer to the message `controlId` means for the outbox (see the header: AE/AR are retried). */
export function interpretAck(answer: string, controlId: string): Omit<SendResult, 'file'> {
  const a = readAck(answer);
  if ('malformed' in a) return { ok: false, error: `malformed ACK: ${a.malformed}`, retryable: true };
  const other = a.controlId !== controlId ? ` (the ACK names message ${a.controlId.slice(0, 30) || '(none)'}, not ${controlId})` : '';
  if (a.code === 'AA' || a.code === 'CA') {
    return other ? { ok: false, error: `ACK ${a.code} for another message${other}`, retryable: true } : { ok: true };
  }
  return { ok: false, error: `HL7 ${a.code} (${ACK_CODES[a.code]}): ${a.text.slice(0, 300) || 'no reason given'}${other}`, retryable: true };
}

/** PID-3.1 of one of our messages (to keep it out of error texts). */
function patientIdOf(message: string): string | null {
  const pid = message.split('\r').find((s) => s.startsWith('PID|'));
  const id = pid?.split('|')[3]?.split('^')[0];
  return id ? unescapeHl7(id) : null;
}

/** A receiver's text without the patient identifier (it may quote it; errors reach logs and the page). */
function masked(text: string, patientId: string | null): string {
  return patientId ? text.split(patientId).join('<patient id>') : text;
}

/**
 * Send each row's message on one MLLP connection (reopened when the receiver closes it after an answer); after a
 * failure to connect or to answer, the rest are not tried in this pass. One result per row, in order. Never rejects.
 */
export async function sendHl7(d: Hl7Destination, items: { path: string; sopUid: string }[]): Promise<SendResult[]> {
  const where = `MLLP ${d.host}:${d.port}`;
  const { ca, error } = readCaFile(d.tls ? d.caFile : undefined);
  if (error) return items.map((it) => ({ file: it.path, ok: false, error, retryable: true }));
  const client = new MllpClient({ host: d.host, port: d.port, tls: d.tls, ca, timeoutMs: d.timeoutSeconds * 1000 });
  const out: SendResult[] = [];
  let unreachable: string | null = null;
  try {
    for (const it of items) {
      const payload = readPayloadFile(it.path);
      if ('error' in payload) {
        out.push({ file: it.path, ok: false, error: payload.error, retryable: false });
        continue;
      }
      const message = payload.bytes.toString('utf8');
      const why = undeliverableReason(message);
      if (why) {
        out.push({ file: it.path, ok: false, error: why, retryable: false });
        continue;
      }
      if (unreachable) {
        out.push({ file: it.path, ok: false, error: unreachable, retryable: true });
        continue;
      }
      const patientId = patientIdOf(message);
      try {
        if (!client.connected) await client.connect();
      } catch (e) {
        unreachable = errorMessage(e);
        out.push({ file: it.path, ok: false, error: unreachable, retryable: true });
        continue;
      }
      try {
        const r = interpretAck(await client.exchange(message), it.sopUid);
        out.push({ file: it.path, ...r, ...(r.error ? { error: masked(r.error, patientId) } : {}) });
      } catch (e) {
        // No answer (timeout, close, overflow): the rest wait for the next pass instead of each waiting out the limit.
        unreachable = `${where}: ${errorMessage(e)}`;
        out.push({ file: it.path, ok: false, error: unreachable, retryable: true });
      }
    }
  } finally {
    client.close();
  }
  return out;
}
