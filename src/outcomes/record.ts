/**
 * One DXA outcome, checked the same way whichever way it came in (CSV, API, HL7 v2): the patient identifier and its
 * issuer (the identity section's defaultIssuer when none is given), the DXA date, the lowest L1–L4 T-score and the
 * Z-score (at least one of them), the site of each when known, age and sex when given. A bad value is refused with a
 * reason that names the field and the value, never the patient identifier.
 */
import { parseCsv } from '../common/csv.js';
import type { Outcome } from '../store/index.js';

/** The CSV columns that must be present (values may be empty where the README says so). */
export const REQUIRED_COLUMNS = ['patient_id', 'issuer', 'dxa_date', 't_score', 'z_score', 'age', 'sex'] as const;
export const OPTIONAL_COLUMNS = ['t_site', 'z_site'] as const;

export type RawOutcome = Partial<Record<(typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number], unknown>>;
export type Checked = { ok: true; outcome: Outcome } | { ok: false; error: string };

const show = (v: unknown) => JSON.stringify(String(v).slice(0, 40));

/** A YYYY-MM-DD calendar date (also accepts YYYYMMDD), as YYYY-MM-DD; null if not one. */
export function isoDate(v: string): string | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v.trim());
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  if (d.getUTCFullYear() !== +m[1]! || d.getUTCMonth() !== +m[2]! - 1 || d.getUTCDate() !== +m[3]!) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v).trim();
}

function num(v: unknown, name: string, lo: number, hi: number): { value: number | null } | { error: string } {
  const s = text(v);
  if (s === '' || s.toUpperCase() === 'NA') return { value: null };
  const x = typeof v === 'number' ? v : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s.replace(/^\u2212/, '-')) ? Number(s.replace(/^\u2212/, '-')) : NaN;
  if (!Number.isFinite(x)) return { error: `${name} ${show(v)} is not a number` };
  if (x < lo || x > hi) return { error: `${name} ${x} is outside ${lo}..${hi}` };
  return { value: x };
}

export function parseSex(v: unknown): 'F' | 'M' | null | undefined {
  const s = text(v).toUpperCase();
  if (s === '') return null;
  if (s === 'F' || s === 'FEMALE' || s === 'W') return 'F';
  if (s === 'M' || s === 'MALE') return 'M';
  return undefined;
}

/** Check one outcome. `defaultIssuer`: config identity.defaultIssuer. */
export function checkOutcome(r: RawOutcome, defaultIssuer: string, source: Outcome['source'], sourceRef: string | null): Checked {
  const patientId = text(r.patient_id);
  if (!patientId) return { ok: false, error: 'patient_id is empty' };
  if (patientId.length > 64) return { ok: false, error: `patient_id is longer than 64 characters` };
  const issuer = text(r.issuer) || defaultIssuer.trim();
  if (!issuer) return { ok: false, error: 'issuer is empty and identity.defaultIssuer is not set' };
  const dxaDate = isoDate(text(r.dxa_date));
  if (!dxaDate) return { ok: false, error: `dxa_date ${show(r.dxa_date ?? '')} is not a date (YYYY-MM-DD)` };
  const t = num(r.t_score, 't_score', -10, 10);
  if ('error' in t) return { ok: false, error: t.error };
  const z = num(r.z_score, 'z_score', -10, 10);
  if ('error' in z) return { ok: false, error: z.error };
  if (t.value === null && z.value === null) return { ok: false, error: 'neither t_score nor z_score is given' };
  const age = num(r.age, 'age', 0, 130);
  if ('error' in age) return { ok: false, error: age.error };
  const sex = parseSex(r.sex);
  if (sex === undefined) return { ok: false, error: `sex ${show(r.sex)} is not F or M` };
  const site = (v: unknown) => text(v).slice(0, 32) || null;
  return {
    ok: true,
    outcome: { patientId, issuer, dxaDate, tScore: t.value, zScore: z.value, tSite: site(r.t_site), zSite: site(r.z_site), age: age.value, sex, source, sourceRef },
  };
}

export interface CsvRow {
  line: number;
  values: RawOutcome;
}

/** The header of an outcomes CSV: column names, or throws when a required column is missing. */
export function outcomeCsvHeader(firstLine: string): { header: string[]; ignoredColumns: string[] } {
  const header = (parseCsv(firstLine.replace(/^\ufeff/, ''))[0] ?? []).map((h) => h.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length) throw new Error(`the CSV header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (needs ${REQUIRED_COLUMNS.join(', ')})`);
  const known = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);
  return { header, ignoredColumns: header.filter((h) => !known.has(h)) };
}

const KNOWN = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

/** One data line of an outcomes CSV (one record per line: a quoted field may not hold a line break); null for a blank line. */
export function outcomeCsvLine(header: string[], line: string): { values: RawOutcome } | { error: string } | null {
  if (!line.trim()) return null;
  const cells = parseCsv(line)[0] ?? [];
  if (cells.length !== header.length) return { error: `${cells.length} fields, the header has ${header.length}` };
  const values: Record<string, string> = {};
  header.forEach((h, k) => {
    if (KNOWN.has(h)) values[h] = cells[k]!;
  });
  return { values };
}
