/** Public surface of the radiomics engine (PyRadiomics-compatible). */
export type { PixelType, RImage, RMask } from './image.js';
export {
  extractFeatures,
  prepareRoi,
  extractPrepared,
  imageTypeNeeded,
  type PreparedRoi,
  arrayHash,
  ENGINE_VERSION,
  type ExtractOptions,
  type ExtractResult,
} from './extractor.js';
export {
  loadParams,
  settingsFromObject,
  defaultSettings,
  pyradiomicsDefaults,
  withSetting,
  DEFAULT_PARAMS_OBJECT,
  FEATURE_CLASS_NAMES,
  KNOWN_IMAGE_TYPES,
  settingSchema,
  settingsDocsMarkdown,
  type RadiomicsSettings,
  type Setting,
  type FeatureClassName,
} from './settings.js';
export { FEATURE_CLASSES, IMAGE_CLASSES, featureNames, featureDocsMarkdown } from './features/index.js';
export { discretize, binEdges, type Discretized } from './binning.js';
export { RoiError } from './preprocess.js';
export { createRadiomicsPool, extractFeaturesParallel, splitJobs, type RadiomicsPool } from './parallel.js';
