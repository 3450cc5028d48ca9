import { readFileSync } from 'node:fs';
import { OsteoError } from '../common/errors.js';
import { parseCsv } from '../common/csv.js';
import { parseNumber } from './table.js';

export interface LabelRow {
  id: string;
  sex: 'F' | 'M' | null;
  age: number | null;
  tScore: number | null;
  zScore: number | null;
  /** Derived (or given) label: 1 = abnormal bone mass, 0 = normal; null = cannot be derived. */
  label: 0 | 1 | null;
  /** How the label was obtained. */
  rule: 'given' | 't-score' | 'z-score' | 'missing';
  /** Optional split column value (training / validation / external), when present. */
  split?: string;
  /** Extra columns, kept as strings. */
  extra: Record<string, string>;
}

/** The thresholds of the label rule (config outcomes.*; the research path uses the study's). */
export interface LabelRule {
  tScoreAbnormalAtOrBelow: number;
  zScoreAbnormalBelow: number;
  tScoreAgeOver: number;
}
export const STUDY_LABEL_RULE: LabelRule = { tScoreAbnormalAtOrBelow: -1, zScoreAbnormalBelow: -2, tScoreAgeOver: 50 };

/**
 * The reference study's label: women and patients older than 50 use the DXA T-score (≤ −1 → abnormal:
 * osteopenia or osteoporosis); everyone else (men ≤ 50) the Z-score (< −2 → abnormal).
 * Returns null (with the rule) when the needed score is missing.
 */
export function deriveLabel(sex: 'F' | 'M' | null, age: number | null, tScore: number | null, zScore: number | null, r: LabelRule = STUDY_LABEL_RULE): { label: 0 | 1 | null; rule: LabelRow['rule'] } {
  const useT = sex === 'F' || (age !== null && age > r.tScoreAgeOver);
  const unknownGroup = sex === null && age === null;
  if (unknownGroup) return { label: null, rule: 'missing' };
  if (useT) return tScore === null ? { label: null, rule: 'missing' } : { label: tScore <= r.tScoreAbnormalAtOrBelow ? 1 : 0, rule: 't-score' };
  if (age === null || sex === null) return { label: null, rule: 'missing' }; // cannot tell which rule applies
  return zScore === null ? { label: null, rule: 'missing' } : { label: zScore < r.zScoreAbnormalBelow ? 1 : 0, rule: 'z-score' };
}

function parseSex(s: string | undefined): 'F' | 'M' | null {
  const t = (s ?? '').trim().toUpperCase();
  if (t === 'F' || t === 'FEMALE' || t === 'W') return 'F';
  if (t === 'M' || t === 'MALE') return 'M';
  return null;
}

/**
 * Labels CSV: columns id, sex (F/M), age, t_score, z_score and optional label (0/1, wins over the derived
 * one) and split. Joins on id.
 */
export function parseLabels(text: string, origin = 'labels', splitColumn?: string): LabelRow[] {
  const rows = parseCsv(text);
  if (!rows.length) throw new OsteoError('labels-invalid', `${origin}: empty CSV`);
  const header = rows[0]!.map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  if (col('id') < 0) throw new OsteoError('labels-invalid', `${origin}: no "id" column`);
  const hasScores = col('t_score') >= 0 || col('z_score') >= 0;
  if (col('label') < 0 && !hasScores) throw new OsteoError('labels-invalid', `${origin}: needs a "label" column or sex/age/t_score/z_score columns`);
  if (splitColumn && col(splitColumn) < 0) throw new OsteoError('labels-invalid', `${origin}: split column "${splitColumn}" not found`);
  const known = new Set(['id', 'sex', 'age', 't_score', 'z_score', 'label']);
  const seen = new Set<string>();
  return rows.slice(1).map((r, k) => {
    const get = (name: string) => (col(name) >= 0 ? r[col(name)] : undefined);
    const id = (get('id') ?? '').trim();
    if (!id) throw new OsteoError('labels-invalid', `${origin}: row ${k + 2} has an empty id`);
    if (seen.has(id)) throw new OsteoError('labels-invalid', `${origin}: duplicate id "${id}"`);
    seen.add(id);
    const sex = parseSex(get('sex'));
    const age = parseNumber(get('age') ?? '');
    const tScore = parseNumber(get('t_score') ?? '');
    const zScore = parseNumber(get('z_score') ?? '');
    const extra: Record<string, string> = {};
    header.forEach((h, i) => {
      if (!known.has(h)) extra[h] = r[i] ?? '';
    });
    const given = (get('label') ?? '').trim();
    let label: 0 | 1 | null;
    let rule: LabelRow['rule'];
    if (given !== '' && given !== 'NA') {
      if (given !== '0' && given !== '1') throw new OsteoError('labels-invalid', `${origin}: row ${k + 2}: label must be 0 or 1, got "${given}"`);
      label = given === '1' ? 1 : 0;
      rule = 'given';
    } else ({ label, rule } = deriveLabel(sex, age, tScore, zScore));
    const row: LabelRow = { id, sex, age, tScore, zScore, label, rule, extra };
    if (splitColumn) row.split = (get(splitColumn) ?? '').trim().toLowerCase();
    return row;
  });
}

export function readLabels(path: string, splitColumn?: string): LabelRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OsteoError('labels-unreadable', `cannot read labels ${path}: ${(e as Error).message}`);
  }
  return parseLabels(text, path, splitColumn);
}

export interface LabelCounts {
  total: number;
  abnormal: number;
  normal: number;
  missing: number;
  byRule: Record<LabelRow['rule'], number>;
}

export function labelCounts(rows: LabelRow[]): LabelCounts {
  const byRule: Record<LabelRow['rule'], number> = { given: 0, 't-score': 0, 'z-score': 0, missing: 0 };
  let abnormal = 0;
  let normal = 0;
  for (const r of rows) {
    byRule[r.rule]++;
    if (r.label === 1) abnormal++;
    else if (r.label === 0) normal++;
  }
  return { total: rows.length, abnormal, normal, missing: rows.length - abnormal - normal, byRule };
}
