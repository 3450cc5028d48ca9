/**
 * Public surface of the segmentation module (stable API for the pipeline/service):
 *
 *   const seg = await Segmenter.load(modelPath, { threads: 2 });      // once per process (cached)
 *   const classes = await seg.segment(vol);                            // LabelMap on vol's grid:
 *                                                                      //   0 bg, 1 body, 2 sacrum, 3 CSF, 4 fat
 *   const res = await analyseSpine(t1, t2, { segmenter: seg, erosionMm: 1.5 });
 *   if (res.ok) {
 *     res.levels          // [{ level: 'L1'..'L4', label, volumeMm3, centroid (LPS mm), midSlice }]
 *     res.t1Levels        // LabelMap, L1=1..L5=5, T12=12, T11=11, T10=10, S1=20 on the T1 grid
 *     res.t1Roi           // LabelMap, ROI 1..4 = L1..L4 on the T1 grid (t2Roi on the T2 grid)
 *     roiMask(res.t1Roi, 'all')  // one binary mask (label 1) pooling L1-L4, as in the reference study
 *   } else res.reason     // why the study is not assessable (QA gate)
 *
 *   analyseSeries(vol, seg, 'T1' | 'T2' | undefined, opts)  // one series: levels, ROI, checks
 */
export { Segmenter, CLASS, N_CLASSES, MODEL_SPACING, MODEL_CHANNELS, type SegmenterOptions } from './segmenter.js';
export { analyseSpine, analyseSeries, crossGridDice, type SpineResult, type SpineLevel, type SeriesAnalysis, type LevelSummary, type AnalyseOptions, type Sequence } from './analyse.js';
export { labelLevels, LEVEL_LABEL, LUMBAR_LEVELS, type BodyInfo, type EvidenceMark, type LevelResult, type LevelOptions, type LumbarLevel } from './levels/index.js';
export { roiMask, buildRoi, erodeSlice, bodyShape, ROI_LEVELS, type RoiLevel, type RoiResult } from './roi.js';
export { connectedComponents, type Component, type Components } from './components.js';
export { PLAUSIBLE } from './qa-limits.js';
export { CONTRAST, contrastContradiction, pairContradiction, type ContrastRatios } from './contrast.js';
export { loadSeries } from './io.js';
