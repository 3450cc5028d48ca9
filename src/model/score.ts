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
  /** Why no flag is given (e.g. model.requireCalibrated with an uncalibrated model). */
  flagSuppressed?: string;
  calibrated: boolean;
  /** Where the Z-score means/SDs come from: placeholder | training | calibration. */
  normalisation: RadscoreModel['normalisation']['source'];
  /** Text every report must show when the model is not calibrated for this site; absent when calibrated. */
  calibrationNotice?: string;
  intercept: number;
  terms: TermContribution[];
  model: ModelRef;
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
  if (!model.calibrated) {
    result.calibrationNotice = uncalibratedNotice(model);
    if (opts.requireCalibrated) {
      result.flag = null;
      result.flagSuppressed = 'model not calibrated for this site (model.requireCalibrated is true)';
    }
  }
  return result;
}

/** Score of a research sub-model (single sequence), or null when a term is missing. */
export function subModelScore(sub: SubModel, features: StudyFeatures): number | null {
  const r = linearScore(sub.terms, sub.intercept, features);
  return 'missing' in r ? null : r.score;
}
