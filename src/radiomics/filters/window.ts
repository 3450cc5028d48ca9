/**
 * A sub-volume around the ROI that yields exactly the same filter values inside the ROI bounding box as the whole
 * image, for filters with finite support (the registry entry gives the margin): the stationary wavelet (periodic
 * convolutions, filter length F per level, so F·levels voxels of margin) and the box-sigma filter (radius r, clipped
 * at the true image border). Along an axis where the ROI is closer than the margin to the border the whole axis is
 * kept.
 */
import type { Vec3 } from '../../volume/types.js';
import type { RImage } from '../image.js';
import { bboxSize, type BBox } from '../roi.js';

/** Voxels of margin per axis, and whether the filter wraps around the image border (periodic extension). */
export interface FilterSupport {
  margin: [number, number, number];
  periodic: boolean;
}

/** Image, ROI mask and ROI box on the grid the derived images are computed on. */
export interface FilterWindow {
  image: RImage;
  mask: Uint8Array;
  bbox: BBox;
}

/** The window for `support` around `bbox`, or null when it would not be smaller than the image. */
export function filterWindow(img: RImage, mask: Uint8Array, bbox: BBox, support: FilterSupport): FilterWindow | null {
  const { margin, periodic } = support;
  // Per axis: list of source indices of the window.
  const axes: Int32Array[] = [];
  const lo: number[] = [];
  let smaller = false;
  for (let a = 0; a < 3; a++) {
    const n = img.dims[a]!;
    const np = periodic ? n + (n % 2) : n;
    let start = bbox.lo[a]! - margin[a]!;
    let end = bbox.hi[a]! + margin[a]!;
    if (!periodic) {
      start = Math.max(0, start);
      end = Math.min(n - 1, end);
    }
    // Periodic filters: near the image border the convolution wraps, and pywt sums those outputs in another
    // order; keep the whole axis there so every value is computed exactly as on the whole image.
    if (end - start + 1 >= np || (periodic && (start < 0 || end > n - 1))) {
      axes.push(Int32Array.from({ length: n }, (_, k) => k));
      lo.push(bbox.lo[a]!);
      continue;
    }
    smaller = true;
    const idx = new Int32Array(end - start + 1);
    for (let t = 0; t < idx.length; t++) idx[t] = start + t;
    axes.push(idx);
    lo.push(bbox.lo[a]! - start);
  }
  if (!smaller) return null;
  const [ax, ay, az] = axes as [Int32Array, Int32Array, Int32Array];
  const [nx, ny] = img.dims;
  const dims: Vec3 = [ax.length, ay.length, az.length];
  const data = new Float64Array(dims[0] * dims[1] * dims[2]);
  const m = new Uint8Array(data.length);
  let k = 0;
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) {
    const row = ay[y]! * nx + az[z]! * nx * ny;
    for (let x = 0; x < dims[0]; x++, k++) {
      data[k] = img.data[row + ax[x]!]!;
      m[k] = mask[row + ax[x]!]!;
    }
  }
  const size = bboxSize(bbox);
  const wbox: BBox = {
    lo: [lo[0]!, lo[1]!, lo[2]!],
    hi: [lo[0]! + size[0] - 1, lo[1]! + size[1] - 1, lo[2]! + size[2] - 1],
  };
  return { image: { ...img, dims, data }, mask: m, bbox: wbox };
}
