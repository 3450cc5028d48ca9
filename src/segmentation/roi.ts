/**
 * ROI as in the reference study: for each of L1-L4 the mid-sagittal slice of the body and the slice on each
 * side, eroded in-plane by `erosionMm` to exclude the cortical rim. ROI label values 1..4 = L1..L4.
 * The rule is a `RoiSpec`; a radscore model records the one its features were made with (model extraction.roi)
 * and the analysis measures with that one.
 */
import { cross, dot } from '../volume/geometry.js';
import type { LabelMap, Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import type { BodyInfo } from './levels/index.js';

export const ROI_LEVELS = ['L1', 'L2', 'L3', 'L4'] as const;
export type RoiLevel = (typeof ROI_LEVELS)[number];

/** Which bodies, how many sagittal slices per body, and how far each is eroded. */
export interface RoiSpec {
  /** Bodies in the ROI (a subset of L1-L4, the levels the QA gate checks). */
  vertebrae: readonly RoiLevel[];
  /** Sagittal slices per body: the body's mid-sagittal slice and (n-1)/2 on each side (odd). */
  slicesPerBody: number;
  /** In-plane erosion of each body mask (mm), to exclude the cortical rim. */
  erosionMm: number;
}

/** The reference study's ROI (and the shipped model's): L1-L4, three slices per body, 1.5 mm erosion. */
export const DEFAULT_ROI_SPEC: RoiSpec = { vertebrae: ROI_LEVELS, slicesPerBody: 3, erosionMm: 1.5 };

function emptyLike(g: LabelMap): LabelMap {
  return { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction], data: new Uint8Array(g.data.length) };
}

/** In-plane (i, j) erosion of slice k of `mask == value` with a disc of radius r mm; writes `outValue` into `out`. */
export function erodeSlice(mask: LabelMap, value: number, k: number, rMm: number, out: Uint8Array, outValue: number): number {
  const [nx, ny] = mask.dims;
  const [sx, sy] = mask.spacing;
  const offs: [number, number][] = [];
  const ri = Math.floor(rMm / sx + 1e-9);
  const rj = Math.floor(rMm / sy + 1e-9);
  for (let dj = -rj; dj <= rj; dj++) for (let di = -ri; di <= ri; di++) if ((di * sx) ** 2 + (dj * sy) ** 2 <= rMm * rMm + 1e-9) offs.push([di, dj]);
  const base = k * nx * ny;
  const d = mask.data;
  let n = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (d[base + j * nx + i] !== value) continue;
      let keep = true;
      for (const [di, dj] of offs) {
        const a = i + di;
        const b = j + dj;
        if (a < 0 || b < 0 || a >= nx || b >= ny || d[base + b * nx + a] !== value) {
          keep = false;
          break;
        }
      }
      if (keep) {
        out[base + j * nx + i] = outValue;
        n++;
      }
    }
  }
  return n;
}

export interface RoiResult {
  roi: LabelMap;
  /** voxels per ROI level; a level with an empty slice is reported in `problems` */
  voxels: Record<RoiLevel, number>;
  problems: string[];
}

/** Slices on each side of a body's mid-sagittal slice that its ROI takes (slicesPerBody = 1 + 2 x this). */
export function roiHalfSlices(spec: RoiSpec): number {
  return Math.floor((spec.slicesPerBody - 1) / 2);
}

/** Builds the ROI label map (1..4 = L1..L4) from a level label map and the body infos of `labelLevels`. */
export function buildRoi(levels: LabelMap, bodies: BodyInfo[], spec: RoiSpec): RoiResult {
  if (!(spec.slicesPerBody >= 1 && spec.slicesPerBody % 2 === 1)) throw new RangeError(`ROI slicesPerBody must be odd and >= 1 (got ${spec.slicesPerBody})`);
  const half = roiHalfSlices(spec);
  const roi = emptyLike(levels);
  const nz = levels.dims[2];
  const voxels = { L1: 0, L2: 0, L3: 0, L4: 0 } as Record<RoiLevel, number>;
  const problems: string[] = [];
  ROI_LEVELS.forEach((lv, idx) => {
    if (!spec.vertebrae.includes(lv)) return;
    const b = bodies.find((x) => x.level === lv);
    if (!b) {
      problems.push(`${lv} not found`);
      return;
    }
    for (let dk = -half; dk <= half; dk++) {
      const k = b.midSlice + dk;
      if (k < 0 || k >= nz) {
        problems.push(`${lv}: slice ${k} of the ${spec.slicesPerBody} mid-sagittal slices is outside the series`);
        continue;
      }
      const n = erodeSlice(levels, b.label, k, spec.erosionMm, roi.data, idx + 1);
      if (n === 0) problems.push(`${lv}: no ROI voxels on slice ${k} after erosion`);
      voxels[lv] += n;
    }
  });
  return { roi, voxels, problems };
}

/**
 * One binary ROI mask (label 1) for the radiomics engine: 'all' pools L1-L4 (as the reference study did),
 * or a single level.
 */
export function roiMask(roi: LabelMap, which: 'all' | RoiLevel = 'all'): LabelMap {
  const out = emptyLike(roi);
  const want = which === 'all' ? 0 : ROI_LEVELS.indexOf(which) + 1;
  for (let v = 0; v < roi.data.length; v++) {
    const x = roi.data[v];
    if (x !== 0 && (want === 0 || x === want)) out.data[v] = 1;
  }
  return out;
}

export interface BodyShape {
  /** extent along the local cranio-caudal (spine) axis on the mid-sagittal slice (mm) */
  heightMm: number;
  /** extent along the in-plane perpendicular (antero-posterior) on the mid-sagittal slice (mm) */
  depthMm: number;
  ratio: number;
}

/**
 * Height and depth of a body on its mid-sagittal slice, measured along the local spine axis (`axis`, LPS unit
 * vector, e.g. from the centroid of the body below to the one above) and its in-plane perpendicular.
 */
export function bodyShape(levels: LabelMap, b: BodyInfo, axis: Vec3, indexToPoint: (i: number, j: number, k: number) => Vec3): BodyShape {
  const [nx, ny] = levels.dims;
  const k = b.midSlice;
  // slice normal = direction column 2
  const d = levels.direction;
  const nrm: Vec3 = [d[2], d[5], d[8]];
  // project axis into the slice plane
  const pa = dot(axis, nrm);
  let u: Vec3 = [axis[0] - pa * nrm[0], axis[1] - pa * nrm[1], axis[2] - pa * nrm[2]];
  const ul = Math.hypot(...u) || 1;
  u = [u[0] / ul, u[1] / ul, u[2] / ul];
  const w: Vec3 = cross(nrm, u);
  let uMin = Infinity;
  let uMax = -Infinity;
  let wMin = Infinity;
  let wMax = -Infinity;
  const base = k * nx * ny;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (levels.data[base + j * nx + i] !== b.label) continue;
      const p = indexToPoint(i, j, k);
      const a = dot(p, u);
      const c = dot(p, w);
      if (a < uMin) uMin = a;
      if (a > uMax) uMax = a;
      if (c < wMin) wMin = c;
      if (c > wMax) wMax = c;
    }
  }
  if (!Number.isFinite(uMin)) return { heightMm: 0, depthMm: 0, ratio: NaN };
  const px = Math.min(levels.spacing[0], levels.spacing[1]);
  const heightMm = uMax - uMin + px;
  const depthMm = wMax - wMin + px;
  return { heightMm, depthMm, ratio: heightMm / depthMm };
}

/**
 * Body infos of the levels in a labelled level map (an expert mask or a phantom's ground truth), with the mid
 * slice chosen exactly as the level labelling chooses it for the segmentation (the slice through the body's
 * centroid, `Math.round(centroidIndex[2])`), so `buildRoi` applies one rule to both. Levels absent from the map are
 * left out.
 */
export function bodiesFromLevelMap(levels: LabelMap, wanted: readonly { level: string; label: number }[] = ROI_LEVELS.map((l, i) => ({ level: l, label: i + 1 }))): BodyInfo[] {
  const [nx, ny, nz] = levels.dims;
  const want = new Map(wanted.map((w) => [w.label, w.level]));
  const acc = new Map<number, { n: number; s: [number, number, number]; min: Vec3; max: Vec3 }>();
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const l = levels.data[i + j * nx + k * nx * ny];
        if (!l || !want.has(l)) continue;
        let a = acc.get(l);
        if (!a) acc.set(l, (a = { n: 0, s: [0, 0, 0], min: [i, j, k], max: [i, j, k] }));
        a.n++;
        a.s[0] += i;
        a.s[1] += j;
        a.s[2] += k;
        a.min = [Math.min(a.min[0], i), Math.min(a.min[1], j), Math.min(a.min[2], k)];
        a.max = [Math.max(a.max[0], i), Math.max(a.max[1], j), Math.max(a.max[2], k)];
      }
  const voxMm3 = levels.spacing[0] * levels.spacing[1] * levels.spacing[2];
  const out: BodyInfo[] = [];
  for (const [label, level] of want) {
    const a = acc.get(label);
    if (!a) continue;
    const ci: Vec3 = [a.s[0] / a.n, a.s[1] / a.n, a.s[2] / a.n];
    const centroid = indexToPoint(levels, ci[0], ci[1], ci[2]);
    out.push({ level, label, volumeMm3: a.n * voxMm3, centroid, centroidIndex: ci, midSlice: Math.round(ci[2]), componentId: 0, voxels: a.n, bbox: { min: a.min, max: a.max } });
  }
  return out;
}
