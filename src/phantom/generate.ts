/**
 * Phantom study generation in memory: anatomy → series geometry → rendered images + ground-truth label maps.
 * Synthetic data for tests and model training; NOT a claim of realism.
 */
import { cross, dot } from '../volume/geometry.js';
import { Anatomy, drawAnatomy, LEVELS, LEVEL_LABEL, type AnatomyParams, type BoneState, type LevelName } from './anatomy.js';
import { drawSequence, VENDOR_STYLE, VENDORS, type SeriesRole, type SequenceParams, type Vendor } from './protocol.js';
import { renderFrames, tissueJitter, type FrameGeom } from './render.js';
import { Rng, uidFrom } from './rng.js';
import type { Geometry, LabelMap, Mat3, Vec3, Volume } from '../volume/types.js';

export interface GenerateOptions {
  /** base seed; with `index` it fixes the whole study */
  seed: number;
  /** study number within a batch (default 0) */
  index?: number;
  /** default: drawn 50/50 from the seed */
  bone?: BoneState;
  /** default: drawn from the seed */
  vendor?: Vendor;
  /** write/describe series as Enhanced MR multi-frame objects */
  enhanced?: boolean;
  /** which roles to render (default all). Use ['t1','t2'] for fast training data. */
  roles?: SeriesRole[];
  /** samples across the slice thickness for partial volume (odd; default 3 for sagittal T1/T2/STIR, 1 otherwise) */
  subSamples?: number;
}

export interface PhantomSeries {
  role: SeriesRole;
  seriesInstanceUID: string;
  seriesNumber: number;
  description: string;
  sequence: SequenceParams;
  imageType: string[];
  /** frames in volume order (k ascending along row × col for stacks) */
  frames: FrameGeom[];
  /** instanceOrder[n] = index into `frames` of instance number n+1 */
  instanceOrder: number[];
  /** volume geometry (LPS) for stacks; null for the multi-orientation localizer */
  geometry: Geometry | null;
  rows: number;
  cols: number;
  sliceThickness: number;
  spacingBetweenSlices: number;
  /** real-world intensities (= stored * slope + intercept exactly), frame-major */
  image: Float32Array;
  stored: Uint16Array;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** level label map (L1=1..L5=5, T10=10, T11=11, T12=12, S1=20, S2=21) */
  levels: Uint8Array;
  /** tissue classes 0..9 (see README) */
  tissue: Uint8Array;
  sopInstanceUIDs: string[];
  /** levels whose body appears in this series */
  levelsPresent: LevelName[];
}

export interface PhantomStudy {
  seed: number;
  index: number;
  studyInstanceUID: string;
  frameOfReferenceUID: string;
  studyId: string;
  patientName: string;
  patientId: string;
  patientSex: 'F' | 'M';
  patientAge: number;
  birthDate: string;
  studyDate: string;
  studyTime: string;
  accessionNumber: string;
  vendor: Vendor;
  bone: BoneState;
  enhanced: boolean;
  anatomy: AnatomyParams;
  series: PhantomSeries[];
}

export const DEFAULT_ROLES: SeriesRole[] = ['localizer', 't1', 't2', 'stir', 'axial-t2', 'derived'];

type M3 = [Vec3, Vec3, Vec3];
function rotX(a: number): M3 {
  const c = Math.cos(a), s = Math.sin(a);
  return [[1, 0, 0], [0, c, -s], [0, s, c]];
}
function rotY(a: number): M3 {
  const c = Math.cos(a), s = Math.sin(a);
  return [[c, 0, s], [0, 1, 0], [-s, 0, c]];
}
function rotZ(a: number): M3 {
  const c = Math.cos(a), s = Math.sin(a);
  return [[c, -s, 0], [s, c, 0], [0, 0, 1]];
}
function mulMV(m: M3, v: Vec3): Vec3 {
  return [m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2], m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2], m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2]];
}
const DEG = Math.PI / 180;

/** Round direction cosines to 6 decimals and re-orthonormalise so DICOM strings reproduce them exactly. */
function cleanAxes(row: Vec3, col: Vec3): { row: Vec3; col: Vec3 } {
  const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
  const rr = row.map(r6) as Vec3;
  const cc = col.map(r6) as Vec3;
  return { row: rr, col: cc };
}

interface Stack {
  center: Vec3;
  row: Vec3;
  col: Vec3;
  rows: number;
  cols: number;
  pixel: number;
  n: number;
  thickness: number;
  spacing: number;
}

function stackFrames(s: Stack): FrameGeom[] {
  const nrm = cross(s.row, s.col);
  const frames: FrameGeom[] = [];
  for (let k = 0; k < s.n; k++) {
    const off = (k - (s.n - 1) / 2) * s.spacing;
    const p: Vec3 = [0, 1, 2].map(
      (a) => s.center[a]! - ((s.cols - 1) / 2) * s.pixel * s.row[a]! - ((s.rows - 1) / 2) * s.pixel * s.col[a]! + off * nrm[a]!,
    ) as Vec3;
    frames.push({ position: p.map((v) => Math.round(v * 1e4) / 1e4) as Vec3, row: s.row, col: s.col, rows: s.rows, cols: s.cols, spacingI: s.pixel, spacingJ: s.pixel, thickness: s.thickness });
  }
  return frames;
}

/** Volume geometry of a stack of frames in volume order (k ascending along row × col). */
export function framesGeometry(frames: FrameGeom[]): Geometry {
  const f0 = frames[0]!;
  const unit = (v: Vec3): Vec3 => {
    const l = Math.hypot(v[0], v[1], v[2]);
    return [v[0] / l, v[1] / l, v[2] / l];
  };
  const row = unit(f0.row);
  const col = unit(f0.col);
  const n = unit(cross(row, col));
  const last = frames[frames.length - 1]!;
  const dz = frames.length > 1 ? (dot(n, last.position) - dot(n, f0.position)) / (frames.length - 1) : f0.thickness;
  const direction: Mat3 = [row[0], col[0], n[0], row[1], col[1], n[1], row[2], col[2], n[2]];
  return { dims: [f0.cols, f0.rows, frames.length], spacing: [f0.spacingI, f0.spacingJ, dz], origin: [...f0.position] as Vec3, direction };
}

function pickMatrix(rng: Rng, fov: number, choices: number[]): number {
  const ok = choices.filter((m) => fov / m >= 0.6 && fov / m <= 1.3);
  return rng.pick(ok.length ? ok : choices);
}

function quantise(src: Float32Array, slope: number, maxStored: number): { stored: Uint16Array; image: Float32Array } {
  const stored = new Uint16Array(src.length);
  const image = new Float32Array(src.length);
  const inv = 1 / slope;
  for (let i = 0; i < src.length; i++) {
    let q = Math.round(src[i]! * inv);
    if (q > maxStored) q = maxStored;
    stored[i] = q;
    image[i] = q * slope;
  }
  return { stored, image };
}

function labelsPresent(levels: Uint8Array): Uint8Array {
  const present = new Uint8Array(256);
  for (let i = 0; i < levels.length; i++) present[levels[i]!] = 1;
  return present;
}

/** Generate one phantom study in memory (deterministic for seed + index + options). */
export function generateStudy(opts: GenerateOptions): PhantomStudy {
  const index = opts.index ?? 0;
  const rng = new Rng('study', opts.seed, index);
  const bone: BoneState = opts.bone ?? (rng.bool() ? 'low' : 'normal');
  const vendor: Vendor = opts.vendor ?? rng.pick(VENDORS);
  const enhanced = !!opts.enhanced;
  const style = VENDOR_STYLE[vendor];
  const roles = opts.roles ?? DEFAULT_ROLES;
  const uidKey = [opts.seed, index, bone, vendor, enhanced ? 'e' : 'c'];
  const aRng = rng.fork('anatomy');
  const anchor: Vec3 = [aRng.uniform(-10, 10), aRng.uniform(20, 70), aRng.uniform(-60, 60)];
  const anatomyParams = drawAnatomy(aRng, bone, anchor);
  const anat = new Anatomy(anatomyParams);
  const V = anatomyParams.vertebrae;
  const vOf = (k: LevelName) => V.find((v) => v.name === k)!;
  const l3 = vOf('L3');
  const s1 = vOf('S1');
  const t11 = vOf('T11');

  const pRng = rng.fork('protocol');
  // shared sagittal slab
  const fov = pRng.uniform(280, 380);
  const nSlices = pRng.int(10, 15);
  const thickness = pRng.pick([4, 4.5, 5]);
  const gap = Math.round(thickness * pRng.pick([0.1, 0.1, 0.2]) * 10) / 10;
  const inPlane = pRng.uniform(-4, 4) * DEG;
  const obliqueZ = pRng.uniform(-6, 6) * DEG;
  const obliqueY = pRng.uniform(-4, 4) * DEG;
  const R0: M3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const rot = (v: Vec3) => mulMV(rotZ(obliqueZ), mulMV(rotY(obliqueY), mulMV(rotX(inPlane), mulMV(R0, v))));
  const sag = cleanAxes(rot([0, 1, 0]), rot([0, 0, -1]));
  // slab centre: off the mid-line, AP shift, and an SI shift that keeps S1 (tilted, so ±30 mm) and T11 inside
  const lo = s1.center[2] - 30;
  const hi = t11.center[2] + 8;
  const half = fov * 0.47;
  const zc = hi - lo <= 2 * half ? pRng.uniform(hi - half, lo + half) : lo + half;
  const center: Vec3 = [l3.center[0] + pRng.uniform(-6, 6), l3.center[1] + pRng.uniform(-15, 25), zc];
  const study: PhantomStudy = {
    seed: opts.seed,
    index,
    studyInstanceUID: uidFrom('study', ...uidKey),
    frameOfReferenceUID: uidFrom('for', ...uidKey),
    studyId: String(1000 + (index % 9000)),
    patientName: `PHANTOM^S${opts.seed}-${String(index + 1).padStart(4, '0')}`,
    patientId: `PH${opts.seed}-${String(index + 1).padStart(4, '0')}`,
    patientSex: rng.bool(0.85) ? 'F' : 'M',
    patientAge: rng.int(33, 91),
    birthDate: '',
    studyDate: '',
    studyTime: `${String(rng.int(7, 19)).padStart(2, '0')}${String(rng.int(0, 59)).padStart(2, '0')}00`,
    accessionNumber: `ACC${opts.seed}${String(index + 1).padStart(5, '0')}`,
    vendor,
    bone,
    enhanced,
    anatomy: anatomyParams,
    series: [],
  };
  const day = new Date(Date.UTC(2019, 0, 1) + rng.int(0, 5 * 365) * 86400000);
  const ymd = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');
  study.studyDate = ymd(day);
  study.birthDate = `${day.getUTCFullYear() - study.patientAge}0615`;

  const bias = { gx: pRng.uniform(-0.08, 0.08), gy: pRng.uniform(0.1, 0.45), gz: pRng.uniform(0.2, 0.8), ref: [l3.center[0], l3.center[1], l3.center[2]] as Vec3 };
  const jitter = tissueJitter(pRng);
  const noise = pRng.uniform(0.025, 0.05);
  const slope = style.slopeRange[0] === style.slopeRange[1] ? style.slopeRange[0] : Math.round(pRng.uniform(style.slopeRange[0], style.slopeRange[1]) * 1e4) / 1e4;
  const maxStored = 2 ** style.bitsStored - 1;

  // series order: localizer first, T1/T2 order random, then the rest
  const order: SeriesRole[] = ['localizer', ...(pRng.bool() ? (['t1', 't2'] as SeriesRole[]) : (['t2', 't1'] as SeriesRole[])), 'stir', 'axial-t2', 'derived'];
  // sagittal matrices: T2/STIR often share the T1 matrix (then one tissue sampling serves all contrasts)
  const mT1 = pickMatrix(pRng, fov, [256, 320, 384, 448, 512]);
  const mT2 = pRng.bool(0.7) ? mT1 : pickMatrix(pRng, fov, [320, 384, 448, 512]);
  const mStir = pRng.bool(0.7) ? mT2 : pickMatrix(pRng, fov, [256, 320, 384]);
  const sagMatrix: Partial<Record<SeriesRole, number>> = { t1: mT1, t2: mT2, stir: mStir, derived: mT1 };

  interface Plan {
    role: SeriesRole;
    number: number;
    rng: Rng;
    seq: SequenceParams;
    frames: FrameGeom[];
    reversed: boolean;
    key: string;
    subSamples: number;
  }
  const plans: Plan[] = [];
  order.forEach((role, idx) => {
    if (!roles.includes(role)) return;
    const sRng = rng.fork(`series-${role}`);
    const seq = drawSequence(sRng, role);
    let frames: FrameGeom[];
    let reversed = sRng.bool();
    let key: string;
    const sagittal = role === 't1' || role === 't2' || role === 'stir' || role === 'derived';
    if (sagittal) {
      const m = sagMatrix[role]!;
      const pixel = Math.round((fov / m) * 1e5) / 1e5;
      frames = stackFrames({ center, row: sag.row, col: sag.col, rows: m, cols: m, pixel, n: nSlices, thickness, spacing: thickness + gap });
      key = `sag-${m}`;
    } else if (role === 'axial-t2') {
      const l4 = vOf('L4');
      const afov = sRng.uniform(180, 240);
      const m = pickMatrix(sRng, afov, [256, 320]);
      const tilt = sRng.uniform(-8, 8) * DEG;
      const ax = cleanAxes(mulMV(rotX(tilt), [1, 0, 0]), mulMV(rotX(tilt), [0, 1, 0]));
      const n = sRng.int(15, 21);
      const th = 4;
      frames = stackFrames({ center: [l4.center[0], l4.center[1] + 20, l4.center[2] - 10], row: ax.row, col: ax.col, rows: m, cols: m, pixel: Math.round((afov / m) * 1e5) / 1e5, n, thickness: th, spacing: th + sRng.pick([0.4, 0.8, 1]) });
      key = 'axial';
    } else {
      // 3-plane localizer: 3 sagittal, 3 coronal, 3 axial frames
      const m = 256;
      const px = 450 / m;
      const c: Vec3 = [l3.center[0], l3.center[1], l3.center[2]];
      frames = [
        ...stackFrames({ center: c, row: [0, 1, 0], col: [0, 0, -1], rows: m, cols: m, pixel: px, n: 3, thickness: 8, spacing: 12 }),
        ...stackFrames({ center: c, row: [1, 0, 0], col: [0, 0, -1], rows: m, cols: m, pixel: px, n: 3, thickness: 8, spacing: 12 }),
        ...stackFrames({ center: c, row: [1, 0, 0], col: [0, 1, 0], rows: m, cols: m, pixel: px, n: 3, thickness: 8, spacing: 12 }),
      ];
      reversed = false;
      key = 'localizer';
    }
    const subSamples = opts.subSamples ?? (sagittal ? 3 : 1);
    plans.push({ role, number: idx + 1, rng: sRng, seq, frames, reversed, key, subSamples });
  });

  // render: one pass per distinct geometry; derived reuses the T1 pixels when T1 is rendered
  const rendered = new Map<SeriesRole, { image: Float32Array; levels: Uint8Array; tissue: Uint8Array }>();
  const groups = new Map<string, Plan[]>();
  for (const p of plans) {
    if (p.role === 'derived' && plans.some((q) => q.role === 't1')) continue;
    const g = groups.get(p.key) ?? [];
    g.push(p);
    groups.set(p.key, g);
  }
  for (const g of groups.values()) {
    const out = renderFrames(anat, g[0]!.frames, {
      contrasts: g.map((p) => p.seq.contrast),
      subSamples: g[0]!.subSamples,
      scale: style.scale,
      noise,
      seeds: g.map((p) => p.rng.int(1, 2 ** 30)),
      tissueJitter: jitter,
      bias,
    });
    g.forEach((p, c) => rendered.set(p.role, { image: out.images[c]!, levels: out.levels, tissue: out.tissue }));
  }
  if (!rendered.has('derived') && rendered.has('t1')) rendered.set('derived', rendered.get('t1')!);

  for (const p of plans) {
    const img = rendered.get(p.role)!;
    const frames = p.frames;
    // quantise to stored values; image holds the exact real-world values
    const { stored, image } = quantise(img.image, slope, maxStored);
    const geometry = p.role !== 'localizer' ? framesGeometry(frames) : null;
    const present = labelsPresent(img.levels);
    const levelsPresent = LEVELS.filter((k) => present[LEVEL_LABEL[k]]);
    const nF = frames.length;
    const instanceOrder = Array.from({ length: nF }, (_, i) => (p.reversed ? nF - 1 - i : i));
    study.series.push({
      role: p.role,
      seriesInstanceUID: uidFrom('series', p.role, ...uidKey),
      seriesNumber: style.seriesNumber(p.number),
      description: p.rng.pick(style.descriptions[p.role]),
      sequence: p.seq,
      imageType: p.role === 'derived' ? ['DERIVED', 'SECONDARY', 'MPR'] : ['ORIGINAL', 'PRIMARY', 'M', 'NORM'],
      frames,
      instanceOrder,
      geometry,
      rows: frames[0]!.rows,
      cols: frames[0]!.cols,
      sliceThickness: frames[0]!.thickness,
      spacingBetweenSlices: geometry ? Math.round(geometry.spacing[2] * 1e4) / 1e4 : frames[0]!.thickness,
      image,
      stored,
      rescaleSlope: slope,
      rescaleIntercept: 0,
      levels: img.levels,
      tissue: img.tissue,
      sopInstanceUIDs: Array.from({ length: enhanced ? 1 : nF }, (_, i) => uidFrom('sop', p.role, i, ...uidKey)),
      levelsPresent,
    });
  }
  return study;
}

/** The image of a generated stack series as a Volume (LPS geometry, real-world values). */
export function seriesVolume(s: PhantomSeries): Volume {
  if (!s.geometry) throw new Error(`series ${s.role} has no volume geometry (multi-orientation localizer)`);
  return { ...s.geometry, data: s.image };
}

/** The level or tissue truth of a generated stack series as a LabelMap on the same grid. */
export function seriesLabelMap(s: PhantomSeries, which: 'levels' | 'tissue'): LabelMap {
  if (!s.geometry) throw new Error(`series ${s.role} has no volume geometry (multi-orientation localizer)`);
  return { ...s.geometry, data: which === 'levels' ? s.levels : s.tissue };
}
