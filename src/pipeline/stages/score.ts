/**
 * Stage 5, score: the radscore of the features (src/model/score.ts), flag or no flag as the config's scoring
 * options say; a missing/NaN term makes the study not assessable, never a partial score.
 */
import type { Config } from '../../config/schema.js';
import { isNotAssessable, scoreOptionsFrom, scoreStudy, type RadscoreModel, type ScoreOutcome } from '../../model/index.js';
import type { StudyFeatureValues } from './features.js';

export interface Scored {
  score: ScoreOutcome;
  /** Why no score could be computed; null: scored. */
  reason: string | null;
}

/** The scoring options of the config (model.requireCalibrated, the out-of-range guard). */
export function scoreOptionsOf(config: Config) {
  return scoreOptionsFrom(config.model);
}

export function scoreStage(model: RadscoreModel, features: StudyFeatureValues, config: Config): Scored {
  const score = scoreStudy(model, features, scoreOptionsOf(config));
  return { score, reason: isNotAssessable(score) ? score.notAssessable : null };
}
