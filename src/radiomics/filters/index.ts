/**
 * Radiomics image filters (PyRadiomics imageoperations equivalents). Each filter is a pure function over typed
 * arrays plus a generator yielding `{ image, name, kwargs }` with PyRadiomics' image type names.
 */
import type { RImage } from '../image.js';
import { boxSigmaImages } from './boxsigma.js';
import { gradientImages } from './gradient.js';
import { logImages } from './log.js';
import { additiveGaussianNoiseImages } from './noise.js';
import { exponentialImages, logarithmImages, squareImages, squareRootImages } from './pointwise.js';
import type { DerivedImage } from './types.js';
import { waveletImages } from './wavelet.js';

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
  recursiveGaussianCoefficients,
  filterDataArray,
  recursivePass,
  type LoGOptions,
  type RecursiveCoefficients,
  type GaussianOrder,
} from './log.js';
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

/** PyRadiomics getOriginalImage: yields the input unchanged as `original`. */
export function* originalImages(img: RImage, opts: Record<string, unknown> = {}): Generator<DerivedImage> {
  yield { image: img, name: 'original', kwargs: { ...opts } };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyGenerator = (img: RImage, opts: any) => Generator<DerivedImage>;

/**
 * Image types by their PyRadiomics parameter-file key (`imageType:` section of params.yaml), including the two
 * additions of the reference study (BoxSigmaImage, AdditiveGaussianNoise).
 */
export const IMAGE_TYPES: Readonly<Record<string, AnyGenerator>> = {
  Original: originalImages,
  LoG: logImages,
  Wavelet: waveletImages,
  Square: squareImages,
  SquareRoot: squareRootImages,
  Logarithm: logarithmImages,
  Exponential: exponentialImages,
  Gradient: gradientImages,
  BoxSigmaImage: boxSigmaImages,
  AdditiveGaussianNoise: additiveGaussianNoiseImages,
};
