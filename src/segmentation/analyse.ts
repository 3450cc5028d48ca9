/**
 * Per-series analysis (segment -> level labels -> plausibility -> contrast -> ROI) and the two-series QA gate
 * `analyseSpine(t1, t2)`. A study is not assessable (ok = false, with `reason`) whenever any check fails:
 * a wrong score is worse than no score.
 */
import { direction as unit } from '../volume/geometry.js';
import { NotAssessable } from '../common/errors.js';
import type { Geometry, LabelMap, Vec3 } from '../volume/types.js';
import { indexToPoint, pointToIndex, sameGeometry } from '../volume/types.js';
import { labelLevels, type BodyInfo, type EvidenceMark, type LumbarLevel } from './levels/index.js';
import { bodyShape, buildRoi, DEFAULT_ROI_SPEC, roiHalfSlices, ROI_LEVELS, type BodyShape, type RoiLevel, type RoiSpec } from './roi.js';
import { CLASS, type Segmenter } from './segmenter.js';
import { PLAUSIBLE } from './qa-limits.js';
import { CONTRAST, contrastContradiction, pairContradiction } from './contrast.js';

export type Sequence = 'T1' | 'T2';

export interface AnalyseOptions {
  /** the ROI rule (the scoring model's extraction.roi); default DEFAULT_ROI_SPEC (L1-L4, 3 slices, 1.5 mm) */
  roi?: RoiSpec;
  /** minimal Dice between the T1 and T2 masks of each level (default 0.7) */
  minAgreementDice?: number;
  /** maximal distance between T1 and T2 centroids of the same level (mm, default 12) */
  maxCentroidShiftMm?: number;
}

export interface LevelSummary {
  level: LumbarLevel | string;
  label: number;
  volumeMm3: number;
  /** LPS centroid (mm) */
  centroid: Vec3;
  /** slice index through the body's centre (on this series) */
  midSlice: number;
  heightMm?: number;
  depthMm?: number;
}

export interface SeriesAnalysis {
  sequence?: Sequence;
  ok: boolean;
  reason?: string;
  /** network classes (0 bg, 1 body, 2 sacrum, 3 CSF, 4 subcutaneous fat) */
  classes?: LabelMap;
  /** level labels (L1=1..L5=5, T12=12, T11=11, S1=20) */
  levels?: LabelMap;
  /** ROI labels 1..4 = L1..L4 */
  roi?: LabelMap;
  bodies: LevelSummary[];
  /** CSF / vertebral-body median intensity ratio (T1 < 1, T2 > 1 expected) */
  csfToBodyRatio?: number;
  /** subcutaneous fat / vertebral-body median intensity ratio (fat bright on T1 and T2, dark when fat-suppressed) */
  fatToBodyRatio?: number;
  roiVoxels?: Record<RoiLevel, number>;
  /** how the level labelling read the components (kept, dropped and why), for evaluation and support */
  debug?: string[];
  /** the S1 evidence votes, for the evaluation overlay */
  evidence?: EvidenceMark[];
}

function emptyLike(g: Geometry): LabelMap {
  return { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction], data: new Uint8Array(g.dims[0] * g.dims[1] * g.dims[2]) };
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of image values where `mask(v)` holds (strided sample for speed). */
function maskedMedian(img: Float32Array, lab: Uint8Array, want: (v: number) => boolean): { median: number; n: number } {
  let n = 0;
  for (let v = 0; v < lab.length; v++) if (want(lab[v])) n++;
  const step = Math.max(1, Math.floor(n / 50000));
  const vals: number[] = [];
  let c = 0;
  for (let v = 0; v < lab.length; v++) if (want(lab[v]) && c++ % step === 0) vals.push(img[v]);
  return { median: median(vals), n };
}

/**
 * Whether a body reaches the in-plane edge of the field of view on the slices the ROI is taken from (its
 * mid-sagittal slice +- `half`): there the body is cut and its ROI would be partial. A lateral slice that grazes the
 * edge (a neighbour's partial volume, the field of view's corner) does not cut the mid-sagittal body.
 */
export function cutByEdge(levels: LabelMap, b: BodyInfo, half: number): boolean {
  const [nx, ny, nz] = levels.dims;
  for (let k = Math.max(0, b.midSlice - half); k <= Math.min(nz - 1, b.midSlice + half); k++) {
    const o = k * nx * ny;
    for (let i = 0; i < nx; i++) if (levels.data[o + i] === b.label || levels.data[o + (ny - 1) * nx + i] === b.label) return true;
    for (let j = 0; j < ny; j++) if (levels.data[o + j * nx] === b.label || levels.data[o + j * nx + nx - 1] === b.label) return true;
  }
  return false;
}


/** Segments and checks one sagittal series. `sequence` enables the fat/water contrast check. */
export async function analyseSeries(
  vol: import('../volume/types.js').Volume,
  segmenter: Segmenter,
  sequence: Sequence | undefined,
  opts: AnalyseOptions = {},
): Promise<SeriesAnalysis> {
  let classes: LabelMap;
  try {
    classes = await segmenter.segment(vol);
  } catch (e) {
    if (e instanceof NotAssessable) return { sequence, ok: false, reason: e.message, bodies: [] };
    throw e;
  }
  const lv = labelLevels(classes);
  const toPt = (i: number, j: number, k: number) => indexToPoint(classes, i, j, k);
  const ordered = [...lv.bodies].filter((b) => b.level !== 'S1');
  const byLevel = new Map(lv.bodies.map((b) => [b.level, b]));
  const summaries: LevelSummary[] = lv.bodies.map((b) => ({ level: b.level, label: b.label, volumeMm3: b.volumeMm3, centroid: b.centroid, midSlice: b.midSlice }));
  const res: SeriesAnalysis = { sequence, ok: lv.ok, reason: lv.reason, classes, levels: lv.levels, bodies: summaries, debug: lv.debug, evidence: lv.evidence };
  if (!lv.ok) return res;
  // Shape and size plausibility of L1-L4.
  for (const name of ROI_LEVELS) {
    const b = byLevel.get(name)!;
    const idx = ordered.indexOf(b);
    const below = ordered[idx - 1] ?? byLevel.get('S1')!;
    const above = ordered[idx + 1];
    const axis = above ? unit(above.centroid, below.centroid) : unit(b.centroid, below.centroid);
    const shape: BodyShape = bodyShape(lv.levels, b, axis, toPt);
    const s = summaries.find((x) => x.level === name)!;
    s.heightMm = shape.heightMm;
    s.depthMm = shape.depthMm;
    if (cutByEdge(lv.levels, b, roiHalfSlices(opts.roi ?? DEFAULT_ROI_SPEC))) return { ...res, ok: false, reason: `${name} is cut by the edge of the field of view` };
    if (b.volumeMm3 < PLAUSIBLE.volumeMm3[0] || b.volumeMm3 > PLAUSIBLE.volumeMm3[1]) {
      return { ...res, ok: false, reason: `${name} volume ${(b.volumeMm3 / 1000).toFixed(1)} cm3 is outside the plausible range ${PLAUSIBLE.volumeMm3[0] / 1000}-${PLAUSIBLE.volumeMm3[1] / 1000} cm3` };
    }
    if (!(shape.ratio >= PLAUSIBLE.heightToDepth[0] && shape.ratio <= PLAUSIBLE.heightToDepth[1])) {
      return { ...res, ok: false, reason: `${name} height/depth ratio ${shape.ratio.toFixed(2)} is outside the plausible range ${PLAUSIBLE.heightToDepth[0]}-${PLAUSIBLE.heightToDepth[1]}` };
    }
  }
  // Fat/water contrast: CSF (and, for information, subcutaneous fat) against the vertebral bodies L1-L4.
  const lumbar = new Set([1, 2, 3, 4]);
  const body = maskedMedian(vol.data, lv.levels.data, (v) => lumbar.has(v));
  const csf = maskedMedian(vol.data, classes.data, (v) => v === CLASS.csf);
  const fat = maskedMedian(vol.data, classes.data, (v) => v === CLASS.fat);
  const voxMm3 = vol.spacing[0] * vol.spacing[1] * vol.spacing[2];
  if (csf.n * voxMm3 >= CONTRAST.minCsfMm3 && body.median > 0) res.csfToBodyRatio = csf.median / body.median;
  if (fat.n * voxMm3 >= CONTRAST.minFatMm3 && body.median > 0) res.fatToBodyRatio = fat.median / body.median;
  if (sequence) {
    const why = contrastContradiction(sequence, { csfToBody: res.csfToBodyRatio, fatToBody: res.fatToBodyRatio });
    if (why) return { ...res, ok: false, reason: why };
  }
  const roi = buildRoi(lv.levels, lv.bodies, opts.roi ?? DEFAULT_ROI_SPEC);
  res.roi = roi.roi;
  res.roiVoxels = roi.voxels;
  if (roi.problems.length) return { ...res, ok: false, reason: `ROI: ${roi.problems.join('; ')}` };
  return res;
}

/** Dice of label `a` on grid A against label `a` of map B, B sampled (nearest) at A's voxel centres. */
export function crossGridDice(A: LabelMap, B: LabelMap, label: number): number {
  const [nx, ny, nz] = A.dims;
  const same = sameGeometry(A, B);
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = i + j * nx + k * nx * ny;
        const a = A.data[v] === label;
        let b: boolean;
        if (same) b = B.data[v] === label;
        else {
          const q = pointToIndex(B, indexToPoint(A, i, j, k));
          const bi = Math.round(q[0]);
          const bj = Math.round(q[1]);
          const bk = Math.round(q[2]);
          b = bi >= 0 && bj >= 0 && bk >= 0 && bi < B.dims[0] && bj < B.dims[1] && bk < B.dims[2] && B.data[bi + bj * B.dims[0] + bk * B.dims[0] * B.dims[1]] === label;
        }
        if (a) na++;
        if (b) nb++;
        if (a && b) inter++;
      }
    }
  }
  return na + nb === 0 ? NaN : (2 * inter) / (na + nb);
}

export interface SpineLevel {
  level: RoiLevel;
  label: number;
  volumeMm3: number;
  centroid: Vec3;
  midSlice: number;
}

export interface SpineResult {
  ok: boolean;
  reason?: string;
  /** L1-L4 as measured on the T1 series */
  levels: SpineLevel[];
  t1Levels: LabelMap;
  t2Levels: LabelMap;
  /** ROI labels 1..4 = L1..L4 on each series' grid (all zero when not ok) */
  t1Roi: LabelMap;
  t2Roi: LabelMap;
  /** T1/T2 Dice per level (when both series were labelled) */
  agreement?: Record<RoiLevel, number>;
  t1: SeriesAnalysis;
  t2: SeriesAnalysis;
}

/**
 * Full QA-gated analysis of a T1 + T2 sagittal pair. Each series is segmented with the same model (one
 * segmentation per series, so geometry may differ), labelled, checked, then the two are compared level by level.
 */
export async function analyseSpine(
  t1: import('../volume/types.js').Volume,
  t2: import('../volume/types.js').Volume,
  opts: AnalyseOptions & { segmenter: Segmenter },
): Promise<SpineResult> {
  const a1 = await analyseSeries(t1, opts.segmenter, 'T1', opts);
  const a2 = await analyseSeries(t2, opts.segmenter, 'T2', opts);
  const base: SpineResult = {
    ok: false,
    levels: [],
    t1Levels: a1.levels ?? emptyLike(t1),
    t2Levels: a2.levels ?? emptyLike(t2),
    t1Roi: emptyLike(t1),
    t2Roi: emptyLike(t2),
    t1: a1,
    t2: a2,
  };
  if (!a1.ok) return { ...base, reason: `T1: ${a1.reason}` };
  if (!a2.ok) return { ...base, reason: `T2: ${a2.reason}` };
  const swapped = pairContradiction({ csfToBody: a1.csfToBodyRatio }, { csfToBody: a2.csfToBodyRatio });
  if (swapped) return { ...base, reason: swapped };
  const minDice = opts.minAgreementDice ?? 0.7;
  const maxShift = opts.maxCentroidShiftMm ?? 12;
  const agreement = {} as Record<RoiLevel, number>;
  for (const name of ROI_LEVELS) {
    const b1 = a1.bodies.find((b) => b.level === name)!;
    const b2 = a2.bodies.find((b) => b.level === name)!;
    const shift = Math.hypot(b1.centroid[0] - b2.centroid[0], b1.centroid[1] - b2.centroid[1], b1.centroid[2] - b2.centroid[2]);
    const dice = crossGridDice(a1.levels!, a2.levels!, b1.label);
    agreement[name] = dice;
    if (shift > maxShift) return { ...base, agreement, reason: `T1 and T2 disagree on ${name}: centroids ${shift.toFixed(1)} mm apart` };
    if (!(dice >= minDice)) return { ...base, agreement, reason: `T1 and T2 masks disagree on ${name} (Dice ${dice.toFixed(2)} < ${minDice})` };
  }
  const levels: SpineLevel[] = ROI_LEVELS.map((name) => {
    const b = a1.bodies.find((x) => x.level === name)!;
    return { level: name, label: b.label, volumeMm3: b.volumeMm3, centroid: b.centroid, midSlice: b.midSlice };
  });
  return { ...base, ok: true, levels, agreement, t1Roi: a1.roi!, t2Roi: a2.roi! };
}
