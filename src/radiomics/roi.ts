/**
 * ROI helpers: bounding box, cropping to the box, neighbour offsets ("angles").
 * Index order everywhere: x fastest, then y, then z (index = x + y*nx + z*nx*ny).
 */
import type { Vec3 } from '../volume/types.js';

/** Inclusive bounding box in voxel indices (x, y, z). */
export interface BBox {
  lo: [number, number, number];
  hi: [number, number, number];
}

/** The image and mask cropped to the ROI bounding box (no padding). */
export interface CroppedRoi {
  dims: [number, number, number];
  spacing: Vec3;
  /** Image values over the box. */
  values: Float64Array;
  /** 1 inside the ROI. */
  mask: Uint8Array;
  /** Number of ROI voxels. */
  count: number;
}

export function bboxSize(b: BBox): [number, number, number] {
  return [b.hi[0] - b.lo[0] + 1, b.hi[1] - b.lo[1] + 1, b.hi[2] - b.lo[2] + 1];
}

/** Bounding box of the non-zero voxels of `mask` (of the voxels equal to `label` when given); null when empty. */
export function boundingBox(mask: ArrayLike<number>, dims: readonly number[], label?: number): BBox | null {
  const [nx, ny, nz] = dims as [number, number, number];
  const lo: [number, number, number] = [Infinity, Infinity, Infinity];
  const hi: [number, number, number] = [-1, -1, -1];
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (label === undefined ? !mask[i] : mask[i] !== label) continue;
        if (x < lo[0]) lo[0] = x;
        if (x > hi[0]) hi[0] = x;
        if (y < lo[1]) lo[1] = y;
        if (y > hi[1]) hi[1] = y;
        if (z < lo[2]) lo[2] = z;
        if (z > hi[2]) hi[2] = z;
      }
    }
  }
  if (hi[0] < 0) return null;
  return { lo, hi };
}

/** Crop a volume (any numeric array) to a box. */
export function cropArray<T extends { [i: number]: number }>(src: ArrayLike<number>, dims: readonly number[], b: BBox, make: (n: number) => T): T {
  const [nx, ny] = dims as [number, number, number];
  const [sx, sy, sz] = bboxSize(b);
  const out = make(sx * sy * sz);
  let k = 0;
  for (let z = 0; z < sz; z++) {
    for (let y = 0; y < sy; y++) {
      const base = b.lo[0] + (b.lo[1] + y) * nx + (b.lo[2] + z) * nx * ny;
      for (let x = 0; x < sx; x++) out[k++] = src[base + x]!;
    }
  }
  return out;
}

export function cropRoi(values: Float64Array, mask: Uint8Array, dims: readonly number[], spacing: Vec3, b: BBox): CroppedRoi {
  const v = cropArray(values, dims, b, (n) => new Float64Array(n));
  const m = cropArray(mask, dims, b, (n) => new Uint8Array(n));
  let count = 0;
  for (let i = 0; i < m.length; i++) if (m[i]) count++;
  return { dims: bboxSize(b), spacing, values: v, mask: m, count };
}

/**
 * Neighbour offsets as PyRadiomics `build_angles`: every offset (dx, dy, dz) with infinity norm in `distances`,
 * |offset| < size along each axis, no movement along the force2D axis; `bidirectional` false keeps one of each
 * ± pair (the one whose first non-zero component along z, y, x is positive).
 * `force2DAxis` is in x/y/z order (PyRadiomics force2Ddimension 0 = z → axis 2).
 */
export function generateAngles(
  size: readonly number[],
  distances: readonly number[],
  bidirectional: boolean,
  force2DAxis: number | null,
): Int32Array[] {
  const maxD = Math.max(...distances);
  const out: Int32Array[] = [];
  const range = (axis: number): number[] => {
    if (axis === force2DAxis) return [0];
    const lim = Math.min(maxD, size[axis]! - 1);
    const r: number[] = [];
    for (let d = -lim; d <= lim; d++) r.push(d);
    return r;
  };
  for (const dz of range(2)) {
    for (const dy of range(1)) {
      for (const dx of range(0)) {
        if (dx === 0 && dy === 0 && dz === 0) continue;
        const norm = Math.max(Math.abs(dx), Math.abs(dy), Math.abs(dz));
        if (!distances.includes(norm)) continue;
        if (!bidirectional) {
          const first = dz !== 0 ? dz : dy !== 0 ? dy : dx;
          if (first < 0) continue;
        }
        out.push(Int32Array.of(dx, dy, dz));
      }
    }
  }
  return out;
}

/** PyRadiomics force2Ddimension (numpy axis: 0 = z, 1 = y, 2 = x) → our axis (x = 0, y = 1, z = 2). */
export function force2DAxis(setting: { force2D: boolean; force2Ddimension: number }): number | null {
  return setting.force2D ? 2 - setting.force2Ddimension : null;
}
