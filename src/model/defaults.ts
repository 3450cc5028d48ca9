import type { Extraction } from './schema.js';

/**
 * The product's feature-extraction settings (the same as the shipped paper model and the radiomics
 * reference parameters, shared/radiomics-baseline/reference/params.yaml). `osteoscreen train` writes these
 * into a new model unless `--extraction FILE.json` names others (the settings the feature table was made with).
 */
export const DEFAULT_EXTRACTION: Extraction = {
  imageTypes: {
    Original: {},
    LoG: { sigma: [1, 2, 3, 4, 5] },
    Wavelet: { wavelet: 'coif1', start_level: 0, level: 1 },
    BoxSigmaImage: { radius: 1 },
    AdditiveGaussianNoise: { mean: 0, standardDeviation: 1, seed: 42, numberOfWorkUnits: 1 },
  },
  featureClasses: ['shape', 'firstorder', 'glcm', 'glrlm', 'glszm', 'gldm', 'ngtdm'],
  settings: {
    binWidth: 25,
    label: 1,
    voxelArrayShift: 0,
    padDistance: 5,
    distances: [1],
    symmetricalGLCM: true,
    gldm_a: 0,
    weightingNorm: null,
    normalize: false,
    resampledPixelSpacing: null,
    force2D: false,
  },
  roi: {
    vertebrae: ['L1', 'L2', 'L3', 'L4'],
    slicesPerBody: 3,
    erosionMm: 1.5,
    combine: 'union',
    description:
      'L1-L4 vertebral bodies on both sequences; per body the mid-sagittal slice of the body and one slice on each side; each body mask eroded by 1.5 mm to exclude the cortical rim; the bodies form one ROI (label 1) per sequence.',
  },
};
