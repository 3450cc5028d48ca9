/**
 * Image/mask preprocessing as PyRadiomics' extractor does it: mask check (geometry, label, dimensions, size),
 * mask correction, whole-image normalisation, resampling, resegmentation.
 */
import { OsteoError } from '../common/errors.js';
import type { Geometry, Vec3 } from '../volume/types.js';
import { indexToPoint, pointToIndex } from '../volume/types.js';
import type { RImage, RMask } from './image.js';
import { boundingBox, bboxSize, type BBox } from './roi.js';
import type { Setting } from './settings.js';

/** A binary ROI on an image grid. */
export interface BinaryMask extends Geometry {
  data: Uint8Array;
}

export class RoiError extends OsteoError {
  constructor(message: string) {
    super('radiomics-roi', message, 422);
    this.name = 'RoiError';
  }
}

/** SimpleITK-style geometry comparison (coordinate tolerance relative to the first spacing). */
export function geometryMismatch(a: Geometry, b: Geometry, tolerance: number | null): string | null {
  const coordTol = (tolerance ?? 1e-6) * a.spacing[0];
  const dirTol = tolerance ?? 1e-6;
  for (let k = 0; k < 3; k++) if (a.dims[k] !== b.dims[k]) return `size ${a.dims.join('x')} vs ${b.dims.join('x')}`;
  for (let k = 0; k < 3; k++) {
    if (Math.abs(a.origin[k] - b.origin[k]) > coordTol) return `origin ${a.origin.join(',')} vs ${b.origin.join(',')}`;
    if (Math.abs(a.spacing[k] - b.spacing[k]) > coordTol) return `spacing ${a.spacing.join(',')} vs ${b.spacing.join(',')}`;
  }
  for (let k = 0; k < 9; k++) if (Math.abs(a.direction[k] - b.direction[k]) > dirTol) return 'direction differs';
  return null;
}

/** Voxels equal to `label` → 0/1. */
export function labelMask(mask: RMask, label: number): BinaryMask {
  const out = new Uint8Array(mask.data.length);
  let any = false;
  for (let i = 0; i < out.length; i++) {
    if (mask.data[i] === label) {
      out[i] = 1;
      any = true;
    }
  }
  if (!any) {
    const present = new Set<number>();
    for (let i = 0; i < mask.data.length && present.size < 20; i++) if (mask.data[i]) present.add(mask.data[i]!);
    if (present.size === 0) throw new RoiError('No labels found in this mask (i.e. nothing is segmented)');
    throw new RoiError(`Label (${label}) not present in mask. Choose from [${[...present].sort((x, y) => x - y).join(', ')}]`);
  }
  return { dims: [...mask.dims] as Vec3, spacing: [...mask.spacing] as Vec3, origin: [...mask.origin] as Vec3, direction: [...mask.direction] as Geometry['direction'], data: out };
}

/** Nearest-neighbour resampling of a binary mask onto `target`'s grid (PyRadiomics correctMask). */
export function resampleMaskNearest(mask: BinaryMask, target: Geometry): BinaryMask {
  const [nx, ny, nz] = target.dims;
  const out = new Uint8Array(nx * ny * nz);
  const [mx, my, mz] = mask.dims;
  let i = 0;
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) {
    const c = pointToIndex(mask, indexToPoint(target, x, y, z));
    const ix = Math.round(c[0]), iy = Math.round(c[1]), iz = Math.round(c[2]);
    if (ix >= 0 && iy >= 0 && iz >= 0 && ix < mx && iy < my && iz < mz) out[i] = mask.data[ix + iy * mx + iz * mx * my]!;
  }
  return { ...target, dims: [...target.dims] as Vec3, data: out };
}

/** Check that the ROI (inside the mask's physical bounds) lies within the image (PyRadiomics _checkROI). */
export function checkRoiInsideImage(image: Geometry, mask: BinaryMask): void {
  const bb = boundingBox(mask.data, mask.dims);
  if (!bb) throw new RoiError('ROI is empty');
  const lo = pointToIndex(image, indexToPoint(mask, bb.lo[0] - 0.5, bb.lo[1] - 0.5, bb.lo[2] - 0.5));
  const hi = pointToIndex(image, indexToPoint(mask, bb.hi[0] + 0.5, bb.hi[1] + 0.5, bb.hi[2] + 0.5));
  const tol = 1e-3;
  for (let k = 0; k < 3; k++) {
    if (Math.min(lo[k]!, hi[k]!) < -0.5 - tol || Math.max(lo[k]!, hi[k]!) > image.dims[k] - 0.5 + tol) {
      throw new RoiError('Bounding box of ROI is larger than image space');
    }
  }
}

/** PyRadiomics checkMask: bounding box, minimum dimensionality and size. */
export function checkMask(mask: BinaryMask, setting: Setting): { bbox: BBox; count: number } {
  const bbox = boundingBox(mask.data, mask.dims);
  if (!bbox) throw new RoiError(`Label (${setting.label}) not present in mask`);
  const ndims = bboxSize(bbox).filter((s) => s > 1).length;
  if (ndims === 0) throw new RoiError('mask only contains 1 segmented voxel! Cannot extract features for a single voxel.');
  if (ndims < setting.minimumROIDimensions) {
    throw new RoiError(`mask has too few dimensions (number of dimensions ${ndims}, minimum required ${setting.minimumROIDimensions})`);
  }
  let count = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) count++;
  if (setting.minimumROISize !== null && count <= setting.minimumROISize) {
    throw new RoiError(`Size of the ROI is too small (minimum size: ${setting.minimumROISize}, ROI size: ${count})`);
  }
  return { bbox, count };
}

/**
 * sitk.Normalize on the whole image (mean 0, SD 1 with the n−1 variance), optional outlier clamp at ±n, then scale.
 */
export function normalizeImage(image: RImage, setting: Pick<Setting, 'normalizeScale' | 'removeOutliers'>): RImage {
  const d = image.data;
  const n = d.length;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    s += d[i]!;
    s2 += d[i]! * d[i]!;
  }
  const mean = s / n;
  const sigma = Math.sqrt((s2 - (s * s) / n) / (n - 1));
  const out = new Float64Array(n);
  const o = setting.removeOutliers;
  for (let i = 0; i < n; i++) {
    let v = (d[i]! - mean) / sigma;
    if (o !== null) v = v > o ? o : v < -o ? -o : v;
    out[i] = v * setting.normalizeScale;
  }
  return { ...image, data: out, pixelType: 'float64' };
}

/** PyRadiomics resegmentMask: keep ROI voxels with lower ≤ value (≤ upper). */
export function resegmentMask(image: RImage, mask: BinaryMask, setting: Setting): BinaryMask {
  const range = setting.resegmentRange;
  if (!range) return mask;
  const vals: number[] = [];
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) vals.push(image.data[i]!);
  const sorted = [...range].sort((a, b) => a - b);
  let th: number[];
  if (setting.resegmentMode === 'absolute') th = sorted;
  else if (setting.resegmentMode === 'relative') {
    const mx = Math.max(...vals);
    th = sorted.map((t) => mx * t);
  } else {
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    th = sorted.map((t) => mean + sd * t);
  }
  const out = new Uint8Array(mask.data.length);
  let n = 0;
  for (let i = 0; i < out.length; i++) {
    if (!mask.data[i]) continue;
    const v = image.data[i]!;
    if (v >= th[0]! && (th.length < 2 || v <= th[1]!)) {
      out[i] = 1;
      n++;
    }
  }
  if (n <= 1) throw new RoiError(`Resegmentation excluded too many voxels with label ${setting.label} (retained ${n} voxel(s))! Cannot extract features`);
  return { ...mask, data: out };
}
