import type { RadscoreModel } from './schema.js';
import { HOSMER_LEMESHOW_METHOD, MODEL_KEYS, coefficientsJson, modelsOf, type CohortEvaluation } from './evaluate.js';
import type { TrainResult } from './train.js';
import type { LabelCounts } from './labels.js';

/**
 * metrics.json (train and evaluate): top-level keys per cohort (`training`, `validation`, `external` as
 * present, or the --cohort name of evaluate), each holding per model (`combined`, `t1`, `t2`) n, auc,
 * auc_ci_lower, auc_ci_upper, cutoff, sensitivity, specificity, accuracy, hosmer_lemeshow_p (+ more), and
 * `delong` (paired tests); `models` holds coefficients and intercept of each model.
 */
export function metricsJson(
  model: RadscoreModel,
  cohorts: CohortEvaluation[],
  extra: { counts?: LabelCounts; train?: TrainResult; settings?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    generated: new Date().toISOString(),
    model: { name: model.name, version: model.version, hash: model.hash, calibrated: model.calibrated, normalisation: model.normalisation.source },
    hosmer_lemeshow_method: HOSMER_LEMESHOW_METHOD,
  };
  if (extra.settings) out.settings = extra.settings;
  if (extra.counts) out.labels = extra.counts;
  for (const c of cohorts) out[c.name] = { ...c.metrics, delong: c.delong, n_total: c.n, not_assessable: c.notAssessable.length };
  const models: Record<string, unknown> = {};
  const ms = modelsOf(model);
  for (const k of MODEL_KEYS) {
    const m = ms[k];
    if (!m) continue;
    const fit = extra.train?.fits[k];
    models[k] = {
      ...coefficientsJson(m),
      ...(fit
        ? { lambda: fit.lambda, lambda_choice: fit.lambdaChoice, lambda_min: fit.cv.lambdaMin, lambda_1se: fit.cv.lambda1se, candidates: fit.columns.length }
        : {}),
      ...(m.probability ? { probability: m.probability } : {}),
    };
  }
  out.models = models;
  if (extra.train) {
    const f = extra.train.filter;
    out.features = {
      candidates: f.candidates,
      missing_in_training: f.missingInTraining.length,
      zero_variance: f.zeroVariance.length,
      icc_threshold: f.iccThreshold,
      icc_n: f.iccN,
      low_icc: f.lowIcc.length,
      not_in_reader2: f.notInReader2.length,
      kept: f.kept.length,
    };
    out.excluded = { no_label_row: extra.train.dropped.noLabel.length, label_not_derivable: extra.train.dropped.labelMissing.length, labels_without_features: extra.train.dropped.noFeatures.length, not_assessable: extra.train.dropped.notAssessed.length };
    out.warnings = extra.train.warnings;
  }
  return out;
}
