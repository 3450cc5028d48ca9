/**
 * Laplacian of Gaussian as ITK `LaplacianRecursiveGaussianImageFilter` (used by PyRadiomics `getLoGImage`).
 *
 * Deriche's 4th-order recursive (IIR) approximation of the Gaussian and its second derivative (recursive-gaussian.ts:
 * itkRecursiveGaussianImageFilter, run line by line as in itkRecursiveSeparableImageFilter, causal + anti-causal
 * pass, borders extended with the edge value). For each axis d: second derivative along d on the input, then
 * zero-order smoothing along the other axes in increasing order; the results are accumulated as
 * `acc + b / spacing[d]^2`. Sigma is in mm (sigma / spacing per axis), NormalizeAcrossScale multiplies the second
 * derivative by sigma^2. Intermediate images are single precision (ITK's InternalRealType = float), each line
 * is filtered in double; the output is float32 (stored here as Float64Array of float32 values).
 */
import { logger } from '../../common/log.js';
import type { RImage } from '../image.js';
import type { Vec3 } from '../../volume/types.js';
import { type DerivedImage, withData } from './types.js';
import { recursiveGaussianCoefficients, recursivePass } from './recursive-gaussian.js';

const log = logger('radiomics.filters');

/**
 * ITK LaplacianRecursiveGaussianImageFilter (3-D) on a voxel array; sigma in mm. Returns float32 values in a
 * Float64Array.
 */
export function laplacianRecursiveGaussian(
  data: ArrayLike<number>,
  dims: Vec3,
  spacing: Vec3,
  sigma: number,
  normalizeAcrossScale = true,
): Float64Array {
  const n = dims[0] * dims[1] * dims[2];
  const input = data instanceof Float64Array ? data : Float64Array.from(data);
  const acc = new Float64Array(n); // float32 values
  const tmp = new Float64Array(n);
  const deriv = [0, 1, 2].map((d) => recursiveGaussianCoefficients(sigma, spacing[d]!, 2, normalizeAcrossScale));
  const smooth = [0, 1, 2].map((d) => recursiveGaussianCoefficients(sigma, spacing[d]!, 0, normalizeAcrossScale));
  for (let dim = 0 as 0 | 1 | 2; dim < 3; dim = (dim + 1) as 0 | 1 | 2) {
    recursivePass(input, tmp, dims, dim, deriv[dim]!);
    for (let j = 0 as 0 | 1 | 2; j < 3; j = (j + 1) as 0 | 1 | 2) {
      if (j === dim) continue;
      recursivePass(tmp, tmp, dims, j, smooth[j]!);
    }
    const scale = 1.0 / (spacing[dim]! * spacing[dim]!);
    for (let i = 0; i < n; i++) acc[i] = Math.fround(acc[i]! + tmp[i]! * scale);
  }
  return acc;
}

export interface LoGOptions {
  /** Sigma values in mm (PyRadiomics setting `sigma`). Required: none given → no images. */
  sigma?: number[];
  [key: string]: unknown;
}

/** PyRadiomics' name for a LoG image: `log-sigma-<str(sigma) with . → ->-mm-3D`. */
export function logImageName(sigma: number): string {
  // Python str() of a float: integers print with ".0"
  const s = Number.isInteger(sigma) ? `${sigma}.0` : String(sigma);
  return `log-sigma-${s.replace(/\./g, '-')}-mm-3D`;
}

/**
 * PyRadiomics getLoGImage's size checks, warnings and names, one image per sigma; `compute(sigma)` gives the
 * filtered image (the whole image here, or only the ROI box: see the filter registry).
 */
export function* logImagesWith(img: RImage, opts: LoGOptions, compute: (sigma: number) => RImage): Generator<DerivedImage> {
  const size = img.dims;
  const spacing = img.spacing;
  if (Math.min(...size) < 4) {
    log.warn('Image too small to apply LoG filter', { size });
    return;
  }
  for (const sigma of opts.sigma ?? []) {
    if (!(sigma > 0.0)) {
      log.warn('applyLoG: sigma must be greater than 0.0', { sigma });
      continue;
    }
    if (![0, 1, 2].every((d) => size[d]! >= Math.ceil(sigma / spacing[d]!) + 1)) {
      log.warn('applyLoG: sigma/spacing + 1 must be greater than the size of the inputImage', { sigma, spacing, size });
      continue;
    }
    yield { image: compute(sigma), name: logImageName(sigma), kwargs: { ...opts } };
  }
}

/** PyRadiomics getLoGImage on the whole image. */
export function logImages(img: RImage, opts: LoGOptions = {}): Generator<DerivedImage> {
  return logImagesWith(img, opts, (sigma) => withData(img, laplacianRecursiveGaussian(img.data, img.dims, img.spacing, sigma, true), 'float32'));
}
