/**
 * 3-D shape features (PyRadiomics `shape`). The ROI mask (cropped to its bounding box, padded by one empty voxel)
 * is meshed with marching cubes at the 0.5 level (vertices at edge midpoints); configurations ≥ 128 use the
 * complement's triangles with reversed orientation, as PyRadiomics does. Volume by the divergence theorem
 * (signed tetrahedra from the padded-grid origin), area as the sum of triangle areas; diameters over mesh vertices;
 * axis lengths from the eigenvalues of the covariance of the voxel-centre coordinates.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { CroppedRoi } from '../roi.js';
import { CORNER, EDGE_VERTEX, TRI_TABLE } from './mctable.js';
import type { FeatureClassDef, FeatureInput } from './types.js';

export interface ShapeCtx {
  meshVolume: number;
  surfaceArea: number;
  voxelVolume: number;
  /** [slice (same z), column (same y), row (same x), 3-D] maximum diameters. */
  diameters: [number, number, number, number];
  /** Covariance eigenvalues, ascending. */
  eig: [number, number, number];
}

/** Mask padded by one voxel on each side. */
function padMask(roi: { dims: readonly number[]; mask: Uint8Array }): { m: Uint8Array; n: [number, number, number] } {
  const [sx, sy, sz] = roi.dims as [number, number, number];
  const n: [number, number, number] = [sx + 2, sy + 2, sz + 2];
  const m = new Uint8Array(n[0] * n[1] * n[2]);
  for (let z = 0; z < sz; z++) for (let y = 0; y < sy; y++) for (let x = 0; x < sx; x++) {
    if (roi.mask[x + y * sx + z * sx * sy]) m[x + 1 + (y + 1) * n[0] + (z + 1) * n[0] * n[1]] = 1;
  }
  return { m, n };
}

/** Marching-cubes surface area and volume (mm², mm³). */
export function meshAreaVolume(roi: Pick<CroppedRoi, 'dims' | 'mask' | 'spacing'>): { area: number; volume: number } {
  const { m, n } = padMask(roi);
  const [nx, ny, nz] = n;
  const [spx, spy, spz] = roi.spacing;
  const nxy = nx * ny;
  const cornerOff = CORNER.map(([x, y, z]) => x + y * nx + z * nxy);
  // Pre-scale edge vertices.
  const ev = EDGE_VERTEX.map(([x, y, z]) => [x * spx, y * spy, z * spz] as const);
  let area = 0;
  let vol6 = 0;
  for (let z = 0; z < nz - 1; z++) {
    for (let y = 0; y < ny - 1; y++) {
      for (let x = 0; x < nx - 1; x++) {
        const base = x + y * nx + z * nxy;
        let c = 0;
        for (let k = 0; k < 8; k++) if (m[base + cornerOff[k]!]) c |= 1 << k;
        let sign = 1;
        if (c & 0x80) {
          c ^= 0xff;
          sign = -1;
        }
        if (c === 0) continue;
        const tri = TRI_TABLE[c]!;
        const ox = x * spx, oy = y * spy, oz = z * spz;
        for (let t = 0; t < tri.length; t += 3) {
          const a = ev[tri[t]!]!, b = ev[tri[t + 1]!]!, d = ev[tri[t + 2]!]!;
          const ax = a[0] + ox, ay = a[1] + oy, az = a[2] + oz;
          const bx = b[0] + ox, by = b[1] + oy, bz = b[2] + oz;
          const cx = d[0] + ox, cy = d[1] + oy, cz = d[2] + oz;
          // signed volume: (a × b) · c
          vol6 += sign * ((ay * bz - az * by) * cx + (az * bx - ax * bz) * cy + (ax * by - ay * bx) * cz);
          const ux = bx - ax, uy = by - ay, uz = bz - az;
          const vx = cx - ax, vy = cy - ay, vz = cz - az;
          const qx = uy * vz - uz * vy, qy = uz * vx - ux * vz, qz = ux * vy - uy * vx;
          area += 0.5 * Math.sqrt(qx * qx + qy * qy + qz * qz);
        }
      }
    }
  }
  return { area, volume: Math.abs(vol6) / 6 };
}

/**
 * Mesh vertices = midpoints of grid edges whose end voxels differ, as doubled integer coordinates (2x, 2y, 2z).
 */
function meshVertices(roi: Pick<CroppedRoi, 'dims' | 'mask'>): Int32Array {
  const { m, n } = padMask(roi);
  const [nx, ny, nz] = n;
  const nxy = nx * ny;
  const out: number[] = [];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = x + y * nx + z * nxy;
    const v = m[i];
    if (x + 1 < nx && m[i + 1] !== v) out.push(2 * x + 1, 2 * y, 2 * z);
    if (y + 1 < ny && m[i + nx] !== v) out.push(2 * x, 2 * y + 1, 2 * z);
    if (z + 1 < nz && m[i + nxy] !== v) out.push(2 * x, 2 * y, 2 * z + 1);
  }
  return Int32Array.from(out);
}

/**
 * Keep only points that are extreme (min or max) along every listed axis within their line (points sharing the
 * other two coordinates). A point strictly inside such a line segment is not a convex-hull vertex, so maximum
 * distances are unchanged.
 */
function extremeFilter(p: Int32Array, axes: number[]): Int32Array {
  let keep = new Uint8Array(p.length / 3).fill(1);
  for (const ax of axes) {
    const o1 = (ax + 1) % 3, o2 = (ax + 2) % 3;
    const lo = new Map<string, number>();
    const hi = new Map<string, number>();
    for (let k = 0; k < p.length / 3; k++) {
      const key = `${p[3 * k + o1]},${p[3 * k + o2]}`;
      const v = p[3 * k + ax]!;
      const l = lo.get(key);
      if (l === undefined || v < l) lo.set(key, v);
      const h = hi.get(key);
      if (h === undefined || v > h) hi.set(key, v);
    }
    const nk = new Uint8Array(keep.length);
    for (let k = 0; k < keep.length; k++) {
      if (!keep[k]) continue;
      const key = `${p[3 * k + o1]},${p[3 * k + o2]}`;
      const v = p[3 * k + ax]!;
      if (v === lo.get(key) || v === hi.get(key)) nk[k] = 1;
    }
    keep = nk;
  }
  const out: number[] = [];
  for (let k = 0; k < keep.length; k++) if (keep[k]) out.push(p[3 * k]!, p[3 * k + 1]!, p[3 * k + 2]!);
  return Int32Array.from(out);
}

function maxPairDistance(p: Int32Array, sp: readonly number[], groupAxis: number | null): number {
  const h = [sp[0]! / 2, sp[1]! / 2, sp[2]! / 2];
  const groups = new Map<number, number[]>();
  for (let k = 0; k < p.length / 3; k++) {
    const g = groupAxis === null ? 0 : p[3 * k + groupAxis]!;
    let arr = groups.get(g);
    if (!arr) groups.set(g, (arr = []));
    arr.push(p[3 * k]! * h[0]!, p[3 * k + 1]! * h[1]!, p[3 * k + 2]! * h[2]!);
  }
  let best = 0;
  for (const arr of groups.values()) {
    const q = Float64Array.from(arr);
    const n = q.length / 3;
    for (let a = 0; a < n; a++) {
      const ax = q[3 * a]!, ay = q[3 * a + 1]!, az = q[3 * a + 2]!;
      for (let b = a + 1; b < n; b++) {
        const dx = ax - q[3 * b]!, dy = ay - q[3 * b + 1]!, dz = az - q[3 * b + 2]!;
        const d = dx * dx + dy * dy + dz * dz;
        if (d > best) best = d;
      }
    }
  }
  return Math.sqrt(best);
}

/** Maximum diameters over mesh vertices: [slice (equal z), column (equal y), row (equal x), 3-D]. */
export function meshDiameters(roi: Pick<CroppedRoi, 'dims' | 'mask' | 'spacing'>): [number, number, number, number] {
  const v = meshVertices(roi);
  const sp = roi.spacing;
  return [
    maxPairDistance(extremeFilter(v, [0, 1]), sp, 2),
    maxPairDistance(extremeFilter(v, [0, 2]), sp, 1),
    maxPairDistance(extremeFilter(v, [1, 2]), sp, 0),
    maxPairDistance(extremeFilter(v, [0, 1, 2]), sp, null),
  ];
}

/** Eigenvalues (ascending) of the population covariance of the ROI voxel coordinates (mm). */
export function coordinateEigenvalues(roi: Pick<CroppedRoi, 'dims' | 'mask' | 'spacing'>, axes: number[] = [0, 1, 2]): number[] {
  const [sx, sy] = roi.dims;
  const pts: number[][] = axes.map(() => []);
  let n = 0;
  for (let i = 0; i < roi.mask.length; i++) {
    if (!roi.mask[i]) continue;
    const x = i % sx;
    const y = Math.floor(i / sx) % sy;
    const z = Math.floor(i / (sx * sy));
    const c = [x * roi.spacing[0], y * roi.spacing[1], z * roi.spacing[2]];
    axes.forEach((a, k) => pts[k]!.push(c[a]!));
    n++;
  }
  const d = axes.length;
  const mean = pts.map((p) => p.reduce((s, v) => s + v, 0) / n);
  const cov = new Matrix(d, d);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += ((pts[a]![k]! - mean[a]!) / Math.sqrt(n)) * ((pts[b]![k]! - mean[b]!) / Math.sqrt(n));
      cov.set(a, b, s);
      cov.set(b, a, s);
    }
  }
  const ev = new EigenvalueDecomposition(cov, { assumeSymmetric: true }).realEigenvalues.map((e) => (e < 0 && e > -1e-10 ? 0 : e));
  return ev.sort((x, y) => x - y);
}

function prepare(input: FeatureInput): ShapeCtx {
  const { roi } = input;
  const { area, volume } = meshAreaVolume(roi);
  const eig = coordinateEigenvalues(roi) as [number, number, number];
  return {
    meshVolume: volume,
    surfaceArea: area,
    voxelVolume: roi.count * roi.spacing[0] * roi.spacing[1] * roi.spacing[2],
    diameters: meshDiameters(roi),
    eig,
  };
}

const axis = (e: number) => (e < 0 ? NaN : Math.sqrt(e) * 4);
const ratio = (a: number, b: number) => (a < 0 || b < 0 ? NaN : Math.sqrt(a / b));

export const shape: FeatureClassDef<ShapeCtx> = {
  name: 'shape',
  doc: 'Shape of the ROI from a marching-cubes mesh (V = mesh volume, A = mesh area) and from voxel centres (λ1 ≥ λ2 ≥ λ3 eigenvalues of their covariance).',
  prepare,
  features: {
    MeshVolume: { doc: 'MeshVolume V = Σ_triangles (O_a · (O_b × O_c)) / 6 over the marching-cubes mesh.', compute: (c) => c.meshVolume },
    VoxelVolume: { doc: 'VoxelVolume = N_v · V_voxel (number of ROI voxels times voxel volume).', compute: (c) => c.voxelVolume },
    SurfaceArea: { doc: 'SurfaceArea A = Σ_triangles ½ |AB × AC| over the marching-cubes mesh.', compute: (c) => c.surfaceArea },
    SurfaceVolumeRatio: { doc: 'SurfaceVolumeRatio = A / V.', compute: (c) => c.surfaceArea / c.meshVolume },
    Sphericity: { doc: 'Sphericity = (36 π V²)^(1/3) / A.', compute: (c) => (36 * Math.PI * c.meshVolume ** 2) ** (1 / 3) / c.surfaceArea },
    Maximum3DDiameter: { doc: 'Maximum3DDiameter = largest distance between two mesh vertices.', compute: (c) => c.diameters[3] },
    Maximum2DDiameterSlice: { doc: 'Maximum2DDiameterSlice = largest distance between mesh vertices in the same axial (z) plane.', compute: (c) => c.diameters[0] },
    Maximum2DDiameterColumn: { doc: 'Maximum2DDiameterColumn = largest distance between mesh vertices in the same coronal (y) plane.', compute: (c) => c.diameters[1] },
    Maximum2DDiameterRow: { doc: 'Maximum2DDiameterRow = largest distance between mesh vertices in the same sagittal (x) plane.', compute: (c) => c.diameters[2] },
    MajorAxisLength: { doc: 'MajorAxisLength = 4 sqrt(λ_major).', compute: (c) => axis(c.eig[2]), nanReason: 'negative covariance eigenvalue' },
    MinorAxisLength: { doc: 'MinorAxisLength = 4 sqrt(λ_minor).', compute: (c) => axis(c.eig[1]), nanReason: 'negative covariance eigenvalue' },
    LeastAxisLength: { doc: 'LeastAxisLength = 4 sqrt(λ_least).', compute: (c) => axis(c.eig[0]), nanReason: 'negative covariance eigenvalue' },
    Elongation: { doc: 'Elongation = sqrt(λ_minor / λ_major).', compute: (c) => ratio(c.eig[1], c.eig[2]), nanReason: 'negative or zero covariance eigenvalue' },
    Flatness: { doc: 'Flatness = sqrt(λ_least / λ_major).', compute: (c) => ratio(c.eig[0], c.eig[2]), nanReason: 'negative or zero covariance eigenvalue' },
  },
};
