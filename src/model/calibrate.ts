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
}

export interface CalibrateResult {
  model: RadscoreModel;
  n: number;
  excluded: { id: string; reason: string }[];
  cutoff?: { before: number; after: number; sensitivity: number; specificity: number; accuracy: number; n: number };
  warnings: string[];
}

function learnTerms(terms: Term[], table: FeatureTable, rows: number[], placeholder: boolean, basis: string): Term[] {
  return terms.map((t) => {
    const col = table.columns.indexOf(`${t.sequence}_${t.feature}`);
    if (col < 0) throw new OsteoError('calibrate-missing-column', `feature table has no column ${t.sequence}_${t.feature} (needed by the model)`);
    const v = rows.map((r) => table.values[r]![col]!).filter((x) => x !== null && Number.isFinite(x));
    const s = sd(v);
    if (!(s > 0)) throw new OsteoError('calibrate-constant', `${t.sequence}_${t.feature} is constant over the calibration cohort: cannot learn an SD`);
    const { basis: _b, ...rest } = t;
    return placeholder ? { ...rest, mean: mean(v), sd: s, basis } : { ...rest, mean: mean(v), sd: s };
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
  const now = new Date().toISOString();
  const src = opts.featuresName ?? 'feature table';
  const placeholder = !!opts.placeholder;
  const basis = `estimated from ${rows.length} studies of ${src} (${now.slice(0, 10)}), not a site cohort`;
  const terms = learnTerms(model.terms, table, rows, placeholder, basis);
  const next: UnhashedModel & { hash?: string } = structuredClone(model);
  delete next.hash;
  next.terms = terms;
  if (next.singleSequence) {
    for (const k of ['t1', 't2'] as const) {
      const sub = next.singleSequence[k];
      if (sub) next.singleSequence[k] = { ...sub, terms: learnTerms(sub.terms, table, rows, placeholder, basis) } as SubModel;
    }
  }
  next.calibrated = !placeholder;
  next.normalisation = {
    source: placeholder ? 'placeholder' : 'calibration',
    description: placeholder
      ? `PLACEHOLDER means/SDs estimated from ${rows.length} studies of ${src} (not a site cohort): the model stays uncalibrated. Calibrate on the site's own studies with \`osteoscreen calibrate\`.`
      : `Site calibration: means and sample SDs (n-1) of ${rows.length} studies of ${src}; coefficients and intercept unchanged.`,
    n: rows.length,
    date: now,
    ...(opts.featuresHash ? { data: opts.featuresHash } : {}),
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
      `${now.slice(0, 10)}: ${placeholder ? 'placeholder means/SDs' : 'calibrated'} on ${rows.length} studies of ${src}${cutoff ? `; Youden cut-off ${cutoff.after.toFixed(4)} on ${cutoff.n} labelled studies (was ${cutoff.before})` : ''}`,
    ],
    cutoffs: { ...(next.provenance.cutoffs ?? {}), ...(cutoff ? { calibration: cutoff.after } : {}) },
  };
  return { model: finaliseModel(next), n: rows.length, excluded, cutoff, warnings };
}
