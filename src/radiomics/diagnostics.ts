/**
 * Diagnostics of an extraction, as PyRadiomics' GeneralInfo: engine version, image and mask hashes, sizes,
 * spacings, bounding box, voxel and component counts, centre of mass (`diagnostics_*` keys).
 */
import { createHash } from 'node:crypto';
import type { Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import type { PixelType, RImage, RMask } from './image.js';
import { checkMask, type BinaryMask } from './preprocess.js';
import { bboxSize, type BBox } from './roi.js';

export const ENGINE_VERSION = 'osteoscreen-radiomics 1.0 (PyRadiomics 3.1 compatible)';

/** SHA-1 of the voxel array in the given pixel type (little endian), as PyRadiomics' diagnostics hashes. */
export function arrayHash(data: ArrayLike<number>, pt: PixelType): string {
  const ctor = {
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    float32: Float32Array,
    float64: Float64Array,
  }[pt];
  const arr = ctor.from(data as ArrayLike<number>);
  return createHash('sha1').update(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength)).digest('hex');
}

function fmtTuple(v: readonly number[]): string {
  return `(${v.map((x) => String(x)).join(', ')})`;
}

/** Number of 26-connected components of the ROI. */
function countComponents(m: BinaryMask): number {
  const [nx, ny, nz] = m.dims;
  const seen = new Uint8Array(m.data.length);
  const stack = new Int32Array(m.data.length);
  let comps = 0;
  for (let s = 0; s < m.data.length; s++) {
    if (!m.data[s] || seen[s]) continue;
    comps++;
    let top = 0;
    stack[top++] = s;
    seen[s] = 1;
    while (top) {
      const k = stack[--top]!;
      const x = k % nx, y = Math.floor(k / nx) % ny, z = Math.floor(k / (nx * ny));
      for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx, yy = y + dy, zz = z + dz;
        if (xx < 0 || yy < 0 || zz < 0 || xx >= nx || yy >= ny || zz >= nz) continue;
        const j = xx + yy * nx + zz * nx * ny;
        if (m.data[j] && !seen[j]) {
          seen[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  return comps;
}

export function imageDiagnostics(img: RImage, prefix: string, d: Record<string, unknown>): void {
  let s = 0, mn = Infinity, mx = -Infinity;
  for (let i = 0; i < img.data.length; i++) {
    const v = img.data[i]!;
    s += v;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  d[`diagnostics_Image-${prefix}_Hash`] = arrayHash(img.data, img.pixelType);
  d[`diagnostics_Image-${prefix}_Dimensionality`] = '3D';
  d[`diagnostics_Image-${prefix}_Spacing`] = fmtTuple(img.spacing);
  d[`diagnostics_Image-${prefix}_Size`] = fmtTuple(img.dims);
  d[`diagnostics_Image-${prefix}_Mean`] = s / img.data.length;
  d[`diagnostics_Image-${prefix}_Minimum`] = mn;
  d[`diagnostics_Image-${prefix}_Maximum`] = mx;
}

export function maskDiagnostics(m: BinaryMask, label: number, prefix: string, d: Record<string, unknown>, hashSource?: RMask): void {
  if (hashSource) d[`diagnostics_Mask-${prefix}_Hash`] = arrayHash(hashSource.data, 'uint32');
  else d[`diagnostics_Mask-${prefix}_Hash`] = arrayHash(Uint32Array.from(m.data, (v) => (v ? label : 0)), 'uint32');
  d[`diagnostics_Mask-${prefix}_Spacing`] = fmtTuple(m.spacing);
  d[`diagnostics_Mask-${prefix}_Size`] = fmtTuple(m.dims);
  const [nx, ny] = m.dims;
  let n = 0, cx = 0, cy = 0, cz = 0;
  for (let i = 0; i < m.data.length; i++) {
    if (!m.data[i]) continue;
    n++;
    cx += i % nx;
    cy += Math.floor(i / nx) % ny;
    cz += Math.floor(i / (nx * ny));
  }
  const bb = roiBBox(m);
  if (bb) d[`diagnostics_Mask-${prefix}_BoundingBox`] = fmtTuple([...bb.lo, ...bboxSize(bb)]);
  d[`diagnostics_Mask-${prefix}_VoxelNum`] = n;
  d[`diagnostics_Mask-${prefix}_VolumeNum`] = countComponents(m);
  const com: Vec3 = [cx / n, cy / n, cz / n];
  d[`diagnostics_Mask-${prefix}_CenterOfMassIndex`] = fmtTuple(com);
  d[`diagnostics_Mask-${prefix}_CenterOfMass`] = fmtTuple(indexToPoint(m, com[0], com[1], com[2]));
}

export function roiBBox(m: BinaryMask): BBox | null {
  try {
    return checkMask(m, { minimumROIDimensions: 1, minimumROISize: null, label: 1 } as never).bbox;
  } catch {
    return null;
  }
}

