import { readFileSync, writeFileSync } from 'node:fs';
import { OsteoError } from '../common/errors.js';
import { formatCsv, parseCsv } from '../common/csv.js';
import { parseColumnName, type Sequence } from './schema.js';
import type { StudyFeatures } from './score.js';

/** A feature table: one row per study, columns `T1_<feature>` / `T2_<feature>`; null = missing. */
export interface FeatureTable {
  ids: string[];
  columns: string[];
  /** values[row][col] */
  values: (number | null)[][];
}

const MISSING = new Set(['', 'NA', 'NaN', 'nan', 'null', 'NULL', 'None']);

export function parseNumber(s: string): number | null {
  const t = s.trim();
  if (MISSING.has(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** Parses a feature CSV: an `id` column and feature columns prefixed T1_/T2_ (other columns are ignored). */
export function parseFeatureTable(text: string, origin = 'features'): FeatureTable {
  const rows = parseCsv(text);
  if (!rows.length) throw new OsteoError('features-invalid', `${origin}: empty CSV`);
  const header = rows[0]!.map((h) => h.trim());
  const idCol = header.indexOf('id');
  if (idCol < 0) throw new OsteoError('features-invalid', `${origin}: no "id" column (header: ${header.slice(0, 5).join(', ')}...)`);
  const featCols = header.flatMap((h, i) => (parseColumnName(h) ? [i] : []));
  if (!featCols.length) throw new OsteoError('features-invalid', `${origin}: no feature columns prefixed T1_ or T2_`);
  const ids: string[] = [];
  const values: (number | null)[][] = [];
  const seen = new Set<string>();
  rows.slice(1).forEach((r, k) => {
    if (r.length !== header.length) throw new OsteoError('features-invalid', `${origin}: row ${k + 2} has ${r.length} fields, header has ${header.length}`);
    const id = r[idCol]!.trim();
    if (!id) throw new OsteoError('features-invalid', `${origin}: row ${k + 2} has an empty id`);
    if (seen.has(id)) throw new OsteoError('features-invalid', `${origin}: duplicate id "${id}" (row ${k + 2})`);
    seen.add(id);
    ids.push(id);
    values.push(featCols.map((c) => parseNumber(r[c]!)));
  });
  return { ids, columns: featCols.map((c) => header[c]!), values };
}

export function readFeatureTable(path: string): FeatureTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new OsteoError('features-unreadable', `cannot read feature table ${path}: ${(e as Error).message}`);
  }
  return parseFeatureTable(text, path);
}

export function formatFeatureTable(t: FeatureTable): string {
  return formatCsv(['id', ...t.columns], t.values.map((r, i) => [t.ids[i]!, ...r]));
}

export function writeFeatureTable(path: string, t: FeatureTable): void {
  writeFileSync(path, formatFeatureTable(t));
}

/** One table row as the scorer's {T1: {...}, T2: {...}} map. */
export function rowFeatures(t: FeatureTable, row: number): StudyFeatures {
  const out: StudyFeatures = { T1: {}, T2: {} };
  t.columns.forEach((c, j) => {
    const p = parseColumnName(c)!;
    out[p.sequence as Sequence][p.feature] = t.values[row]![j]!;
  });
  return out;
}

/** Column index by name, -1 if absent. */
export function columnIndex(t: FeatureTable): Map<string, number> {
  return new Map(t.columns.map((c, i) => [c, i]));
}
