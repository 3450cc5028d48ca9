export * from './types.js';
export { buildSr, COMPREHENSIVE_SR_SOP_CLASS } from './sr.js';
export { buildSummaryImage, buildSummaryImageWithPreview, SECONDARY_CAPTURE_SOP_CLASS } from './summary.js';
export { outputUids, OUTPUT_SERIES_NUMBER, type OutputKind, type OutputUids } from './uids.js';
export { buildSeg, SEGMENTATION_SOP_CLASS, type SegInput } from './seg.js';
