import { Matrix } from 'ml-matrix';
import type { LabelRow } from './labels.js';
import type { ProbabilityMap, RadscoreModel, Term } from './schema.js';
import { linearScore } from './score.js';
import { hosmerLemeshow, type HosmerLemeshowGroup } from './stats/hosmer.js';
import { expit, logisticRegression } from './stats/logistic.js';
import { decisionCurve, mannWhitney, mean, sd } from './stats/misc.js';
import { aucDelong, delongPairedTest, operatingPoint, rocCurve, youdenCutoff } from './stats/roc.js';
import { rowFeatures, type FeatureTable } from './table.js';

export const MODEL_KEYS = ['combined', 't1', 't2'] as const;
export type ModelKey = (typeof MODEL_KEYS)[number];

/** What is needed to score and evaluate one radscore (combined or single-sequence). */
export interface LinearModel {
  terms: Term[];
  intercept: number;
  cutoff: number;
  probability?: ProbabilityMap;
}

/**
 * What Hosmer–Lemeshow, the calibration curve and the decision curve are applied to. The least-squares
 * radscore is not a probability, so it is mapped to one:
 *  - `logistic` (models from `osteoscreen train`): p = expit(a + b·radscore), a and b fitted by maximum
 *    likelihood on the TRAINING cohort only and stored in the model (`probability`); the same mapping is then
 *    applied to validation/external cohorts, so their HL tests are honest out-of-sample calibration tests;
 *  - `clipped` (models without a stored mapping, e.g. the published paper model): the radscore read as a
 *    linear-probability estimate (it is a least-squares fit to the 0/1 label) clipped to [0.001, 0.999].
 */
export const HOSMER_LEMESHOW_METHOD =
  'Hosmer-Lemeshow (g = 10 groups at quantiles of the predicted probability, df = 8, as ResourceSelection::hoslem.test) on p = expit(a + b * radscore), ' +
  'a logistic recalibration of the radscore fitted on the training cohort only and stored in the model (field "probability"); ' +
  'models without a stored recalibration use the radscore itself, clipped to [0.001, 0.999], as a linear-probability estimate.';

export function toProbability(score: number, map?: ProbabilityMap): number {
  if (map) return expit(map.a + map.b * score);
  return Math.min(0.999, Math.max(0.001, score));
}

/** Fits the logistic recalibration p = expit(a + b·score) on a cohort. */
export function fitProbabilityMap(scores: number[], labels: number[], fittedOn: string): ProbabilityMap {
  const fit = logisticRegression(new Matrix(scores.map((s) => [s])), labels);
  return { method: 'logistic', a: fit.coefficients[0]!, b: fit.coefficients[1]!, fittedOn, n: scores.length };
}

export interface ModelMetrics {
  n: number;
  n_abnormal: number;
  n_normal: number;
  not_assessable: number;
  auc: number;
  auc_ci_lower: number;
  auc_ci_upper: number;
  /** Youden-optimal cut-off in this cohort (positive = radscore > cutoff), as the study reports per cohort. */
  cutoff: number;
  sensitivity: number;
  specificity: number;
  accuracy: number;
  /** Performance at the model's own cut-off (the one the service applies). */
  model_cutoff: number;
  sensitivity_at_model_cutoff: number;
  specificity_at_model_cutoff: number;
  accuracy_at_model_cutoff: number;
  hosmer_lemeshow_statistic: number;
  hosmer_lemeshow_df: number;
  hosmer_lemeshow_p: number;
  hosmer_lemeshow_method: 'logistic' | 'clipped';
  mann_whitney_w: number;
  mann_whitney_p: number;
  radscore_abnormal_median: number;
  radscore_normal_median: number;
}

export interface CohortCurves {
  roc: Partial<Record<ModelKey, { fpr: number[]; tpr: number[]; auc: number }>>;
  calibration: Partial<Record<ModelKey, HosmerLemeshowGroup[]>>;
  dca?: { thresholds: number[]; treatAll: number[]; treatNone: number[]; models: Partial<Record<ModelKey, number[]>> };
  radscores: Partial<Record<ModelKey, { abnormal: number[]; normal: number[] }>>;
}

export interface Characteristics {
  group: 'abnormal' | 'normal';
  n: number;
  female: number;
  male: number;
  age: [number, number] | null;
  tScore: [number, number] | null;
  zScore: [number, number] | null;
}

export interface CohortEvaluation {
  name: string;
  n: number;
  metrics: Partial<Record<ModelKey, ModelMetrics>>;
  delong: Record<string, { auc1: number; auc2: number; z: number; p: number; n: number }>;
  curves: CohortCurves;
  characteristics: Characteristics[];
  /** Ids not assessable by the combined model, with the reason. */
  notAssessable: { id: string; reason: string }[];
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function meanSd(v: (number | null)[]): [number, number] | null {
  const x = v.filter((a): a is number => a !== null);
  return x.length >= 2 ? [mean(x), sd(x)] : x.length === 1 ? [x[0]!, NaN] : null;
}

/** Scores of one model over the given rows (null where a term is missing). */
export function scoreRows(model: LinearModel, table: FeatureTable, rows: number[]): (number | null)[] {
  return rows.map((r) => {
    const s = linearScore(model.terms, model.intercept, rowFeatures(table, r));
    return 'missing' in s ? null : s.score;
  });
}

/**
 * Evaluates up to three models (combined, t1, t2) on one labelled cohort: ROC/AUC with DeLong CI,
 * Youden cut-off, performance at the model cut-off, Hosmer–Lemeshow, Mann–Whitney, DeLong paired tests,
 * calibration and decision curves.
 */
export function evaluateCohort(
  name: string,
  models: Partial<Record<ModelKey, LinearModel>>,
  table: FeatureTable,
  labels: Map<string, LabelRow>,
  ids: string[],
): CohortEvaluation {
  const index = new Map(table.ids.map((id, i) => [id, i]));
  const rows = ids.map((id) => {
    const r = index.get(id);
    if (r === undefined) throw new Error(`id ${id} not in feature table`);
    return r;
  });
  const y = ids.map((id) => labels.get(id)!.label as 0 | 1);
  const out: CohortEvaluation = { name, n: ids.length, metrics: {}, delong: {}, curves: { roc: {}, calibration: {}, radscores: {} }, characteristics: [], notAssessable: [] };
  for (const g of [1, 0] as const) {
    const lr = ids.filter((_, i) => y[i] === g).map((id) => labels.get(id)!);
    out.characteristics.push({
      group: g ? 'abnormal' : 'normal',
      n: lr.length,
      female: lr.filter((l) => l.sex === 'F').length,
      male: lr.filter((l) => l.sex === 'M').length,
      age: meanSd(lr.map((l) => l.age)),
      tScore: meanSd(lr.map((l) => l.tScore)),
      zScore: meanSd(lr.map((l) => l.zScore)),
    });
  }
  const scores: Partial<Record<ModelKey, (number | null)[]>> = {};
  const probs: Partial<Record<ModelKey, (number | null)[]>> = {};
  for (const key of MODEL_KEYS) {
    const m = models[key];
    if (!m) continue;
    const s = scoreRows(m, table, rows);
    scores[key] = s;
    probs[key] = s.map((v) => (v === null ? null : toProbability(v, m.probability)));
    if (key === 'combined') {
      s.forEach((v, i) => {
        if (v === null) {
          const r = linearScore(m.terms, m.intercept, rowFeatures(table, rows[i]!));
          const missing = 'missing' in r ? r.missing.map((x) => `${x.sequence} ${x.feature}`).join(', ') : '';
          out.notAssessable.push({ id: ids[i]!, reason: `missing ${missing}` });
        }
      });
    }
    const ok = s.flatMap((v, i) => (v === null ? [] : [i]));
    const sc = ok.map((i) => s[i]!);
    const yy = ok.map((i) => y[i]!);
    const nAb = yy.filter((v) => v === 1).length;
    if (nAb === 0 || nAb === yy.length) continue; // ROC needs both classes
    const auc = aucDelong(sc, yy);
    const yd = youdenCutoff(sc, yy);
    const at = operatingPoint(sc, yy, m.cutoff);
    const pr = ok.map((i) => probs[key]![i]!);
    const hl = hosmerLemeshow(pr, yy);
    const ab = sc.filter((_, i) => yy[i] === 1);
    const no = sc.filter((_, i) => yy[i] === 0);
    const mw = mannWhitney(ab, no);
    out.metrics[key] = {
      n: sc.length,
      n_abnormal: nAb,
      n_normal: sc.length - nAb,
      not_assessable: s.length - sc.length,
      auc: auc.auc,
      auc_ci_lower: auc.ciLower,
      auc_ci_upper: auc.ciUpper,
      cutoff: yd.cutoff,
      sensitivity: yd.sensitivity,
      specificity: yd.specificity,
      accuracy: yd.accuracy,
      model_cutoff: m.cutoff,
      sensitivity_at_model_cutoff: at.sensitivity,
      specificity_at_model_cutoff: at.specificity,
      accuracy_at_model_cutoff: at.accuracy,
      hosmer_lemeshow_statistic: hl.statistic,
      hosmer_lemeshow_df: hl.df,
      hosmer_lemeshow_p: hl.p,
      hosmer_lemeshow_method: m.probability ? 'logistic' : 'clipped',
      mann_whitney_w: mw.W,
      mann_whitney_p: mw.p,
      radscore_abnormal_median: median(ab),
      radscore_normal_median: median(no),
    };
    const c = rocCurve(sc, yy);
    out.curves.roc[key] = { fpr: c.specificity.map((v) => 1 - v), tpr: c.sensitivity, auc: auc.auc };
    out.curves.calibration[key] = hl.groups;
    out.curves.radscores[key] = { abnormal: ab, normal: no };
  }
  // decision curves on rows assessable by every model
  const keys = MODEL_KEYS.filter((k) => out.metrics[k]);
  const common = y.flatMap((_, i) => (keys.every((k) => scores[k]![i] !== null) ? [i] : []));
  if (keys.length && common.length) {
    const yy = common.map((i) => y[i]!);
    let base: ReturnType<typeof decisionCurve> | undefined;
    const models: Partial<Record<ModelKey, number[]>> = {};
    for (const k of keys) {
      const dc = decisionCurve(common.map((i) => probs[k]![i]!), yy);
      base ??= dc;
      models[k] = dc.model;
    }
    out.curves.dca = { thresholds: base!.thresholds, treatAll: base!.treatAll, treatNone: base!.treatNone, models };
    const pairs: [ModelKey, ModelKey][] = [
      ['combined', 't1'],
      ['combined', 't2'],
      ['t1', 't2'],
    ];
    for (const [a, b] of pairs) {
      if (!keys.includes(a) || !keys.includes(b)) continue;
      const t = delongPairedTest(common.map((i) => scores[a]![i]!), common.map((i) => scores[b]![i]!), yy);
      out.delong[`${a}_vs_${b}`] = { ...t, n: common.length };
    }
  }
  return out;
}

/** The combined + single-sequence models carried by a model file. */
export function modelsOf(model: RadscoreModel): Partial<Record<ModelKey, LinearModel>> {
  const out: Partial<Record<ModelKey, LinearModel>> = { combined: { terms: model.terms, intercept: model.intercept, cutoff: model.cutoff, probability: model.probability } };
  if (model.singleSequence?.t1) out.t1 = model.singleSequence.t1;
  if (model.singleSequence?.t2) out.t2 = model.singleSequence.t2;
  return out;
}

/** The metrics.json block of one cohort: per model the contract's keys, plus DeLong tests. */
export function cohortMetricsJson(ev: CohortEvaluation): Record<string, unknown> {
  return { ...ev.metrics, delong: ev.delong, not_assessable: ev.notAssessable.length };
}

/** `{coefficients: {T1_x: c}, intercept}` of a model for metrics.json. */
export function coefficientsJson(m: LinearModel): { intercept: number; coefficients: Record<string, number>; cutoff: number } {
  const coefficients: Record<string, number> = {};
  for (const t of m.terms) coefficients[`${t.sequence}_${t.feature}`] = t.coefficient;
  return { intercept: m.intercept, coefficients, cutoff: m.cutoff };
}

