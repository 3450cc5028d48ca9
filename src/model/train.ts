import { createHash } from 'node:crypto';
import { Matrix } from 'ml-matrix';
import { OsteoError } from '../common/errors.js';
import { labelCounts, type LabelCounts, type LabelRow } from './labels.js';
import { parseColumnName, type Extraction, type RadscoreModel, type Term, type UnhashedModel } from './schema.js';
import { finaliseModel } from './load.js';
import { lassoPath, type Family, type LassoPath } from './stats/lasso.js';
import { cvLasso, stratifiedFolds, type CvResult } from './stats/lasso-cv.js';
import { icc21, mean, rng, sd } from './stats/misc.js';
import { youdenCutoff } from './stats/roc.js';
import { evaluateCohort, fitProbabilityMap, scoreRows, type CohortEvaluation, type LinearModel, type ModelKey } from './evaluate.js';
import type { FeatureTable } from './table.js';

export type SplitSpec = { kind: 'random'; fraction: number } | { kind: 'none' } | { kind: 'column'; column: string };

export interface TrainOptions {
  seed: number;
  split: SplitSpec;
  /** Fixed λ (the reference study used 0.13); otherwise chosen by CV with lambdaRule. */
  lambda?: number;
  lambdaRule: 'min' | '1se';
  family: Family;
  nfolds: number;
  nlambda: number;
  /**
   * Coordinate-descent convergence threshold (glmnet's `thresh`; default 1e-7 as glmnet). Tighter values
   * (1e-12 to compare with glmnet run at 1e-12) cost minutes on thousands of correlated radiomics columns.
   */
  thresh?: number;
  /** Progress of the LASSO fits: called after each path (full data and each CV fold of each model). */
  onProgress?: (what: string, total: number) => void;
  /** Keep features with ICC(2,1) > this between readers (needs reader2). */
  iccThreshold: number;
  reader2?: FeatureTable;
  name: string;
  version: string;
  description?: string;
  extraction: Extraction;
  /** Software string for provenance. */
  software: string;
  /** sha256 of the features file, for provenance. */
  featuresHash?: string;
}

export interface FeatureFilterLog {
  candidates: number;
  missingInTraining: string[];
  zeroVariance: string[];
  notInReader2: string[];
  lowIcc: { column: string; icc: number }[];
  iccThreshold: number | null;
  iccN: number;
  kept: string[];
  icc: Record<string, number>;
}

export interface FittedModel {
  key: ModelKey;
  columns: string[];
  means: number[];
  sds: number[];
  cv: CvResult;
  path: LassoPath;
  lambda: number;
  lambdaChoice: string;
  model: LinearModel;
}

export interface TrainResult {
  model: RadscoreModel;
  fits: Partial<Record<ModelKey, FittedModel>>;
  cohorts: CohortEvaluation[];
  filter: FeatureFilterLog;
  counts: LabelCounts;
  split: Record<string, string>;
  dropped: { noLabel: string[]; noFeatures: string[]; labelMissing: string[]; notAssessed: string[] };
  warnings: string[];
}

/** Stratified random split: per class, round(fraction · n_class) rows to training (seeded shuffle). */
export function stratifiedSplit(labels: (0 | 1)[], fraction: number, seed: number): ('training' | 'validation')[] {
  const rand = rng(seed);
  const out = new Array<'training' | 'validation'>(labels.length).fill('validation');
  for (const c of [0, 1] as const) {
    const idx = labels.flatMap((v, i) => (v === c ? [i] : []));
    for (let i = idx.length - 1; i > 0; i--) {
      const k = Math.floor(rand() * (i + 1));
      [idx[i], idx[k]] = [idx[k]!, idx[i]!];
    }
    const nTrain = Math.round(fraction * idx.length);
    idx.slice(0, nTrain).forEach((i) => (out[i] = 'training'));
  }
  return out;
}

const SPLIT_ALIASES: Record<string, string> = { train: 'training', training: 'training', validation: 'validation', valid: 'validation', test: 'validation', external: 'external' };

/** Joins features and labels on id; rows without a usable label are dropped (and reported). */
export function joinCohort(features: FeatureTable, labels: LabelRow[]) {
  const byId = new Map(labels.map((l) => [l.id, l]));
  const featIds = new Set(features.ids);
  const noLabel = features.ids.filter((id) => !byId.has(id));
  const noFeatures = labels.filter((l) => !featIds.has(l.id)).map((l) => l.id);
  const labelMissing = features.ids.filter((id) => byId.has(id) && byId.get(id)!.label === null);
  // Studies the pipeline could not assess (cohort writes them with every feature empty) carry no information.
  const notAssessed = features.ids.filter((_, i) => features.values[i]!.every((v) => v === null || v === undefined));
  const skip = new Set(notAssessed);
  const ids = features.ids.filter((id) => byId.get(id)?.label != null && !skip.has(id));
  return { ids, byId, dropped: { noLabel, noFeatures, labelMissing, notAssessed } };
}

/** glmnet's default convergence threshold. */
export const DEFAULT_THRESH = 1e-7;

/** Fits one LASSO radscore on the training rows over the given columns. */
function fitOne(
  key: ModelKey,
  features: FeatureTable,
  columns: string[],
  trainRows: number[],
  y: number[],
  opts: TrainOptions,
  foldid: number[],
  onPath?: (what: string) => void,
): FittedModel | null {
  if (!columns.length) return null;
  const colIdx = columns.map((c) => features.columns.indexOf(c));
  const means: number[] = [];
  const sds: number[] = [];
  const X = new Matrix(trainRows.length, columns.length);
  colIdx.forEach((j, k) => {
    const v = trainRows.map((r) => features.values[r]![j]!);
    const m = mean(v);
    const s = sd(v);
    means.push(m);
    sds.push(s);
    v.forEach((x, i) => X.set(i, k, (x - m) / s));
  });
  let lambda: number;
  let lambdaChoice: string;
  let b0: number;
  let beta: Float64Array;
  const thresh = opts.thresh ?? DEFAULT_THRESH;
  if (opts.lambda !== undefined) {
    // fit at the fixed λ first: an empty model ends here, before the (report-only) CV
    const fixed = lassoPath(X, y, { family: opts.family, lambda: [opts.lambda], thresh });
    if (fixed.df[0] === 0) return null;
  }
  const cv = cvLasso(X, y, foldid, { family: opts.family, nlambda: opts.nlambda, thresh }, onPath);
  if (opts.lambda !== undefined) {
    lambda = opts.lambda;
    lambdaChoice = 'fixed (--lambda)';
    const fixed = lassoPath(X, y, { family: opts.family, lambda: [lambda], thresh });
    b0 = fixed.intercept[0]!;
    beta = fixed.beta[0]!;
  } else {
    const k = opts.lambdaRule === 'min' ? cv.indexMin : cv.index1se;
    lambda = cv.lambda[k]!;
    lambdaChoice = `lambda.${opts.lambdaRule} of ${opts.nfolds}-fold CV`;
    b0 = cv.fit.intercept[k]!;
    beta = cv.fit.beta[k]!;
  }
  const path: LassoPath = cv.fit;
  const terms: Term[] = [];
  columns.forEach((c, k) => {
    if (beta[k] === 0) return;
    const p = parseColumnName(c)!;
    terms.push({ sequence: p.sequence, feature: p.feature, coefficient: beta[k]!, mean: means[k]!, sd: sds[k]! });
  });
  terms.sort((a, b) => b.coefficient - a.coefficient);
  if (!terms.length) return null;
  const model: LinearModel = { terms, intercept: b0, cutoff: 0 };
  const s = scoreRows(model, features, trainRows) as number[];
  model.cutoff = youdenCutoff(s, y).cutoff;
  model.probability = fitProbabilityMap(s, y, 'training');
  return { key, columns, means, sds, cv, path, lambda, lambdaChoice, model };
}

/**
 * The research training pipeline (issue 8): join, split, reproducibility filter, Z-score on training,
 * LASSO with CV (combined, T1-only, T2-only), radscore, cut-off, evaluation on every cohort.
 */
export function trainModel(features: FeatureTable, labels: LabelRow[], opts: TrainOptions): TrainResult {
  const warnings: string[] = [];
  const { ids, byId, dropped } = joinCohort(features, labels);
  const counts = labelCounts(ids.map((id) => byId.get(id)!));
  if (ids.length < 20) throw new OsteoError('train-too-few', `only ${ids.length} labelled studies with features: need at least 20`);
  const rowOf = new Map(features.ids.map((id, i) => [id, i]));
  const y = ids.map((id) => byId.get(id)!.label as 0 | 1);

  // split
  const split: Record<string, string> = {};
  if (opts.split.kind === 'none') ids.forEach((id) => (split[id] = 'training'));
  else if (opts.split.kind === 'random') {
    const s = stratifiedSplit(y, opts.split.fraction, opts.seed);
    ids.forEach((id, i) => (split[id] = s[i]!));
  } else {
    for (const id of ids) {
      const v = byId.get(id)!.split ?? '';
      const c = SPLIT_ALIASES[v];
      if (!c) throw new OsteoError('train-split', `split column "${opts.split.column}": id ${id} has "${v}" (expected training, validation or external)`);
      split[id] = c;
    }
  }
  const cohortIds = (name: string) => ids.filter((id) => split[id] === name);
  const trainIds = cohortIds('training');
  const trainRows = trainIds.map((id) => rowOf.get(id)!);
  const yTrain = trainIds.map((id) => byId.get(id)!.label as 0 | 1);
  const nAbTrain = yTrain.filter((v) => v === 1).length;
  if (nAbTrain < 5 || trainIds.length - nAbTrain < 5) throw new OsteoError('train-too-few', `training cohort has ${nAbTrain} abnormal / ${trainIds.length - nAbTrain} normal: need at least 5 of each`);

  // feature filter
  const filter: FeatureFilterLog = { candidates: features.columns.length, missingInTraining: [], zeroVariance: [], notInReader2: [], lowIcc: [], iccThreshold: opts.reader2 ? opts.iccThreshold : null, iccN: 0, kept: [], icc: {} };
  let cols: string[] = [];
  features.columns.forEach((c, j) => {
    const v = trainRows.map((r) => features.values[r]![j]);
    if (v.some((x) => x === null || x === undefined)) filter.missingInTraining.push(c);
    else if (!(sd(v as number[]) > 0)) filter.zeroVariance.push(c);
    else cols.push(c);
  });
  if (opts.reader2) {
    const r2 = opts.reader2;
    const r2row = new Map(r2.ids.map((id, i) => [id, i]));
    let common = trainIds.filter((id) => r2row.has(id));
    if (common.length < 10) common = features.ids.filter((id) => r2row.has(id));
    filter.iccN = common.length;
    if (common.length < 5) throw new OsteoError('train-icc', `reader-2 table shares only ${common.length} ids with the features: cannot compute ICC`);
    const r2col = new Map(r2.columns.map((c, i) => [c, i]));
    cols = cols.filter((c) => {
      const j2 = r2col.get(c);
      if (j2 === undefined) {
        filter.notInReader2.push(c);
        return false;
      }
      const j1 = features.columns.indexOf(c);
      const pairs = common.flatMap((id) => {
        const a = features.values[rowOf.get(id)!]![j1];
        const b = r2.values[r2row.get(id)!]![j2];
        return a === null || a === undefined || b === null || b === undefined ? [] : [[a, b]];
      });
      const icc = pairs.length >= 5 ? icc21(pairs) : NaN;
      filter.icc[c] = icc;
      if (!(icc > opts.iccThreshold)) {
        filter.lowIcc.push({ column: c, icc });
        return false;
      }
      return true;
    });
  }
  filter.kept = cols;
  if (!cols.length) throw new OsteoError('train-no-features', 'no feature survives the missing-value/variance/ICC filters');

  // folds shared by the three models (same CV partition for comparable curves)
  const foldid = stratifiedFolds(yTrain, opts.nfolds, rng(opts.seed + 1));
  const fits: Partial<Record<ModelKey, FittedModel>> = {};
  const sets: [ModelKey, string[]][] = [
    ['combined', cols],
    ['t1', cols.filter((c) => c.startsWith('T1_'))],
    ['t2', cols.filter((c) => c.startsWith('T2_'))],
  ];
  const pathsPerModel = opts.nfolds + 1;
  for (const [key, cs] of sets) {
    let paths = 0;
    const f = fitOne(key, features, cs, trainRows, yTrain, opts, foldid, (what) => {
      paths++;
      opts.onProgress?.(`${key} (${cs.length} columns): ${what}`, sets.length * pathsPerModel);
    });
    // a model that ends before its CV (no candidate columns, empty at the fixed λ) still completes its share
    for (; paths < pathsPerModel; paths++) opts.onProgress?.(`${key}: skipped`, sets.length * pathsPerModel);
    if (f?.cv.nonConverged) warnings.push(`${key}: ${f.cv.nonConverged} λ fits (full path + CV folds) hit the coordinate-descent sweep budget and are approximate`);
    if (f?.path.saturatedFrom !== undefined) warnings.push(`${key}: the logistic path saturates (near-separation) from λ = ${f.path.lambda[f.path.saturatedFrom]!.toPrecision(3)}`);
    if (f) fits[key] = f;
    else warnings.push(`${key}: no feature selected${cs.length ? '' : ' (no candidate columns)'}; model omitted`);
  }
  const combined = fits.combined;
  if (!combined) {
    throw new OsteoError(
      'train-empty-model',
      `LASSO selected no feature for the combined model (λ = ${opts.lambda ?? 'CV'}); try a smaller --lambda or --lambda-rule min`,
    );
  }

  // evaluation per cohort
  const models: Partial<Record<ModelKey, LinearModel>> = {};
  for (const k of ['combined', 't1', 't2'] as const) if (fits[k]) models[k] = fits[k]!.model;
  const cohorts: CohortEvaluation[] = [];
  for (const name of ['training', 'validation', 'external']) {
    const cids = cohortIds(name);
    if (!cids.length) continue;
    cohorts.push(evaluateCohort(name, models, features, byId, cids));
  }
  const trainEval = cohorts.find((c) => c.name === 'training')!;
  const now = new Date().toISOString();
  const desc = opts.description ?? `LASSO radscore (${opts.family === 'gaussian' ? 'least-squares' : 'logistic'}) trained by osteoscreen train on ${trainIds.length} studies.`;
  const unhashed: UnhashedModel = {
    format: 'osteoscreen-radscore',
    formatVersion: 1,
    name: opts.name,
    version: opts.version,
    description: desc,
    calibrated: true,
    intercept: combined.model.intercept,
    cutoff: combined.model.cutoff,
    terms: combined.model.terms,
    normalisation: {
      source: 'training',
      description: `Means and sample SDs (n-1) of the training cohort (${trainIds.length} studies) that the model was fitted on.`,
      n: trainIds.length,
      date: now,
      ...(opts.featuresHash ? { data: opts.featuresHash } : {}),
    },
    extraction: opts.extraction,
    probability: combined.model.probability,
    provenance: {
      source: 'osteoscreen train',
      created: now,
      software: opts.software,
      trainingN: trainIds.length,
      trainingAbnormal: nAbTrain,
      auc: trainEval.metrics.combined?.auc ?? null,
      aucCohort: 'training',
      lambda: combined.lambda,
      lambdaRule: combined.lambdaChoice,
      family: opts.family,
      seed: opts.seed,
      cutoffs: Object.fromEntries(cohorts.flatMap((c) => (c.metrics.combined ? [[c.name, c.metrics.combined.cutoff]] : []))),
      notes: [
        `split: ${opts.split.kind === 'random' ? `stratified random ${opts.split.fraction}/${(1 - opts.split.fraction).toFixed(2)} (seed ${opts.seed})` : opts.split.kind === 'none' ? 'none (all rows trained)' : `column ${opts.split.column}`}`,
        `features: ${filter.candidates} candidates, ${filter.kept.length} after filters${filter.iccThreshold !== null ? ` (ICC(2,1) > ${filter.iccThreshold})` : ''}`,
        `coordinate descent: thresh ${opts.thresh ?? DEFAULT_THRESH}`,
        ...warnings,
      ],
    },
    labels: { '0': 'normal bone mass', '1': 'abnormal bone mass (osteopenia or osteoporosis)' },
  };
  if (fits.t1 || fits.t2) {
    unhashed.singleSequence = {};
    if (fits.t1) unhashed.singleSequence.t1 = { ...fits.t1.model, probability: fits.t1.model.probability! };
    if (fits.t2) unhashed.singleSequence.t2 = { ...fits.t2.model, probability: fits.t2.model.probability! };
  }
  const model = finaliseModel(unhashed);
  return { model, fits, cohorts, filter, counts, split, dropped, warnings };
}

export function sha256File(text: string | Buffer): string {
  return 'sha256:' + createHash('sha256').update(text).digest('hex');
}

