/**
 * DXA results in as HL7 v2 ORU^R01 (pure: parsing, checking, the ACK). Our own small parser (no runtime dependency):
 * segments split on CR (LF tolerated), delimiters from MSH-1/MSH-2, escapes undone with the output's unescapeHl7.
 *
 * What is read:
 *   PID-3  patient identifier (the repetition with type MR, else the first) and its assigning authority (CX.4: HD
 *          namespace, else universal id); PID-7 birth date (age at the DXA), PID-8 sex (F/M)
 *   OBX    OBX-3 LOINC (coding system LN) 38267-1 "DXA Lumbar spine [T-score] Bone density" and
 *          85394-5 "DXA Lumbar spine [Z-score] Bone density"; OBX-5 the value (NM, or SN "^-1.2"); of several (per
 *          vertebra, OBX-4 sub-id or OBX-20 body site naming the site) the lowest; OBX-11 X / D / W results skipped
 *   date   OBX-14 of the score, else OBR-7 (observation date/time)
 * Answer (original acknowledgment mode, HL7 v2.5.1 chapter 2): AA stored; AE the content is wrong (no patient
 * identifier, no T-/Z-score, bad value or date), nothing stored; AR the message is refused as such (not an HL7
 * message, not ORU^R01, an unsupported version or processing id, a sending application not allowed, too large),
 * nothing stored. AE/AR carry an ERR segment (ERR-3 HL7 table 0357 code, ERR-4 E, ERR-8 the reason).
 */
import { unescapeHl7, escapeHl7, hl7Timestamp } from '../output/hl7.js';
import { isoDate } from './record.js';
import type { Outcome } from '../store/index.js';

export const LOINC_LUMBAR_T_SCORE = '38267-1';
export const LOINC_LUMBAR_Z_SCORE = '85394-5';

export interface Hl7Parsed {
  segments: string[][];
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export class Hl7Refusal extends Error {
  constructor(
    readonly code: 'AE' | 'AR',
    /** HL7 table 0357 message error condition code. */
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Segments as field arrays; for MSH, fields[1] is the field separator so that fields[n] = MSH-n. */
export function parseHl7(text: string): Hl7Parsed {
  const t = text.replace(/^\s+/, '');
  if (!t.startsWith('MSH') || t.length < 8) throw new Hl7Refusal('AR', '100', 'not an HL7 v2 message: it does not start with an MSH segment');
  const field = t[3]!;
  const enc = t.slice(4, 8);
  if (/[A-Za-z0-9\r\n]/.test(field) || enc.length < 4 || new Set([field, ...enc]).size !== 5) throw new Hl7Refusal('AR', '100', 'MSH-1/MSH-2 do not hold valid delimiters');
  const segments = t
    .split(/\r\n|\r|\n/)
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const f = s.split(field);
      return f[0] === 'MSH' ? ['MSH', field, ...f.slice(1)] : f;
    });
  return { segments, field, component: enc[0]!, repetition: enc[1]!, escape: enc[2]!, subcomponent: enc[3]! };
}

/** A field's value: repetition r, component c (1-based), subcomponent s (1-based), unescaped. */
function get(p: Hl7Parsed, seg: string[] | undefined, n: number, c = 1, s = 1, r = 0): string {
  const f = seg?.[n];
  if (!f) return '';
  const rep = f.split(p.repetition)[r] ?? '';
  const comp = rep.split(p.component)[c - 1] ?? '';
  const sub = comp.split(p.subcomponent)[s - 1] ?? '';
  return unescapeHl7(sub, p.escape).trim();
}

export interface MshInfo {
  sendingApplication: string;
  sendingFacility: string;
  controlId: string;
  messageType: string;
  version: string;
  processingId: string;
}

export function mshOf(p: Hl7Parsed): MshInfo {
  const msh = p.segments[0];
  return {
    sendingApplication: get(p, msh, 3),
    sendingFacility: get(p, msh, 4),
    controlId: get(p, msh, 10),
    messageType: `${get(p, msh, 9, 1)}^${get(p, msh, 9, 2)}`,
    version: get(p, msh, 12),
    processingId: get(p, msh, 11),
  };
}

function hl7Date(v: string): string | null {
  const m = /^(\d{8})/.exec(v);
  return m ? isoDate(m[1]!) : null;
}

function ageAt(birth: string, at: string): number | null {
  const b = new Date(`${birth}T00:00:00Z`);
  const a = new Date(`${at}T00:00:00Z`);
  let age = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) age--;
  return age >= 0 && age <= 130 ? age : null;
}

function numericValue(p: Hl7Parsed, obx: string[]): number | null {
  const type = get(p, obx, 2);
  const raw = type === 'SN' ? `${get(p, obx, 5, 1) === '-' ? '-' : ''}${get(p, obx, 5, 2)}` : get(p, obx, 5);
  if (type === 'SN' && get(p, obx, 5, 1) && !['', '=', '-'].includes(get(p, obx, 5, 1))) return null; // "<-2.5" is not a value
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(raw)) return null;
  return Number(raw);
}

export interface OruOptions {
  allowedSendingApplications: string[];
  defaultIssuer: string;
}

/** The outcome of an ORU^R01 message, or a refusal (thrown Hl7Refusal). */
export function outcomeOfOru(p: Hl7Parsed, opts: OruOptions): Outcome {
  const msh = mshOf(p);
  if (msh.messageType !== 'ORU^R01') throw new Hl7Refusal('AR', '200', `unsupported message type ${msh.messageType || '(empty)'}: only ORU^R01 is accepted`);
  if (!/^2\.\d/.test(msh.version)) throw new Hl7Refusal('AR', '203', `unsupported HL7 version ${msh.version || '(empty)'}: 2.x expected`);
  if (msh.processingId !== 'P') throw new Hl7Refusal('AR', '202', `processing id ${msh.processingId || '(empty)'} is not accepted: only production (P) results are stored`);
  if (!msh.controlId) throw new Hl7Refusal('AR', '101', 'MSH-10 message control id is empty');
  if (opts.allowedSendingApplications.length && !opts.allowedSendingApplications.includes(msh.sendingApplication)) {
    throw new Hl7Refusal('AR', '207', `sending application ${msh.sendingApplication || '(empty)'} is not allowed (outcomes.hl7AllowedSendingApplications)`);
  }
  const pid = p.segments.find((s) => s[0] === 'PID');
  if (!pid) throw new Hl7Refusal('AE', '100', 'no PID segment');
  const reps = (pid[3] ?? '').split(p.repetition).length;
  let r = 0;
  for (let k = 0; k < reps; k++) if (get(p, pid, 3, 5, 1, k) === 'MR') (r = k), (k = reps);
  const patientId = get(p, pid, 3, 1, 1, r);
  if (!patientId) throw new Hl7Refusal('AE', '101', 'PID-3 patient identifier is empty');
  const issuer = get(p, pid, 3, 4, 1, r) || get(p, pid, 3, 4, 2, r) || opts.defaultIssuer.trim();
  if (!issuer) throw new Hl7Refusal('AE', '101', 'PID-3.4 assigning authority is empty and identity.defaultIssuer is not set');
  const sexRaw = get(p, pid, 8).toUpperCase();
  const sex = sexRaw === 'F' ? 'F' : sexRaw === 'M' ? 'M' : null;
  const birth = hl7Date(get(p, pid, 7));
  const obr = p.segments.find((s) => s[0] === 'OBR');
  const scores: { kind: 't' | 'z'; value: number; site: string | null; date: string | null }[] = [];
  for (const obx of p.segments.filter((s) => s[0] === 'OBX')) {
    const code = get(p, obx, 3, 1);
    const system = get(p, obx, 3, 3);
    const kind = code === LOINC_LUMBAR_T_SCORE ? 't' : code === LOINC_LUMBAR_Z_SCORE ? 'z' : null;
    if (!kind || (system && system !== 'LN')) continue;
    const status = get(p, obx, 11);
    if (['X', 'D', 'W'].includes(status)) continue;
    const value = numericValue(p, obx);
    if (value === null || value < -10 || value > 10) throw new Hl7Refusal('AE', '102', `OBX ${get(p, obx, 1) || '?'} (${code}): value ${JSON.stringify(get(p, obx, 5).slice(0, 20))} is not a score between -10 and 10`);
    const site = (get(p, obx, 20, 2) || get(p, obx, 20, 1) || get(p, obx, 4)).slice(0, 32) || null;
    scores.push({ kind, value, site, date: hl7Date(get(p, obx, 14)) });
  }
  if (!scores.length) throw new Hl7Refusal('AE', '101', `no OBX with LOINC ${LOINC_LUMBAR_T_SCORE} (lumbar T-score) or ${LOINC_LUMBAR_Z_SCORE} (lumbar Z-score)`);
  const dxaDate = scores.find((s) => s.date)?.date ?? hl7Date(get(p, obr, 7));
  if (!dxaDate) throw new Hl7Refusal('AE', '101', 'no DXA date: OBX-14 and OBR-7 are empty or not dates');
  const lowest = (kind: 't' | 'z') => scores.filter((s) => s.kind === kind).reduce<(typeof scores)[number] | null>((a, b) => (a === null || b.value < a.value ? b : a), null);
  const t = lowest('t');
  const z = lowest('z');
  return {
    patientId: patientId.slice(0, 64),
    issuer,
    dxaDate,
    tScore: t?.value ?? null,
    zScore: z?.value ?? null,
    tSite: t?.site ?? null,
    zSite: z?.site ?? null,
    age: birth ? ageAt(birth, dxaDate) : null,
    sex,
    source: 'hl7',
    sourceRef: `hl7:${msh.controlId.slice(0, 40)}`,
  };
}

/** The ACK of a message (v2.5.1, ACK^R01^ACK); `msh` may be partial or null when the message could not be parsed. */
export function buildAck(msh: Partial<MshInfo> | null, code: 'AA' | 'AE' | 'AR', text: string, errorCode: string | null, now = Date.now()): string {
  const ctl = 'OSA' + now.toString(36).toUpperCase() + Math.floor(Math.random() * 1e6).toString(36).toUpperCase();
  const segs = [
    ['MSH', '^~\\&', 'OSTEOSCREEN', 'OSTEOSCREEN', escapeHl7(msh?.sendingApplication ?? ''), escapeHl7(msh?.sendingFacility ?? ''), hl7Timestamp(now), '', 'ACK^R01^ACK', ctl, 'P', '2.5.1'].join('|'),
    ['MSA', code, escapeHl7(msh?.controlId ?? ''), escapeHl7(text.slice(0, 80))].join('|'),
  ];
  if (code !== 'AA') segs.push(['ERR', '', '', `${errorCode ?? '207'}^${escapeHl7(ERROR_TEXT[errorCode ?? '207'] ?? 'Application internal error')}^HL70357`, 'E', '', '', '', escapeHl7(text.slice(0, 250))].join('|'));
  return segs.join('\r') + '\r';
}

const ERROR_TEXT: Record<string, string> = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '200': 'Unsupported message type',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '207': 'Application internal error',
};
