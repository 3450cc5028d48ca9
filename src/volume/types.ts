/**
 * Shared image geometry types. Everything is in DICOM patient space (LPS), millimetres.
 * Voxel (i, j, k) has i fastest (columns), then j (rows), then k (slices):
 *   index = i + j * dims[0] + k * dims[0] * dims[1]
 *   physical(i,j,k) = origin + direction[:,0]*i*spacing[0] + direction[:,1]*j*spacing[1] + direction[:,2]*k*spacing[2]
 * `direction` is a row-major 3x3 matrix whose COLUMNS are the unit axis vectors (ITK convention),
 * i.e. direction[0..2] = (Xx, Yx, Zx) ... so direction[r*3+c] = component r of axis c.
 */
export type Vec3 = [number, number, number];
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface Geometry {
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: Mat3;
}

export interface Volume extends Geometry {
  data: Float32Array;
}

/** A label map on a voxel grid (0 = background). */
export interface LabelMap extends Geometry {
  data: Uint8Array;
}

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function voxelCount(g: Pick<Geometry, 'dims'>): number {
  return g.dims[0] * g.dims[1] * g.dims[2];
}

/** Physical LPS coordinate of a (possibly fractional) voxel index. */
export function indexToPoint(g: Geometry, i: number, j: number, k: number): Vec3 {
  const d = g.direction;
  const a = i * g.spacing[0];
  const b = j * g.spacing[1];
  const c = k * g.spacing[2];
  return [
    g.origin[0] + d[0] * a + d[1] * b + d[2] * c,
    g.origin[1] + d[3] * a + d[4] * b + d[5] * c,
    g.origin[2] + d[6] * a + d[7] * b + d[8] * c,
  ];
}

/** Continuous voxel index of a physical LPS point (direction assumed orthonormal). */
export function pointToIndex(g: Geometry, p: Vec3): Vec3 {
  const d = g.direction;
  const v: Vec3 = [p[0] - g.origin[0], p[1] - g.origin[1], p[2] - g.origin[2]];
  return [
    (d[0] * v[0] + d[3] * v[1] + d[6] * v[2]) / g.spacing[0],
    (d[1] * v[0] + d[4] * v[1] + d[7] * v[2]) / g.spacing[1],
    (d[2] * v[0] + d[5] * v[1] + d[8] * v[2]) / g.spacing[2],
  ];
}

export function sameGeometry(a: Geometry, b: Geometry, tol = 1e-4): boolean {
  for (let n = 0; n < 3; n++) {
    if (a.dims[n] !== b.dims[n]) return false;
    if (Math.abs(a.spacing[n] - b.spacing[n]) > tol) return false;
    if (Math.abs(a.origin[n] - b.origin[n]) > tol) return false;
  }
  for (let n = 0; n < 9; n++) if (Math.abs(a.direction[n] - b.direction[n]) > tol) return false;
  return true;
}
