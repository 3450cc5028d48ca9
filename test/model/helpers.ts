export { formatFeatureTable, labelsCsv, loadModel, syntheticCohort } from '../../src/model/index.js';
export { parseCsv as parseCsvForTest } from '../../src/common/csv.js';
