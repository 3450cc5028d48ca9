/**
 * Parameters of the phantom's lumbar-spine anatomy (tests/training only): tissue ids, level names, the
 * per-vertebra/disc/soft-tissue parameters and `drawAnatomy`, which draws one random spine. `Anatomy`
 * (anatomy.ts) turns them into a point classifier.
 */
import { cross, dot, unitOrNull } from '../volume/geometry.js';
const norm = (a: Vec3): Vec3 => unitOrNull(a) ?? [NaN, NaN, NaN];
import type { Rng } from './rng.js';
import type { Vec3 } from '../volume/types.js';

export type BoneState = 'normal' | 'low';

/** Internal tissue ids (finer than the exported tissue classes). */
export const T = {
  air: 0,
  marrow: 1,
  cortical: 2,
  disc: 3,
  csf: 4,
  cord: 5,
  posterior: 6,
  muscle: 7,
  subcutFat: 8,
  viscera: 9,
  abdominalFat: 10,
  vessel: 11,
  epiduralFat: 12,
  fusedDisc: 13,
} as const;
export const INTERNAL_TISSUES = 14;

/** Exported tissue classes (tissue label map). */
export const TISSUE_CLASSES = {
  background: 0,
  marrow: 1,
  cortical: 2,
  disc: 3,
  csf: 4,
  cord: 5,
  posterior: 6,
  muscle: 7,
  subcutFat: 8,
  other: 9,
} as const;
/** internal id → exported class */
export const TISSUE_EXPORT = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 2]);

/** Level labels in the level label map. T10 and S2 are labelled 10 and 21 (not used for L1-L4 work). */
export const LEVELS = ['S2', 'S1', 'L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'T10'] as const;
export type LevelName = (typeof LEVELS)[number];
export const LEVEL_LABEL: Record<LevelName, number> = { S2: 21, S1: 20, L5: 5, L4: 4, L3: 3, L2: 2, L1: 1, T12: 12, T11: 11, T10: 10 };

export interface VertebraParams {
  name: LevelName;
  label: number;
  /** arc length of the centre (mm from the bottom of S2) */
  s: number;
  center: Vec3;
  /** local frame rows: lateral (≈ +x), anterior (≈ -y), along the curve (≈ +z) */
  l: Vec3;
  a: Vec3;
  t: Vec3;
  height: number;
  width: number;
  depth: number;
  concavity: number;
  cortex: number;
  canalHalfWidth: number;
  canalHalfDepth: number;
  /** canal centre offset along `a` (negative = posterior) */
  canalOffset: number;
  /** marrow fat fraction of this body */
  fatFraction: number;
}

export interface DiscParams {
  below: LevelName;
  above: LevelName;
  center: Vec3;
  l: Vec3;
  a: Vec3;
  t: Vec3;
  halfWidth: number;
  halfDepth: number;
  halfSlab: number;
  gap: number;
  degenerated: boolean;
  fused: boolean;
}

export interface AnatomyParams {
  bone: BoneState;
  /** marrow fat fraction (study mean) and texture scale/amplitude */
  marrowFatFraction: number;
  textureScaleMm: number;
  textureAmplitude: number;
  sacralSlopeDeg: number;
  lordosisDeg: number;
  scoliosisMm: number;
  bodySize: number;
  backDistanceMm: number;
  abdomenHalfDepthMm: number;
  abdomenHalfWidthMm: number;
  subcutFatMm: number;
  conusZ: number;
  vertebrae: VertebraParams[];
  discs: DiscParams[];
  noiseSeed: number;
}

const DEG = Math.PI / 180;


/** Draw anatomy parameters for one study. `anchor` is where the L3 body centre lands in patient space. */
export function drawAnatomy(rng: Rng, bone: BoneState, anchor: Vec3): AnatomyParams {
  const size = rng.uniform(0.9, 1.1);
  const heights: Record<LevelName, number> = {
    S2: rng.uniform(18, 22),
    S1: rng.uniform(26, 30),
    L5: rng.uniform(25, 28),
    L4: rng.uniform(26, 30),
    L3: rng.uniform(26, 30),
    L2: rng.uniform(25, 29),
    L1: rng.uniform(25, 28),
    T12: rng.uniform(22, 25),
    T11: rng.uniform(20, 23),
    T10: rng.uniform(19, 22),
  };
  const widths: Record<LevelName, number> = {
    S2: rng.uniform(34, 40), S1: rng.uniform(45, 50), L5: rng.uniform(46, 50), L4: rng.uniform(44, 50), L3: rng.uniform(43, 48),
    L2: rng.uniform(41, 46), L1: rng.uniform(40, 45), T12: rng.uniform(36, 40), T11: rng.uniform(34, 38), T10: rng.uniform(32, 36),
  };
  const depths: Record<LevelName, number> = {
    S2: rng.uniform(22, 26), S1: rng.uniform(32, 36), L5: rng.uniform(33, 38), L4: rng.uniform(33, 38), L3: rng.uniform(32, 37),
    L2: rng.uniform(31, 36), L1: rng.uniform(30, 35), T12: rng.uniform(28, 31), T11: rng.uniform(26, 30), T10: rng.uniform(25, 28),
  };
  // gap above each level (disc below the next level up)
  const gapAbove: Record<LevelName, number> = {
    S2: 2.5, S1: rng.uniform(7, 11), L5: rng.uniform(8, 12), L4: rng.uniform(8, 12), L3: rng.uniform(8, 12),
    L2: rng.uniform(8, 11), L1: rng.uniform(6, 8), T12: rng.uniform(5, 7), T11: rng.uniform(4.5, 6.5), T10: 0,
  };
  for (const k of LEVELS) {
    heights[k] *= size;
    widths[k] *= size;
    depths[k] *= size;
  }

  // arc-length layout
  const sCenter = {} as Record<LevelName, number>;
  let s = 0;
  for (const k of LEVELS) {
    sCenter[k] = s + heights[k] / 2;
    s += heights[k] + gapAbove[k];
  }
  const sTop = s + 10;
  const sacralSlope = rng.uniform(28, 42);
  const lordosis = rng.uniform(30, 50);
  const kappa = lordosis / (sCenter.L1 - sCenter.S1); // deg per mm
  const theta = (x: number): number =>
    x <= sCenter.L1 ? sacralSlope - kappa * (x - sCenter.S1) : sacralSlope - lordosis - 0.15 * kappa * (x - sCenter.L1);
  const scolio = rng.uniform(-8, 8);
  const sc0 = sCenter.S1;
  const sc1 = sCenter.T11;
  const dxds = (x: number): number => (x < sc0 || x > sc1 ? 0 : ((scolio * Math.PI) / (sc1 - sc0)) * Math.cos((Math.PI * (x - sc0)) / (sc1 - sc0)));
  const tangent = (x: number): Vec3 => norm([dxds(x), -Math.sin(theta(x) * DEG), Math.cos(theta(x) * DEG)]);

  // integrate the curve
  const ds = 0.5;
  const nS = Math.ceil(sTop / ds) + 1;
  const pts: Vec3[] = [];
  let p: Vec3 = [0, 0, 0];
  for (let i = 0; i < nS; i++) {
    pts.push(p);
    const tt = tangent(i * ds + ds / 2);
    p = [p[0] + tt[0] * ds, p[1] + tt[1] * ds, p[2] + tt[2] * ds];
  }
  const at = (x: number): Vec3 => {
    const f = Math.max(0, Math.min(nS - 1.001, x / ds));
    const i = Math.floor(f);
    const w = f - i;
    const a = pts[i]!;
    const b = pts[i + 1]!;
    return [a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, a[2] + (b[2] - a[2]) * w];
  };
  const l3 = at(sCenter.L3);
  const shift: Vec3 = [anchor[0] - l3[0], anchor[1] - l3[1], anchor[2] - l3[2]];
  const pos = (x: number): Vec3 => {
    const q = at(x);
    return [q[0] + shift[0], q[1] + shift[1], q[2] + shift[2]];
  };
  const frame = (x: number) => {
    const t = tangent(x);
    const th = theta(x) * DEG;
    const a0: Vec3 = [0, -Math.cos(th), -Math.sin(th)];
    const d = dot(a0, t);
    const a = norm([a0[0] - d * t[0], a0[1] - d * t[1], a0[2] - d * t[2]]);
    const l = cross(t, a);
    return { l, a, t };
  };

  const ffMean = bone === 'low' ? rng.uniform(0.55, 0.7) : rng.uniform(0.32, 0.46);
  const vertebrae: VertebraParams[] = LEVELS.map((k) => {
    const thoracic = k.startsWith('T');
    const sacral = k.startsWith('S');
    const cb = thoracic ? rng.uniform(6.5, 7.5) : sacral ? rng.uniform(5, 6.5) : rng.uniform(7, 9);
    const cl = thoracic ? rng.uniform(8, 9.5) : sacral ? rng.uniform(10, 13) : rng.uniform(10.5, 13);
    const f = frame(sCenter[k]);
    return {
      name: k,
      label: LEVEL_LABEL[k],
      s: sCenter[k],
      center: pos(sCenter[k]),
      ...f,
      height: heights[k],
      width: widths[k],
      depth: depths[k],
      concavity: sacral ? rng.uniform(0.5, 1.2) : rng.uniform(1.2, 2.5),
      cortex: rng.uniform(0.9, 1.4),
      canalHalfWidth: cl,
      canalHalfDepth: cb,
      canalOffset: -(depths[k] / 2 + 1.5 + cb),
      fatFraction: Math.min(0.92, Math.max(0.1, ffMean + rng.gauss(0, 0.03) + (k === 'L5' || k === 'S1' ? 0.03 : 0))),
    };
  });
  const discs: DiscParams[] = [];
  for (let i = 0; i + 1 < LEVELS.length; i++) {
    const lo = vertebrae[i]!;
    const up = vertebrae[i + 1]!;
    const gap = gapAbove[lo.name];
    const sm = lo.s + lo.height / 2 + gap / 2;
    const f = frame(sm);
    discs.push({
      below: lo.name,
      above: up.name,
      center: pos(sm),
      ...f,
      halfWidth: (lo.width + up.width) / 4 + 0.5,
      halfDepth: (lo.depth + up.depth) / 4 + 0.8,
      halfSlab: gap / 2 + Math.max(lo.concavity, up.concavity) + 3.5,
      gap,
      degenerated: (lo.name === 'L5' || lo.name === 'L4' || lo.name === 'S1') && rng.bool(0.35),
      fused: lo.name === 'S2',
    });
  }
  // conus medullaris: around the L1-L2 disc
  const l1 = vertebrae.find((v) => v.name === 'L1')!;
  const conusZ = l1.center[2] - l1.height / 2 + rng.uniform(-15, 8);
  return {
    bone,
    marrowFatFraction: ffMean,
    textureScaleMm: bone === 'low' ? rng.uniform(4, 6) : rng.uniform(2, 3),
    textureAmplitude: bone === 'low' ? rng.uniform(0.09, 0.14) : rng.uniform(0.04, 0.07),
    sacralSlopeDeg: sacralSlope,
    lordosisDeg: lordosis,
    scoliosisMm: scolio,
    bodySize: size,
    backDistanceMm: rng.uniform(95, 135) * size,
    abdomenHalfDepthMm: rng.uniform(105, 145) * size,
    abdomenHalfWidthMm: rng.uniform(140, 180) * size,
    subcutFatMm: rng.uniform(8, 30) * size,
    conusZ,
    vertebrae,
    discs,
    noiseSeed: rng.int(1, 2 ** 30),
  };
}
