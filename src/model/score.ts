import type { RadscoreModel, Sequence, SubModel, Term } from './schema.js';

export type SequenceFeatures = Record<string, number | null | undefined>;
export interface StudyFeatures {
  T1: SequenceFeatures;
  T2: SequenceFeatures;
}

export interface TermContribution {
  sequence: Sequence;
  feature: string;
  value: number;
  mean: number;
  sd: number;
  z: number;
  coefficient: number;
  contribution: number;
}

export interface ModelRef {
  name: string;
  version: string;
  hash: string;
}

export interface ScoreResult {
  score: number;
  cutoff: number;
  /** score > cutoff; null when suppressed (see flagSuppressed). */
  flag: boolean | null;
  /** Why no flag is given, in words (every reason, '; '-joined): see `noFlag`. */
  flagSuppressed?: string;
  /**
   * Each reason for no flag: `uncalibrated` (model.requireCalibrated with an uncalibrated model: the radscore is
   * not interpretable until calibrated for this site) and/or `out-of-range` (a term far outside the distribution
   * the normalisation came from; the terms are in `outOfRange`).
   */
  noFlag?: { kind: 'uncalibrated' | 'out-of-range'; message: string }[];
  /** Terms outside the model's calibrated range (|z| > maxAbsZ, or outside the cohort's observed range ± margin). */
  outOfRange?: OutOfRangeTerm[];
  calibrated: boolean;
  /** Where the Z-score means/SDs come from: placeholder | training | calibration. */
  normalisation: RadscoreModel['normalisation']['source'];
  /** Text every report must show when the model is not calibrated for this site; absent when calibrated. */
  calibrationNotice?: string;
  intercept: number;
  terms: TermContribution[];
  model: ModelRef;
}

export interface OutOfRangeTerm {
  sequence: Sequence;
  feature: string;
  value: number;
  z: number;
  rule: 'max-abs-z' | 'observed-range';
  /** e.g. "T1 additivegaussiannoise_glszm_LowGrayLevelZoneEmphasis z = 45: outside the model's calibrated range (|z| > 4)" */
  message: string;
}

export interface NotAssessableScore {
  notAssessable: string;
  missing: { sequence: Sequence; feature: string; value: number | null | undefined }[];
  model: ModelRef;
}

export type ScoreOutcome = ScoreResult | NotAssessableScore;

export interface ScoreOptions {
  /** config model.requireCalibrated: an uncalibrated model then reports no flag. */
  requireCalibrated?: boolean;
  /** config model.maxAbsZ: a term with |z| above this gives no flag (default 4; Infinity = off). */
  maxAbsZ?: number;
  /**
   * config model.rangeMarginSd: when a term records its calibration cohort's observed range (`observed`), a value
   * outside [min − margin·sd, max + margin·sd] gives no flag (default 1).
   */
  rangeMarginSd?: number;
}

/** The scoring options of the config section `model` (requireCalibrated, maxAbsZ, rangeMarginSd). */
export function scoreOptionsFrom(m: { requireCalibrated: boolean; maxAbsZ: number; rangeMarginSd: number }): ScoreOptions {
  return { requireCalibrated: m.requireCalibrated, maxAbsZ: m.maxAbsZ, rangeMarginSd: m.rangeMarginSd };
}

export const DEFAULT_MAX_ABS_Z = 4;
export const DEFAULT_RANGE_MARGIN_SD = 1;
/** What every report says about a radscore from an uncalibrated model when the site requires calibration. */
export const NOT_INTERPRETABLE_TEXT = 'not interpretable until calibrated for this site';

/** z for people: "45", "-21", "4.3". */
export function formatZ(z: number): string {
  return Math.abs(z) >= 10 ? z.toFixed(0) : z.toFixed(1);
}
function fmtValue(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/**
 * The out-of-range guard: terms far outside the distribution the active normalisation came from. A wrong flag is
 * worse than none, so this applies to calibrated models too (a new scanner or protocol can fall outside).
 */
export function outOfRangeTerms(model: Pick<RadscoreModel, 'terms'>, terms: TermContribution[], opts: ScoreOptions = {}): OutOfRangeTerm[] {
  const maxAbsZ = opts.maxAbsZ ?? DEFAULT_MAX_ABS_Z;
  const margin = opts.rangeMarginSd ?? DEFAULT_RANGE_MARGIN_SD;
  const out: OutOfRangeTerm[] = [];
  for (const t of terms) {
    const name = `${t.sequence} ${t.feature}`;
    if (Math.abs(t.z) > maxAbsZ) {
      out.push({ sequence: t.sequence, feature: t.feature, value: t.value, z: t.z, rule: 'max-abs-z', message: `${name} z = ${formatZ(t.z)}: outside the model's calibrated range (|z| > ${maxAbsZ})` });
      continue;
    }
    const obs = model.terms.find((m) => m.sequence === t.sequence && m.feature === t.feature)?.observed;
    if (obs) {
      const lo = obs.min - margin * t.sd;
      const hi = obs.max + margin * t.sd;
      if (t.value < lo || t.value > hi) {
        out.push({
          sequence: t.sequence,
          feature: t.feature,
          value: t.value,
          z: t.z,
          rule: 'observed-range',
          message: `${name} = ${fmtValue(t.value)} (z = ${formatZ(t.z)}): outside the model's calibrated range (calibration cohort ${fmtValue(obs.min)} to ${fmtValue(obs.max)}, margin ${margin} SD)`,
        });
      }
    }
  }
  return out;
}

export function isNotAssessable(r: ScoreOutcome): r is NotAssessableScore {
  return 'notAssessable' in r;
}

/** Feature names the model needs per sequence (the service computes exactly these). */
export function requiredFeatures(model: Pick<RadscoreModel, 'terms'>): { T1: string[]; T2: string[] } {
  const out: { T1: string[]; T2: string[] } = { T1: [], T2: [] };
  for (const t of model.terms) if (!out[t.sequence].includes(t.feature)) out[t.sequence].push(t.feature);
  return out;
}

export function uncalibratedNotice(model: RadscoreModel): string {
  return (
    `UNCALIBRATED MODEL: ${model.name} ${model.version} uses ${model.normalisation.source} feature means/SDs ` +
    `(${model.normalisation.source === 'placeholder' ? 'placeholders, not learned from patients at this site' : 'not learned at this site'}); ` +
    'the radscore and its flag are not validated for this site. Calibrate with `osteoscreen calibrate`.'
  );
}

/**
 * Radscore of a set of terms: intercept + Σ coef·(x−mean)/sd. Returns the missing terms instead when any
 * value is absent or not finite (never a silent partial score).
 */
export function linearScore(
  terms: Term[],
  intercept: number,
  features: StudyFeatures,
): { score: number; terms: TermContribution[] } | { missing: NotAssessableScore['missing'] } {
  const missing: NotAssessableScore['missing'] = [];
  const out: TermContribution[] = [];
  let score = intercept;
  for (const t of terms) {
    const value = features[t.sequence]?.[t.feature];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      missing.push({ sequence: t.sequence, feature: t.feature, value: value === undefined ? undefined : (value as number | null) });
      continue;
    }
    const z = (value - t.mean) / t.sd;
    const contribution = t.coefficient * z;
    score += contribution;
    out.push({ sequence: t.sequence, feature: t.feature, value, mean: t.mean, sd: t.sd, z, coefficient: t.coefficient, contribution });
  }
  return missing.length ? { missing } : { score, terms: out };
}

function describeMissing(missing: NotAssessableScore['missing']): string {
  const parts = missing.map((m) => `${m.sequence} ${m.feature} ${m.value === undefined ? 'not computed' : m.value === null ? 'missing' : `not finite (${m.value})`}`);
  return `radscore not assessable: ${missing.length} model term${missing.length > 1 ? 's' : ''} unavailable: ${parts.join('; ')}`;
}

/** Scores one study with the model's terms: z-scores, sums, compares with the cut-off (flag = score > cutoff). */
export function scoreStudy(model: RadscoreModel, features: StudyFeatures, opts: ScoreOptions = {}): ScoreOutcome {
  const ref: ModelRef = { name: model.name, version: model.version, hash: model.hash };
  const r = linearScore(model.terms, model.intercept, features);
  if ('missing' in r) return { notAssessable: describeMissing(r.missing), missing: r.missing, model: ref };
  const result: ScoreResult = {
    score: r.score,
    cutoff: model.cutoff,
    flag: r.score > model.cutoff,
    calibrated: model.calibrated,
    normalisation: model.normalisation.source,
    intercept: model.intercept,
    terms: r.terms,
    model: ref,
  };
  const noFlag: NonNullable<ScoreResult['noFlag']> = [];
  if (!model.calibrated) {
    result.calibrationNotice = uncalibratedNotice(model);
    if (opts.requireCalibrated) {
      noFlag.push({ kind: 'uncalibrated', message: `radscore ${NOT_INTERPRETABLE_TEXT} (${model.normalisation.source} normalisation; model.requireCalibrated is true)` });
    }
  }
  const oor = outOfRangeTerms(model, r.terms, opts);
  if (oor.length) {
    result.outOfRange = oor;
    for (const o of oor) noFlag.push({ kind: 'out-of-range', message: o.message });
  }
  if (noFlag.length) {
    result.flag = null;
    result.noFlag = noFlag;
    result.flagSuppressed = noFlag.map((n) => n.message).join('; ');
  }
  return result;
}

/** Score of a research sub-model (single sequence), or null when a term is missing. */
export function subModelScore(sub: SubModel, features: StudyFeatures): number | null {
  const r = linearScore(sub.terms, sub.intercept, features);
  return 'missing' in r ? null : r.score;
}
