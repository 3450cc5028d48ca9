import { OsteoError } from '../common/errors.js';
import type { LabelRow } from './labels.js';
import { finaliseModel } from './load.js';
import type { RadscoreModel, SubModel, Term, UnhashedModel } from './schema.js';
import { fitProbabilityMap, scoreRows, type LinearModel } from './evaluate.js';
import { mean, sd } from './stats/misc.js';
import { youdenCutoff } from './stats/roc.js';
import { rowFeatures, type FeatureTable } from './table.js';
import { linearScore } from './score.js';

export interface CalibrateOptions {
  /** Fill estimates from a non-site cohort (e.g. phantoms) but stay calibrated: false, normalisation placeholder. */
  placeholder?: boolean;
  /** Where the features came from (shown in provenance; no patient data). */
  featuresName?: string;
  featuresHash?: string;
  name?: string;
  version?: string;
  /** Minimum complete rows (default 10). */
  minRows?: number;
  /**
   * How each term's centre and spread are learned: `mean-sd` (default: mean and sample SD, n − 1) or `median-mad`
   * (robust: median and MAD × 1.4826, which equals the SD for normal data; one wild study, e.g. a term at z = 45,
   * moves neither). The service's per-scanner calibration uses `median-mad`; `osteoscreen calibrate --robust` too.
   */
  statistics?: CalibrationStatistics;
  /** The scanner key (src/common/scanner.ts) this calibration is for: recorded in normalisation.scanner. */
  scanner?: string;
  /**
   * Date of the calibration (ISO 8601; default now). The service passes the time of the cohort's last study, so a
   * proposal has the same hash each time it is computed and `calibrate --date` reproduces it exactly.
   */
  date?: string;
}

export type CalibrationStatistics = 'mean-sd' | 'median-mad';
/** MAD → SD for normal data. */
export const MAD_SCALE = 1.4826;
/** With median-mad, values beyond this many robust SDs from the median are left out of the recorded observed range. */
export const OBSERVED_RANGE_ROBUST_LIMIT = 5;

export function median(v: number[]): number {
  const a = [...v].sort((x, y) => x - y);
  const n = a.length;
  return n % 2 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
}

/** Centre, spread and observed range of one term's values under the chosen statistics. */
export function termStatistics(v: number[], statistics: CalibrationStatistics): { centre: number; spread: number; observed: { min: number; max: number } } {
  if (statistics === 'median-mad') {
    const m = median(v);
    const spread = MAD_SCALE * median(v.map((x) => Math.abs(x - m)));
    const kept = spread > 0 ? v.filter((x) => Math.abs(x - m) <= OBSERVED_RANGE_ROBUST_LIMIT * spread) : v;
    return { centre: m, spread, observed: { min: Math.min(...kept), max: Math.max(...kept) } };
  }
  return { centre: mean(v), spread: sd(v), observed: { min: Math.min(...v), max: Math.max(...v) } };
}

export interface CalibrateResult {
  model: RadscoreModel;
  n: number;
  excluded: { id: string; reason: string }[];
  cutoff?: { before: number; after: number; sensitivity: number; specificity: number; accuracy: number; n: number };
  warnings: string[];
}

function learnTerms(terms: Term[], table: FeatureTable, rows: number[], placeholder: boolean, basis: string, statistics: CalibrationStatistics): Term[] {
  return terms.map((t) => {
    const col = table.columns.indexOf(`${t.sequence}_${t.feature}`);
    if (col < 0) throw new OsteoError('calibrate-missing-column', `feature table has no column ${t.sequence}_${t.feature} (needed by the model)`);
    const v = rows.map((r) => table.values[r]![col]!).filter((x) => x !== null && Number.isFinite(x));
    const st = termStatistics(v, statistics);
    if (!(st.spread > 0)) {
      throw new OsteoError('calibrate-constant', `${t.sequence}_${t.feature} is constant over the calibration cohort${statistics === 'median-mad' ? ' (MAD 0)' : ''}: cannot learn an SD`);
    }
    const { basis: _b, observed: _o, ...rest } = t;
    const learned = { ...rest, mean: st.centre, sd: st.spread, observed: st.observed };
    return placeholder ? { ...learned, basis } : learned;
  });
}

/**
 * Site calibration: keeps the coefficients and intercept, learns each term's mean and sample SD (n − 1) from
 * the site's feature table (rows that have every term of the combined model) and, with labels, the Youden
 * cut-off of the recalibrated radscore and a logistic probability map. Marks the model calibrated: true
 * (unless `placeholder`), with provenance.
 */
export function calibrateModel(model: RadscoreModel, table: FeatureTable, labels: LabelRow[] | undefined, opts: CalibrateOptions = {}): CalibrateResult {
  const warnings: string[] = [];
  const excluded: CalibrateResult['excluded'] = [];
  const rows: number[] = [];
  table.ids.forEach((id, r) => {
    const s = linearScore(model.terms, 0, rowFeatures(table, r));
    if ('missing' in s) excluded.push({ id, reason: `missing ${s.missing.map((m) => `${m.sequence} ${m.feature}`).join(', ')}` });
    else rows.push(r);
  });
  const minRows = opts.minRows ?? 10;
  if (rows.length < minRows) throw new OsteoError('calibrate-too-few', `only ${rows.length} studies have every model term: need at least ${minRows}`);
  if (rows.length < 30) warnings.push(`only ${rows.length} studies: means/SDs will be imprecise (30+ recommended)`);
  const now = opts.date ? new Date(opts.date).toISOString() : new Date().toISOString();
  if (opts.date && Number.isNaN(Date.parse(opts.date))) throw new OsteoError('calibrate-bad-date', `not an ISO date: ${opts.date}`);
  const src = opts.featuresName ?? 'feature table';
  const placeholder = !!opts.placeholder;
  const basis = `estimated from ${rows.length} studies of ${src} (${now.slice(0, 10)}), not a site cohort`;
  const statistics = opts.statistics ?? 'mean-sd';
  const statsText = statistics === 'median-mad' ? 'medians and MAD x 1.4826 (robust)' : 'means and sample SDs (n-1)';
  const terms = learnTerms(model.terms, table, rows, placeholder, basis, statistics);
  const next: UnhashedModel & { hash?: string } = structuredClone(model);
  delete next.hash;
  next.terms = terms;
  if (next.singleSequence) {
    for (const k of ['t1', 't2'] as const) {
      const sub = next.singleSequence[k];
      if (sub) next.singleSequence[k] = { ...sub, terms: learnTerms(sub.terms, table, rows, placeholder, basis, statistics) } as SubModel;
    }
  }
  next.calibrated = !placeholder;
  next.normalisation = {
    source: placeholder ? 'placeholder' : 'calibration',
    description: placeholder
      ? `PLACEHOLDER means/SDs estimated from ${rows.length} studies of ${src} (not a site cohort): the model stays uncalibrated. Calibrate on the site's own studies with \`osteoscreen calibrate\`.`
      : `Site calibration${opts.scanner ? ` for scanner ${opts.scanner}` : ''}: ${statsText} of ${rows.length} studies of ${src}; coefficients and intercept unchanged.`,
    n: rows.length,
    date: now,
    ...(opts.featuresHash ? { data: opts.featuresHash } : {}),
    statistics,
    ...(opts.scanner ? { scanner: opts.scanner } : {}),
  };
  if (opts.name) next.name = opts.name;
  if (opts.version) next.version = opts.version;
  let cutoff: CalibrateResult['cutoff'];
  if (labels) {
    const byId = new Map(labels.map((l) => [l.id, l]));
    const lrows = rows.filter((r) => byId.get(table.ids[r]!)?.label != null);
    const y = lrows.map((r) => byId.get(table.ids[r]!)!.label as number);
    const nAb = y.filter((v) => v === 1).length;
    if (nAb < 5 || y.length - nAb < 5) {
      warnings.push(`labels: ${nAb} abnormal / ${y.length - nAb} normal among calibrated studies: need 5 of each for a cut-off; cut-off kept`);
    } else {
      const lm: LinearModel = { terms, intercept: next.intercept, cutoff: next.cutoff };
      const s = scoreRows(lm, table, lrows) as number[];
      const yd = youdenCutoff(s, y);
      cutoff = { before: next.cutoff, after: yd.cutoff, sensitivity: yd.sensitivity, specificity: yd.specificity, accuracy: yd.accuracy, n: y.length };
      next.cutoff = yd.cutoff;
      next.probability = fitProbabilityMap(s, y, `calibration cohort (${src})`);
      if (next.singleSequence) {
        for (const k of ['t1', 't2'] as const) {
          const sub = next.singleSequence[k];
          if (!sub) continue;
          const ss = scoreRows(sub, table, lrows) as (number | null)[];
          if (ss.some((v) => v === null)) continue;
          sub.cutoff = youdenCutoff(ss as number[], y).cutoff;
          sub.probability = fitProbabilityMap(ss as number[], y, `calibration cohort (${src})`);
        }
      }
    }
  }
  next.provenance = {
    ...next.provenance,
    notes: [
      ...(next.provenance.notes ?? []),
      `${now.slice(0, 10)}: ${placeholder ? 'placeholder means/SDs' : 'calibrated'} (${statistics}) on ${rows.length} studies of ${src}${opts.scanner ? ` (scanner ${opts.scanner})` : ''}${cutoff ? `; Youden cut-off ${cutoff.after.toFixed(4)} on ${cutoff.n} labelled studies (was ${cutoff.before})` : ''}`,
    ],
    cutoffs: { ...(next.provenance.cutoffs ?? {}), ...(cutoff ? { calibration: cutoff.after } : {}) },
  };
  return { model: finaliseModel(next), n: rows.length, excluded, cutoff, warnings };
}
