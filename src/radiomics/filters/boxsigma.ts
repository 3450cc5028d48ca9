/**
 * Box standard-deviation filter (ITK BoxSigmaImageFilter, as SimpleITK `BoxSigma`).
 *
 * For each voxel the (2r+1)^3 box is clipped at the image border (no padding); with n voxels inside,
 * S1 = sum, S2 = sum of squares (double), output = sqrt((S2 - S1*S1/n) / (n - 1)), then cast to the input pixel
 * type with C truncation. The one-pass formula is used on purpose (see the radiomics-baseline README).
 */
import type { RImage } from '../image.js';
import type { Vec3 } from '../../volume/types.js';
import { type DerivedImage, truncCastInPlace, withData } from './types.js';

export interface BoxSigmaOptions {
  /** Box radius per axis in voxels (a number = same for all axes). Default 1. */
  radius?: number | Vec3;
}

/** Running sums along one axis of a box of half-width r (clipped), over a 3-D array; in → out. */
function boxSumAxis(src: Float64Array, dst: Float64Array, dims: Vec3, axis: 0 | 1 | 2, r: number): void {
  const [nx, ny, nz] = dims;
  const len = dims[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  const line = new Float64Array(len);
  // iterate over all lines along `axis`
  const outerA = axis === 0 ? ny : nx;
  const outerB = axis === 2 ? ny : nz;
  for (let b = 0; b < outerB; b++) {
    for (let a = 0; a < outerA; a++) {
      const base = axis === 0 ? a * nx + b * nx * ny : axis === 1 ? a + b * nx * ny : a + b * nx;
      for (let i = 0; i < len; i++) line[i] = src[base + i * stride]!;
      for (let i = 0; i < len; i++) {
        const lo = i - r < 0 ? 0 : i - r;
        const hi = i + r >= len ? len - 1 : i + r;
        let s = 0;
        for (let k = lo; k <= hi; k++) s += line[k]!;
        dst[base + i * stride] = s;
      }
    }
  }
}

/** Box-sigma values in double precision (before the cast). */
export function boxSigmaFloat(data: ArrayLike<number>, dims: Vec3, radius: Vec3 = [1, 1, 1]): Float64Array {
  const n = dims[0] * dims[1] * dims[2];
  const s1 = Float64Array.from(data as ArrayLike<number>);
  const s2 = new Float64Array(n);
  for (let i = 0; i < n; i++) s2[i] = s1[i]! * s1[i]!;
  const tmp = new Float64Array(n);
  // Sums are of integers (for integer images) and hence exact in any order; for float images the order
  // differs from ITK's integral image only at the rounding level.
  for (const arr of [s1, s2]) {
    boxSumAxis(arr, tmp, dims, 0, radius[0]);
    boxSumAxis(tmp, arr, dims, 1, radius[1]);
    boxSumAxis(arr, tmp, dims, 2, radius[2]);
    arr.set(tmp);
  }
  const out = new Float64Array(n);
  const [nx, ny, nz] = dims;
  const cnt = (i: number, len: number, r: number) => Math.min(i + r, len - 1) - Math.max(i - r, 0) + 1;
  for (let z = 0; z < nz; z++) {
    const cz = cnt(z, nz, radius[2]);
    for (let y = 0; y < ny; y++) {
      const cy = cnt(y, ny, radius[1]) * cz;
      for (let x = 0; x < nx; x++) {
        const c = cnt(x, nx, radius[0]) * cy;
        const idx = x + nx * (y + ny * z);
        const S1 = s1[idx]!;
        out[idx] = Math.sqrt((s2[idx]! - (S1 * S1) / c) / (c - 1));
      }
    }
  }
  return out;
}

/** Box-sigma image, cast (truncated) to the input pixel type as ITK does. */
export function boxSigma(img: RImage, opts: BoxSigmaOptions = {}): RImage {
  const r = opts.radius ?? 1;
  const radius: Vec3 = typeof r === 'number' ? [r, r, r] : r;
  const out = boxSigmaFloat(img.data, img.dims, radius);
  return withData(img, truncCastInPlace(out, img.pixelType), img.pixelType);
}

/** Generator in the style of PyRadiomics' imageoperations: yields `boxsigmaimage`. */
export function* boxSigmaImages(img: RImage, opts: BoxSigmaOptions = {}): Generator<DerivedImage> {
  yield { image: boxSigma(img, opts), name: 'boxsigmaimage', kwargs: { ...opts } };
}
