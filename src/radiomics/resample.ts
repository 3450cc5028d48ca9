/**
 * Resampling as PyRadiomics `imageoperations.resampleImage` with SimpleITK's ResampleImageFilter:
 * the grid is aligned to the mask origin, covers the ROI bounding box ± padDistance, image interpolated with
 * NearestNeighbor / Linear / BSpline (ITK cubic B-spline, mirror boundary), mask with nearest neighbour.
 * Points outside the input get 0; interpolated values are cast to the input pixel type as ITK does (clamp + truncate).
 */
import type { Geometry, Mat3, Vec3 } from '../volume/types.js';
import { indexToPoint, pointToIndex } from '../volume/types.js';
import { PIXEL_RANGE, isIntegerType } from './filters/types.js';
import type { RImage } from './image.js';
import { checkRoiInsideImage, type BinaryMask } from './preprocess.js';
import { bboxSize, boundingBox } from './roi.js';
import type { Setting } from './settings.js';

type Interp = 'BSpline' | 'Linear' | 'NearestNeighbor';

/** ITK continuous-index inside-buffer test. */
function inside(c: Vec3, dims: Vec3): boolean {
  for (let k = 0; k < 3; k++) if (!(c[k]! >= -0.5 && c[k]! < dims[k]! - 0.5)) return false;
  return true;
}

function roundHalfUp(x: number): number {
  return Math.floor(x + 0.5);
}

function nearestAt(img: { data: ArrayLike<number>; dims: Vec3 }, c: Vec3): number {
  const [nx, ny] = img.dims;
  const ix = Math.min(img.dims[0] - 1, Math.max(0, roundHalfUp(c[0])));
  const iy = Math.min(img.dims[1] - 1, Math.max(0, roundHalfUp(c[1])));
  const iz = Math.min(img.dims[2] - 1, Math.max(0, roundHalfUp(c[2])));
  return img.data[ix + iy * nx + iz * nx * ny]!;
}

function linearAt(img: { data: ArrayLike<number>; dims: Vec3 }, c: Vec3): number {
  const [nx, ny, nz] = img.dims;
  const b = [Math.floor(c[0]), Math.floor(c[1]), Math.floor(c[2])];
  const f = [c[0] - b[0]!, c[1] - b[1]!, c[2] - b[2]!];
  const clampI = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);
  let s = 0;
  for (let k = 0; k < 8; k++) {
    const dx = k & 1, dy = (k >> 1) & 1, dz = (k >> 2) & 1;
    const w = (dx ? f[0]! : 1 - f[0]!) * (dy ? f[1]! : 1 - f[1]!) * (dz ? f[2]! : 1 - f[2]!);
    if (w === 0) continue;
    const x = clampI(b[0]! + dx, nx), y = clampI(b[1]! + dy, ny), z = clampI(b[2]! + dz, nz);
    s += w * img.data[x + y * nx + z * nx * ny]!;
  }
  return s;
}

/** ITK BSplineDecompositionImageFilter, order 3: coefficients along every axis of length > 1. */
export function bsplineCoefficients(data: ArrayLike<number>, dims: Vec3): Float64Array {
  const c = Float64Array.from(data);
  const z = Math.sqrt(3) - 2;
  const tol = 1e-10;
  const gain = (1 - z) * (1 - 1 / z);
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let axis = 0; axis < 3; axis++) {
    const n = dims[axis]!;
    if (n === 1) continue;
    const st = strides[axis]!;
    const line = new Float64Array(n);
    const others = [0, 1, 2].filter((a) => a !== axis);
    for (let b = 0; b < dims[others[1]!]!; b++) {
      for (let a = 0; a < dims[others[0]!]!; a++) {
        const base = a * strides[others[0]!]! + b * strides[others[1]!]!;
        for (let i = 0; i < n; i++) line[i] = c[base + i * st]! * gain;
        // causal initialisation
        let horizon = n;
        horizon = Math.ceil(Math.log(tol) / Math.log(Math.abs(z)));
        if (horizon < n) {
          let zn = z;
          let sum = line[0]!;
          for (let i = 1; i < horizon; i++) {
            sum += zn * line[i]!;
            zn *= z;
          }
          line[0] = sum;
        } else {
          let zn = z;
          const iz = 1 / z;
          let z2n = Math.pow(z, n - 1);
          let sum = line[0]! + z2n * line[n - 1]!;
          z2n *= z2n * iz;
          for (let i = 1; i <= n - 2; i++) {
            sum += (zn + z2n) * line[i]!;
            zn *= z;
            z2n *= iz;
          }
          line[0] = sum / (1 - zn * zn);
        }
        for (let i = 1; i < n; i++) line[i]! += z * line[i - 1]!;
        line[n - 1] = (z / (z * z - 1)) * (z * line[n - 2]! + line[n - 1]!);
        for (let i = n - 2; i >= 0; i--) line[i] = z * (line[i + 1]! - line[i]!);
        for (let i = 0; i < n; i++) c[base + i * st] = line[i]!;
      }
    }
  }
  return c;
}

function bsplineAt(coef: Float64Array, dims: Vec3, c: Vec3): number {
  const idx: number[][] = [];
  const wts: number[][] = [];
  for (let d = 0; d < 3; d++) {
    const n = dims[d]!;
    const x = c[d]!;
    const start = Math.floor(x) - 1;
    const w = x - (start + 1);
    const w3 = (1 / 6) * w * w * w;
    const w0 = 1 / 6 + 0.5 * w * (w - 1) - w3;
    const w2 = w + w0 - 2 * w3;
    const w1 = 1 - w0 - w2 - w3;
    wts.push([w0, w1, w2, w3]);
    const ii: number[] = [];
    for (let k = 0; k < 4; k++) {
      let v = start + k;
      if (n === 1) v = 0;
      else {
        const n2 = 2 * n - 2;
        if (v < 0) v = -v - n2 * Math.floor(-v / n2);
        if (v >= n) {
          v = v - n2 * Math.floor(v / n2);
          if (v >= n) v = n2 - v;
        }
      }
      ii.push(v);
    }
    idx.push(ii);
  }
  const [nx, ny] = dims;
  let s = 0;
  for (let kz = 0; kz < 4; kz++) {
    for (let ky = 0; ky < 4; ky++) {
      const wyz = wts[1]![ky]! * wts[2]![kz]!;
      const row = idx[1]![ky]! * nx + idx[2]![kz]! * nx * ny;
      for (let kx = 0; kx < 4; kx++) s += wts[0]![kx]! * wyz * coef[idx[0]![kx]! + row]!;
    }
  }
  return s;
}

/** Resample `img` onto the grid `g` with the given interpolator (ITK ResampleImageFilter semantics). */
export function resampleOnto(img: RImage, g: Geometry, interp: Interp): RImage {
  const [nx, ny, nz] = g.dims;
  const out = new Float64Array(nx * ny * nz);
  const coef = interp === 'BSpline' ? bsplineCoefficients(img.data, img.dims) : null;
  const integer = isIntegerType(img.pixelType);
  const [lo, hi] = PIXEL_RANGE[img.pixelType];
  let i = 0;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const c = pointToIndex(img, indexToPoint(g, x, y, z));
    if (!inside(c, img.dims)) continue;
    let v = interp === 'NearestNeighbor' ? nearestAt(img, c) : interp === 'Linear' ? linearAt(img, c) : bsplineAt(coef!, img.dims, c);
    if (v < lo) v = lo;
    else if (v > hi) v = hi;
    if (integer) v = Math.trunc(v) + 0;
    else if (img.pixelType === 'float32') v = Math.fround(v);
    out[i] = v;
  }
  return { ...g, data: out, pixelType: img.pixelType };
}

function resampleMask(mask: BinaryMask, g: Geometry): BinaryMask {
  const [nx, ny, nz] = g.dims;
  const out = new Uint8Array(nx * ny * nz);
  let i = 0;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const c = pointToIndex(mask, indexToPoint(g, x, y, z));
    if (inside(c, mask.dims)) out[i] = nearestAt(mask, c);
  }
  return { ...g, data: out };
}

/** PyRadiomics resampleImage: returns the resampled (and cropped) image and mask. */
export function resampleImageAndMask(image: RImage, mask: BinaryMask, s: Setting): { image: RImage; mask: BinaryMask } {
  const req = s.resampledPixelSpacing!;
  checkRoiInsideImage(image, mask);
  const bb = boundingBox(mask.data, mask.dims)!;
  const size = bboxSize(bb);
  const ms = mask.spacing;
  const sp: Vec3 = [0, 1, 2].map((k) => (req[k] === 0 || size[k] === 1 ? ms[k]! : req[k]!)) as Vec3;
  const pad = s.padDistance;
  const allclose = [0, 1, 2].every((k) => Math.abs(image.spacing[k]! - sp[k]!) <= 1e-8 + 1e-5 * Math.abs(sp[k]!));
  if (allclose) {
    const m = resampleMask(mask, image);
    const b = boundingBox(m.data, m.dims);
    if (!b) return { image, mask: m };
    const lo: Vec3 = [0, 0, 0];
    const dims: Vec3 = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      lo[k] = Math.max(b.lo[k]! - pad, 0);
      dims[k] = Math.min(b.hi[k]! + pad, image.dims[k]! - 1) - lo[k]! + 1;
    }
    const g: Geometry = { dims, spacing: [...image.spacing] as Vec3, origin: indexToPoint(image, lo[0], lo[1], lo[2]), direction: [...image.direction] as Mat3 };
    return { image: resampleOnto(image, g, 'NearestNeighbor'), mask: resampleMask(m, g) };
  }
  const ratio = [0, 1, 2].map((k) => ms[k]! / sp[k]!);
  const L: number[] = [], U: number[] = [];
  for (let k = 0; k < 3; k++) {
    let l = Math.floor((bb.lo[k]! - 0.5) * ratio[k]! - pad);
    let u = Math.ceil((bb.lo[k]! + size[k]! - 0.5) * ratio[k]! + pad);
    const maxU = Math.ceil(mask.dims[k]! * ratio[k]!) - 1;
    if (l < 0) l = 0;
    if (u > maxU) u = maxU;
    L.push(l);
    U.push(u);
  }
  const dims = [0, 1, 2].map((k) => U[k]! - L[k]! + 1) as Vec3;
  const originIdx = [0, 1, 2].map((k) => (0.5 * (sp[k]! - ms[k]!)) / ms[k]! + L[k]! / ratio[k]!);
  const g: Geometry = { dims, spacing: sp, origin: indexToPoint(mask, originIdx[0]!, originIdx[1]!, originIdx[2]!), direction: [...mask.direction] as Mat3 };
  return { image: resampleOnto(image, g, s.interpolator), mask: resampleMask(mask, g) };
}
