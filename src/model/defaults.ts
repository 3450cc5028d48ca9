import { DEFAULT_PARAMS_OBJECT, type FeatureClassName } from '../radiomics/settings.js';
import { DEFAULT_ROI_SPEC } from '../segmentation/roi.js';
import { extractionSchema, type Extraction } from './schema.js';

/**
 * The product's feature-extraction settings in model-file form: the radiomics engine's DEFAULT_PARAMS_OBJECT (the
 * reference parameters, shared/radiomics-baseline/reference/params.yaml) and the segmentation's DEFAULT_ROI_SPEC,
 * so there is one source of each. `osteoscreen train` writes these into a new model unless `--extraction FILE.json`
 * names others (the settings the feature table was made with).
 */
export const DEFAULT_EXTRACTION: Extraction = extractionSchema.parse({
  imageTypes: structuredClone(DEFAULT_PARAMS_OBJECT.imageType),
  featureClasses: Object.keys(DEFAULT_PARAMS_OBJECT.featureClass) as FeatureClassName[],
  settings: structuredClone(DEFAULT_PARAMS_OBJECT.setting),
  roi: {
    vertebrae: [...DEFAULT_ROI_SPEC.vertebrae],
    slicesPerBody: DEFAULT_ROI_SPEC.slicesPerBody,
    erosionMm: DEFAULT_ROI_SPEC.erosionMm,
    combine: 'union',
    description: `L1-L4 vertebral bodies on both sequences; per body the mid-sagittal slice of the body and one slice on each side; each body mask eroded by ${DEFAULT_ROI_SPEC.erosionMm} mm to exclude the cortical rim; the bodies form one ROI (label 1) per sequence.`,
  },
});
