/** Public surface of the radscore model module. */
export * from './schema.js';
export { loadModel, parseModel, saveModel, modelHash, finaliseModel, canonicalJson } from './load.js';
export { scoreStudy, requiredFeatures, isNotAssessable, uncalibratedNotice, linearScore, outOfRangeTerms, scoreOptionsFrom, formatZ, NOT_INTERPRETABLE_TEXT, DEFAULT_MAX_ABS_Z, DEFAULT_RANGE_MARGIN_SD } from './score.js';
export type { ScoreResult, ScoreOutcome, NotAssessableScore, TermContribution, StudyFeatures, ScoreOptions, ModelRef, OutOfRangeTerm } from './score.js';
export { DEFAULT_EXTRACTION } from './defaults.js';
export { radiomicsSettingsOf, roiSpecOf, roiConfigConflict } from './extraction.js';
export { calibrateModel, termStatistics, median, MAD_SCALE, type CalibrationStatistics, type CalibrateOptions, type CalibrateResult } from './calibrate.js';
export { trainModel, stratifiedSplit, joinCohort } from './train.js';
export { evaluateCohort, modelsOf, HOSMER_LEMESHOW_METHOD } from './evaluate.js';
export { deriveLabel, parseLabels, readLabels, labelCounts } from './labels.js';
export type { LabelRow, LabelCounts } from './labels.js';
export { parseFeatureTable, readFeatureTable, formatFeatureTable, writeFeatureTable, rowFeatures } from './table.js';
export type { FeatureTable } from './table.js';
export { syntheticCohort, labelsCsv } from './synthetic.js';
