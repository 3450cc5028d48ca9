/**
 * Gradient magnitude as ITK GradientMagnitudeImageFilter via SimpleITK `GradientMagnitude` (PyRadiomics
 * getGradientImage): central differences with operator [0.5, 0, -0.5]·(1/spacing) per axis (when
 * useImageSpacing), zero-flux Neumann borders (edge voxel repeated), sqrt(sum of squares) in double,
 * output float32.
 */
import type { RImage } from '../image.js';
import type { Vec3 } from '../../volume/types.js';
import { type DerivedImage, withData } from './types.js';

export function gradientMagnitudeData(
  data: ArrayLike<number>,
  dims: Vec3,
  spacing: Vec3,
  useImageSpacing = true,
): Float64Array {
  const [nx, ny, nz] = dims;
  const out = new Float64Array(nx * ny * nz);
  const coef = [0, 1, 2].map((d) => {
    const s = useImageSpacing ? 1.0 / spacing[d]! : 1.0;
    return [0.5 * s, 0 * s, -0.5 * s] as const;
  });
  const sxy = nx * ny;
  for (let z = 0; z < nz; z++) {
    const zm = z > 0 ? -sxy : 0;
    const zp = z < nz - 1 ? sxy : 0;
    for (let y = 0; y < ny; y++) {
      const ym = y > 0 ? -nx : 0;
      const yp = y < ny - 1 ? nx : 0;
      for (let x = 0; x < nx; x++) {
        const xm = x > 0 ? -1 : 0;
        const xp = x < nx - 1 ? 1 : 0;
        const i = x + nx * (y + ny * z);
        const c = data[i]!;
        const cx = coef[0]!;
        const cy = coef[1]!;
        const cz = coef[2]!;
        const gx = cx[0] * data[i + xm]! + cx[1] * c + cx[2] * data[i + xp]!;
        const gy = cy[0] * data[i + ym]! + cy[1] * c + cy[2] * data[i + yp]!;
        const gz = cz[0] * data[i + zm]! + cz[1] * c + cz[2] * data[i + zp]!;
        let a = 0;
        a += gx * gx;
        a += gy * gy;
        a += gz * gz;
        out[i] = Math.fround(Math.sqrt(a));
      }
    }
  }
  return out;
}

export interface GradientOptions {
  /** PyRadiomics `gradientUseSpacing` (default true). */
  gradientUseSpacing?: boolean;
  [key: string]: unknown;
}

export function* gradientImages(img: RImage, opts: GradientOptions = {}): Generator<DerivedImage> {
  const data = gradientMagnitudeData(img.data, img.dims, img.spacing, opts.gradientUseSpacing ?? true);
  yield { image: withData(img, data, 'float32'), name: 'gradient', kwargs: { ...opts } };
}
