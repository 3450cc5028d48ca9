export { generateStudy, framesGeometry, seriesVolume, seriesLabelMap, DEFAULT_ROLES, type GenerateOptions, type PhantomSeries, type PhantomStudy } from './generate.js';
export { writePhantomStudies, writeStudy, studyDirName, LEVEL_LABELS_DOC, TISSUE_CLASSES_DOC, type StudyManifest, type SeriesManifest, type WriteOptions } from './write.js';
export { Anatomy, drawAnatomy, LEVELS, LEVEL_LABEL, TISSUE_CLASSES, type AnatomyParams, type BoneState, type LevelName } from './anatomy.js';
export { renderFrames, type Contrast, type FrameGeom, type RenderOptions } from './render.js';
export { VENDORS, VENDOR_STYLE, type SeriesRole, type Vendor } from './protocol.js';
export { Rng, uidFrom } from './rng.js';
export { benchmarkPhantom, type PhantomBenchResult } from './bench.js';
