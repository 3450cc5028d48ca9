export { writeMrSeries, uid, type MrSeriesOptions } from '../../src/bench/synthetic-mr.js';
