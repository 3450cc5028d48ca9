/**
 * Stage 5, score: the radscore of the features (src/model/score.ts), flag or no flag as the config's scoring
 * options say; a missing/NaN term makes the study not assessable, never a partial score.
 */
import type { Config } from '../../config/schema.js';
import { isNotAssessable, scoreOptionsFrom, scoreStudy, type NotAssessableScore, type RadscoreModel, type ScoreResult } from '../../model/index.js';
import type { StudyFeatureValues } from './features.js';

/** The score, or why none could be computed (reason null: scored). */
export type Scored = { score: ScoreResult; reason: null } | { score: NotAssessableScore; reason: string };

/** The scoring options of the config (model.requireCalibrated, the out-of-range guard). */
export function scoreOptionsOf(config: Config) {
  return scoreOptionsFrom(config.model);
}

export function scoreStage(model: RadscoreModel, features: StudyFeatureValues, config: Config): Scored {
  const score = scoreStudy(model, features, scoreOptionsOf(config));
  return isNotAssessable(score) ? { score, reason: score.notAssessable } : { score, reason: null };
}
