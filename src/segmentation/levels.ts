/**
 * Level labelling: 3-D components of the body and sacrum classes, ordered along the cranio-caudal axis,
 * counted upward from the sacrum (S1): L5, L4, L3, L2, L1, T12, T11, ... Refuses (returns a reason) instead of
 * guessing when the sacrum is missing or mixed with a lumbar body (transitional anatomy), when the spacing
 * between bodies is irregular (a missed or split body), or when fewer than five bodies lie above the sacrum.
 */
import type { LabelMap, Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { splitComponents, type Component } from './components.js';
import { CLASS } from './segmenter.js';

export type LumbarLevel = 'L1' | 'L2' | 'L3' | 'L4' | 'L5';
/** Level label values, as in the phantom ground truth: L1=1..L5=5, T12=12, T11=11 (..T1=1 is never used), S1=20. */
export const LEVEL_LABEL: Record<string, number> = { L1: 1, L2: 2, L3: 3, L4: 4, L5: 5, T12: 12, T11: 11, T10: 10, T9: 9, T8: 8, S1: 20 };
export const LUMBAR_LEVELS: LumbarLevel[] = ['L1', 'L2', 'L3', 'L4', 'L5'];

export interface BodyInfo {
  /** 'L1'..'L5', 'T12', 'T11', ... or 'S1' */
  level: string;
  label: number;
  volumeMm3: number;
  /** LPS centroid (mm) */
  centroid: Vec3;
  /** centroid in voxel indices */
  centroidIndex: Vec3;
  /** slice (k) through the body's centre */
  midSlice: number;
  /** component id in `ids` */
  componentId: number;
  /** voxels of the component */
  voxels: number;
  bbox: { min: Vec3; max: Vec3 };
}

export interface LevelResult {
  ok: boolean;
  reason?: string;
  /** level label map on the series grid (values of LEVEL_LABEL) */
  levels: LabelMap;
  bodies: BodyInfo[];
}

export interface LevelOptions {
  /** components smaller than this are treated as fragments and ignored (mm^3) */
  minBodyMm3?: number;
  /** minimum sacrum component volume (mm^3) */
  minSacrumMm3?: number;
  /** allowed ratio of each inter-body distance to the median (default [0.6, 1.5]) */
  spacingRatio?: [number, number];
  /** maximal fraction of the minority class in a body/sacrum component (transitional anatomy), default 0.3 */
  maxMixedFraction?: number;
  /** in-plane erosion (mm) that cuts thin bridges between bodies before labelling components (default 2.5) */
  splitErosionMm?: number;
  /** erosion across slices (mm, rounded to whole slices, at least 1) for the same purpose (default 11) */
  splitLateralMm?: number;
  /** components smaller than this fraction of the median component volume are fragments (default 0.3) */
  minRelativeVolume?: number;
}

function emptyLike(g: LabelMap): LabelMap {
  return { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction], data: new Uint8Array(g.data.length) };
}

function dist(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

export function labelLevels(classes: LabelMap, opts: LevelOptions = {}): LevelResult {
  const minBody = opts.minBodyMm3 ?? 2000;
  const minSacrum = opts.minSacrumMm3 ?? 4000;
  const [rLo, rHi] = opts.spacingRatio ?? [0.6, 1.5];
  const maxMixed = opts.maxMixedFraction ?? 0.3;
  const minRel = opts.minRelativeVolume ?? 0.3;
  const splitMm = opts.splitErosionMm ?? 2.5;
  const voxMm3 = classes.spacing[0] * classes.spacing[1] * classes.spacing[2];
  const levels = emptyLike(classes);
  const fail = (reason: string, bodies: BodyInfo[] = []): LevelResult => ({ ok: false, reason, levels, bodies });

  const lateral = Math.max(1, Math.round((opts.splitLateralMm ?? 11) / classes.spacing[2]));
  const cc = splitComponents(classes.data, classes.dims, classes.spacing, (v) => v === CLASS.body || v === CLASS.sacrum, splitMm, lateral);
  // Class composition per component.
  const nSac = new Float64Array(cc.list.length + 1);
  for (let v = 0; v < cc.ids.length; v++) if (cc.ids[v] && classes.data[v] === CLASS.sacrum) nSac[cc.ids[v]]++;
  interface Cand {
    c: Component;
    vol: number;
    sacFrac: number;
    centroid: Vec3;
  }
  const cands: Cand[] = cc.list.map((c) => ({
    c,
    vol: c.voxels * voxMm3,
    sacFrac: nSac[c.id] / c.voxels,
    centroid: indexToPoint(classes, ...c.centroidIndex),
  }));
  // Fragments: below the absolute minimum, or below `minRelative` of the median body-sized component.
  const sized = cands.filter((x) => x.vol >= minBody).map((x) => x.vol).sort((a, b) => a - b);
  const medVol = sized.length ? sized[Math.floor(sized.length / 2)] : 0;
  const big = cands.filter((x) => x.vol >= minBody && x.vol >= minRel * medVol);
  for (const x of big) {
    const minority = Math.min(x.sacFrac, 1 - x.sacFrac);
    if (minority > maxMixed && x.vol >= minSacrum) {
      return fail('level identification ambiguous: a body merges with the sacrum (transitional L5/S1 anatomy or fused segment)');
    }
  }
  // S1 = the most cranial substantial sacral component (S2 and below may be separate components).
  const zOf = (x: Cand) => x.centroid[2];
  const sacra = big.filter((x) => x.sacFrac >= 0.5 && x.vol >= minSacrum).sort((a, b) => zOf(b) - zOf(a));
  if (sacra.length === 0) return fail('sacrum (S1) not found in the field of view: lumbar levels cannot be identified');
  const sacrum = sacra[0];
  const largest = Math.max(...sacra.map((x) => x.vol));
  if (sacrum.vol < 0.3 * largest) return fail('level identification ambiguous: a small sacral-looking segment above the sacrum (lumbarised S1?)');
  // Cranio-caudal coordinate: LPS +z is superior.
  const bodies = big.filter((x) => x.sacFrac < 0.5 && zOf(x) > zOf(sacrum)).sort((a, b) => zOf(a) - zOf(b));
  if (bodies.length < 5) return fail(`only ${bodies.length} vertebral bodies found above the sacrum: L1-L5 are not all in the field of view`);
  // Top of the sacrum: mean point of its voxels within 12 mm of its superior end.
  let zMax = -Infinity;
  const sacPts: Vec3[] = [];
  for (let v = 0; v < cc.ids.length; v++) {
    if (cc.ids[v] !== sacrum.c.id) continue;
    const k = Math.floor(v / (classes.dims[0] * classes.dims[1]));
    const r = v - k * classes.dims[0] * classes.dims[1];
    const j = Math.floor(r / classes.dims[0]);
    const i = r - j * classes.dims[0];
    const p = indexToPoint(classes, i, j, k);
    sacPts.push(p);
    if (p[2] > zMax) zMax = p[2];
  }
  const top: Vec3 = [0, 0, 0];
  let nTop = 0;
  for (const p of sacPts) {
    if (p[2] < zMax - 12) continue;
    top[0] += p[0];
    top[1] += p[1];
    top[2] += p[2];
    nTop++;
  }
  top[0] /= nTop;
  top[1] /= nTop;
  top[2] /= nTop;
  const chain = bodies; // ascending z: L5 first
  // Regular spacing L5..L1 (a missed body doubles a gap, a split body halves it). Above L1 only a split is
  // checked: thin thoracic discs may let T12/T11 merge, which does not affect L1-L4.
  const gaps: number[] = [];
  const nCheck = Math.min(chain.length, 5);
  for (let n = 1; n < nCheck; n++) gaps.push(dist(chain[n].centroid, chain[n - 1].centroid));
  const sorted = [...gaps].sort((a, b) => a - b);
  const med = (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
  for (let n = 0; n < gaps.length; n++) {
    const r = gaps[n] / med;
    if (r < rLo || r > rHi) {
      return fail(`level identification ambiguous: irregular spacing between bodies ${n + 1} and ${n + 2} above the sacrum (ratio ${r.toFixed(2)}): missed or split body`);
    }
  }
  if (chain.length > 5) {
    const r = dist(chain[5].centroid, chain[4].centroid) / med;
    if (r < rLo) return fail(`level identification ambiguous: the body above L1 is too close (ratio ${r.toFixed(2)}): split body`);
  }
  const l5Gap = dist(chain[0].centroid, top) / med;
  if (l5Gap < 0.25 || l5Gap > 1.1) {
    return fail(`level identification ambiguous: lowest lumbar body is not adjacent to the sacrum (distance ratio ${l5Gap.toFixed(2)})`);
  }
  const names = ['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'T10', 'T9', 'T8'];
  const labelOf = new Int32Array(cc.list.length + 1);
  const infos: BodyInfo[] = [];
  const info = (x: Cand, level: string): BodyInfo => ({
    level,
    label: LEVEL_LABEL[level],
    volumeMm3: x.vol,
    centroid: x.centroid,
    centroidIndex: [...x.c.centroidIndex] as Vec3,
    midSlice: Math.round(x.c.centroidIndex[2]),
    componentId: x.c.id,
    voxels: x.c.voxels,
    bbox: { min: [...x.c.min] as Vec3, max: [...x.c.max] as Vec3 },
  });
  for (let n = 0; n < chain.length && n < names.length; n++) {
    labelOf[chain[n].c.id] = LEVEL_LABEL[names[n]];
    infos.push(info(chain[n], names[n]));
  }
  labelOf[sacrum.c.id] = LEVEL_LABEL.S1;
  infos.push(info(sacrum, 'S1'));
  for (let v = 0; v < cc.ids.length; v++) {
    const id = cc.ids[v];
    if (id) levels.data[v] = labelOf[id];
  }
  return { ok: true, levels, bodies: infos };
}
