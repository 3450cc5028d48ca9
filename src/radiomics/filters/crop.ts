/**
 * Bounding-box cropping as PyRadiomics `cropToTumorMask` (with padDistance, clipped at the image border).
 * Finding (see test/radiomics/filters.test.ts): the reference `filtered/` images and reference/*.json were made by
 * filtering the WHOLE image; PyRadiomics itself crops to bbox ± padDistance (5) before LoG/wavelet, which changes
 * filter values near the crop border. Use `cropToMask` only to reproduce stock PyRadiomics behaviour.
 */
import type { RImage, RMask } from '../image.js';
import type { Geometry, Vec3 } from '../../volume/types.js';
import { indexToPoint } from '../../volume/types.js';
import { boundingBox, cropArray, type BBox } from '../roi.js';

/** Inclusive bounding box in voxel indices (x, y, z). */
export type BoundingBox = BBox;

/** Bounding box of voxels equal to `label`, or null if the label is absent. */
export function maskBoundingBox(mask: RMask, label = 1): BoundingBox | null {
  return boundingBox(mask.data, mask.dims, label);
}

function cropGeometry(g: Geometry, lo: Vec3, size: Vec3): Geometry {
  return { dims: size, spacing: [...g.spacing] as Vec3, origin: indexToPoint(g, lo[0], lo[1], lo[2]), direction: [...g.direction] as Geometry['direction'] };
}

/**
 * Crop image and mask to the label's bounding box ± padDistance voxels (clipped at the border), as PyRadiomics
 * `cropToTumorMask`. Origins are moved so that physical positions are preserved.
 */
export function cropToMask(
  image: RImage,
  mask: RMask,
  padDistance = 0,
  label = 1,
): { image: RImage; mask: RMask; box: BoundingBox } {
  const bb = maskBoundingBox(mask, label);
  if (!bb) throw new RangeError(`label ${label} not present in mask`);
  const lo: Vec3 = [0, 0, 0];
  const size: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const l = Math.max(bb.lo[a]! - padDistance, 0);
    const h = Math.min(bb.hi[a]! + padDistance, image.dims[a]! - 1);
    lo[a] = l;
    size[a] = h - l + 1;
  }
  const geom = cropGeometry(image, lo, size);
  const box: BoundingBox = { lo, hi: [lo[0] + size[0] - 1, lo[1] + size[1] - 1, lo[2] + size[2] - 1] };
  const imgData = cropArray(image.data, image.dims, box, (n) => new Float64Array(n));
  const m = mask.data;
  const maskData = cropArray(m, mask.dims, box, (n) => new (m.constructor as new (n: number) => RMask['data'])(n));
  return {
    image: { ...geom, data: imgData, pixelType: image.pixelType },
    mask: { ...cropGeometry(mask, lo, size), data: maskData },
    box,
  };
}
