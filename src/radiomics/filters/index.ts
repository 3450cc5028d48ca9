/**
 * Radiomics image filters (PyRadiomics imageoperations equivalents). Each filter is a pure function over typed
 * arrays plus a generator yielding `{ image, name, kwargs }` with PyRadiomics' image type names.
 */
import type { RImage } from '../image.js';
import { IMAGE_TYPE_REGISTRY } from './registry.js';
import type { DerivedImage } from './types.js';

export * from './types.js';
export { boxSigma, boxSigmaFloat, boxSigmaImages, type BoxSigmaOptions } from './boxsigma.js';
export {
  additiveGaussianNoise,
  additiveGaussianNoiseFloat,
  additiveGaussianNoiseImages,
  NormalVariateGenerator,
  noiseRegionSeed,
  type AdditiveGaussianNoiseOptions,
} from './noise.js';
export {
  laplacianRecursiveGaussian,
  logImageName,
  logImages,
  logImagesWith,
  type LoGOptions,
} from './log.js';
export { recursiveGaussianCoefficients, filterDataArray, recursivePass, type RecursiveCoefficients, type GaussianOrder } from './recursive-gaussian.js';
export { WAVELETS, periodizationPlan, swtAxis, waveletBand, waveletImages, type WaveletFilterBank, type WaveletOptions } from './wavelet.js';
export {
  squareData,
  squareRootData,
  logarithmData,
  exponentialData,
  squareImages,
  squareRootImages,
  logarithmImages,
  exponentialImages,
} from './pointwise.js';
export { gradientMagnitudeData, gradientImages, type GradientOptions } from './gradient.js';
export { cropToMask, maskBoundingBox, type BoundingBox } from './crop.js';

export {
  IMAGE_TYPE_OPTIONS,
  IMAGE_TYPE_REGISTRY,
  IMAGE_TYPES,
  KNOWN_IMAGE_TYPES,
  filteredImages,
  imageTypeEntry,
  selectOptions,
  type FilteredImages,
  type ImageTypeEntry,
  type ImageTypeName,
  type RoiBox,
} from './registry.js';
export { filterWindow, type FilterSupport, type FilterWindow } from './window.js';

/** PyRadiomics getOriginalImage: yields the input unchanged as `original`. */
export function originalImages(img: RImage, opts: Record<string, unknown> = {}): Generator<DerivedImage> {
  return IMAGE_TYPE_REGISTRY.Original!.generator(img, opts);
}
