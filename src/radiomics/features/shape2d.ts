/**
 * 2-D shape features (PyRadiomics `shape2D`, with force2D on a single-slice ROI). The in-plane mask (padded by one
 * pixel) is contoured with marching squares at the 0.5 level (vertices at edge midpoints); area by the shoelace
 * formula over the oriented segments, perimeter as their total length, diameter over contour vertices.
 */
import type { FeatureClassDef, FeatureInput } from './types.js';
import { coordinateEigenvalues } from './shape.js';

export interface Shape2DCtx {
  area: number;
  perimeter: number;
  pixelSurface: number;
  diameter: number;
  eig: [number, number];
}

// Cell corners: 0 (0,0) 1 (1,0) 2 (1,1) 3 (0,1); edges: 0 = 0-1, 1 = 1-2, 2 = 2-3, 3 = 3-0.
const EDGE_MID: readonly (readonly [number, number])[] = [
  [0.5, 0],
  [1, 0.5],
  [0.5, 1],
  [0, 0.5],
];
/** Segments (edge pairs) per configuration < 8 (corner 3 outside), oriented with the inside on the left. */
const SEGMENTS: readonly (readonly number[])[] = [[], [3, 0], [0, 1], [3, 1], [1, 2], [3, 0, 1, 2], [0, 2], [3, 2]];

/** In-plane mask (2-D) of the cropped ROI for the force2D axis. */
function plane(input: FeatureInput): { m: Uint8Array; w: number; h: number; sp: [number, number]; axes: [number, number] } {
  const { roi, setting } = input;
  const out = 2 - setting.force2Ddimension;
  const axes = [0, 1, 2].filter((a) => a !== out) as [number, number];
  const [sx, sy] = roi.dims;
  const w = roi.dims[axes[0]]! + 2;
  const h = roi.dims[axes[1]]! + 2;
  const m = new Uint8Array(w * h);
  for (let i = 0; i < roi.mask.length; i++) {
    if (!roi.mask[i]) continue;
    const c = [i % sx, Math.floor(i / sx) % sy, Math.floor(i / (sx * sy))];
    m[c[axes[0]]! + 1 + (c[axes[1]]! + 1) * w] = 1;
  }
  return { m, w, h, sp: [roi.spacing[axes[0]]!, roi.spacing[axes[1]]!], axes };
}

function prepare(input: FeatureInput): Shape2DCtx {
  const { roi } = input;
  const { m, w, h, sp, axes } = plane(input);
  let area2 = 0;
  let perimeter = 0;
  const verts: number[] = [];
  for (let y = 0; y < h - 1; y++) {
    for (let x = 0; x < w - 1; x++) {
      let c = 0;
      if (m[x + y * w]) c |= 1;
      if (m[x + 1 + y * w]) c |= 2;
      if (m[x + 1 + (y + 1) * w]) c |= 4;
      if (m[x + (y + 1) * w]) c |= 8;
      let sign = 1;
      if (c & 8) {
        c ^= 15;
        sign = -1;
      }
      const seg = SEGMENTS[c]!;
      for (let s = 0; s < seg.length; s += 2) {
        const a = EDGE_MID[seg[s]!]!, b = EDGE_MID[seg[s + 1]!]!;
        const ax = (x + a[0]) * sp[0], ay = (y + a[1]) * sp[1];
        const bx = (x + b[0]) * sp[0], by = (y + b[1]) * sp[1];
        area2 += sign * (ax * by - bx * ay);
        perimeter += Math.hypot(bx - ax, by - ay);
      }
    }
  }
  // Contour vertices: midpoints of pixel edges whose end pixels differ.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = m[x + y * w];
    if (x + 1 < w && m[x + 1 + y * w] !== v) verts.push((x + 0.5) * sp[0], y * sp[1]);
    if (y + 1 < h && m[x + (y + 1) * w] !== v) verts.push(x * sp[0], (y + 0.5) * sp[1]);
  }
  let best = 0;
  for (let a = 0; a < verts.length; a += 2) {
    for (let b = a + 2; b < verts.length; b += 2) {
      const d = (verts[a]! - verts[b]!) ** 2 + (verts[a + 1]! - verts[b + 1]!) ** 2;
      if (d > best) best = d;
    }
  }
  const eig = coordinateEigenvalues(roi, axes) as [number, number];
  return { area: Math.abs(area2) / 2, perimeter, pixelSurface: roi.count * sp[0] * sp[1], diameter: Math.sqrt(best), eig };
}

export const shape2D: FeatureClassDef<Shape2DCtx> = {
  name: 'shape2D',
  doc: 'Shape of a single-slice ROI (force2D) from a marching-squares contour (A = enclosed area, P = perimeter) and pixel centres (λ eigenvalues of their covariance).',
  prepare,
  features: {
    MeshSurface: { doc: 'MeshSurface A = ½ |Σ_segments (a × b)| over the marching-squares contour.', compute: (c) => c.area },
    PixelSurface: { doc: 'PixelSurface = N_p · A_pixel.', compute: (c) => c.pixelSurface },
    Perimeter: { doc: 'Perimeter P = Σ_segments |ab|.', compute: (c) => c.perimeter },
    PerimeterSurfaceRatio: { doc: 'PerimeterSurfaceRatio = P / A.', compute: (c) => c.perimeter / c.area },
    Sphericity: { doc: 'Sphericity = 2 sqrt(π A) / P.', compute: (c) => (2 * Math.sqrt(Math.PI * c.area)) / c.perimeter },
    MaximumDiameter: { doc: 'MaximumDiameter = largest distance between two contour vertices.', compute: (c) => c.diameter },
    MajorAxisLength: { doc: 'MajorAxisLength = 4 sqrt(λ_major).', compute: (c) => (c.eig[1] < 0 ? NaN : 4 * Math.sqrt(c.eig[1])), nanReason: 'negative covariance eigenvalue' },
    MinorAxisLength: { doc: 'MinorAxisLength = 4 sqrt(λ_minor).', compute: (c) => (c.eig[0] < 0 ? NaN : 4 * Math.sqrt(c.eig[0])), nanReason: 'negative covariance eigenvalue' },
    Elongation: { doc: 'Elongation = sqrt(λ_minor / λ_major).', compute: (c) => (c.eig[0] < 0 || c.eig[1] < 0 ? NaN : Math.sqrt(c.eig[0] / c.eig[1])), nanReason: 'negative or zero covariance eigenvalue' },
  },
};
