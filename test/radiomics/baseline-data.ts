/**
 * Access to the shared PyRadiomics reference data: reference/<case>.json and baseline/baseline_<class>.csv.
 * Settings of each CSV column are read from its own `diagnostics_Configuration_Settings` row (a Python dict repr),
 * so nothing here knows column names beyond "<case>" / "<case>_<variant>".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RADIOMICS_BASELINE } from '../helpers/shared.js';
import { parseCsv } from '../../src/common/csv.js';

export const BASE = RADIOMICS_BASELINE;

/** Cases whose image and label are present. */
export function availableCases(): string[] {
  return ['brain1', 'brain2', 'breast1'].filter((c) => existsSync(join(BASE, 'data', `${c}_image.nrrd`)));
}

export function referenceJson(cs: string): Record<string, number | null> {
  return JSON.parse(readFileSync(join(BASE, 'reference', `${cs}.json`), 'utf8')).features;
}

/** Python literal (dict/list/str/number/bool/None) → JSON value. */
export function pyLiteral(s: string): unknown {
  const json = s
    .replace(/'/g, '"')
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
    .replace(/\bNone\b/g, 'null')
    .replace(/\(/g, '[')
    .replace(/\)/g, ']');
  return JSON.parse(json);
}

export interface BaselineColumn {
  /** Column header, e.g. brain1_FBN. */
  column: string;
  cs: string;
  /** Part after "<case>_" or '' for the plain column. */
  variant: string;
  settings: Record<string, unknown>;
  /** feature name → value (original_<class>_<Feature>). */
  values: Record<string, number>;
}

/** All columns of baseline_<cls>.csv whose case data is available. */
export function baselineColumns(cls: string): BaselineColumn[] {
  const rows = parseCsv(readFileSync(join(BASE, 'baseline', `baseline_${cls}.csv`), 'utf8'));
  const hdr = rows[0]!;
  const cases = availableCases();
  const settingsRow = rows.find((r) => r[0] === 'diagnostics_Configuration_Settings');
  const out: BaselineColumn[] = [];
  for (let c = 1; c < hdr.length; c++) {
    const column = hdr[c]!;
    const cs = cases.find((k) => column === k || column.startsWith(`${k}_`));
    if (!cs) continue;
    const values: Record<string, number> = {};
    for (const r of rows) {
      if (!r[0]!.startsWith('original_') || r[c] === undefined || r[c] === '') continue;
      values[r[0]!] = Number(r[c]);
    }
    out.push({
      column,
      cs,
      variant: column === cs ? '' : column.slice(cs.length + 1),
      settings: settingsRow ? (pyLiteral(settingsRow[c]!) as Record<string, unknown>) : {},
      values,
    });
  }
  return out;
}

/** Diagnostics row values of a baseline file by column. */
export function baselineDiagnostic(cls: string, row: string): Record<string, string> {
  const rows = parseCsv(readFileSync(join(BASE, 'baseline', `baseline_${cls}.csv`), 'utf8'));
  const hdr = rows[0]!;
  const r = rows.find((x) => x[0] === row);
  const out: Record<string, string> = {};
  if (r) hdr.forEach((h, i) => { if (i > 0) out[h] = r[i]!; });
  return out;
}

/** Relative error with an absolute floor for values near zero. */
export function relErr(ours: number | null, ref: number | null, floor = 1e-9): number {
  if (ours === null || ref === null) return ours === ref ? 0 : Infinity;
  if (Number.isNaN(ref)) return Number.isNaN(ours) ? 0 : Infinity;
  const d = Math.abs(ours - ref);
  if (d <= floor) return 0;
  return d / Math.max(Math.abs(ref), floor);
}
