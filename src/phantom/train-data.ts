/**
 * Training-data export for the segmentation model (offline; used by scripts/segmentation/export-training.mjs).
 *
 * Draws phantom anatomies (src/phantom: both bone states, random pose, field of view, resolution, slice
 * thickness/gap, in-plane orientation convention), renders tissue + level labels and the phantom's T1 and T2
 * images on a sagittal stack, and writes them resampled onto the model grid exactly as inference does
 * (./slices.ts + ./normalise.ts). The Python trainer re-synthesises images from the tissue labels
 * (SynthSeg-style) and also uses the phantom renderings.
 */
import { cross } from '../volume/geometry.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Anatomy, drawAnatomy, type BoneState } from './anatomy.js';
import { renderFrames, tissueJitter, type Contrast, type FrameGeom } from './render.js';
import { Rng } from './rng.js';
import type { LabelMap, Mat3, Vec3, Volume } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { normStats, normalise } from '../segmentation/normalise.js';
import { bodyShape } from '../segmentation/roi.js';
import { MODEL_MULTIPLE, MODEL_SPACING, CLASS } from '../segmentation/segmenter.js';
import { labelsToModelGrid, modelGrid, planeFrame, toModelGrid } from '../segmentation/slices.js';
import type { BodyInfo } from '../segmentation/levels/index.js';

export const TISSUE_CSF = 4;
export const TISSUE_SUBCUT_FAT = 8;
export const SACRAL_LABELS = new Set([20, 21]);

/** Network target classes from phantom level + tissue labels. */
export function targetClasses(levels: Uint8Array, tissue: Uint8Array): Uint8Array {
  const out = new Uint8Array(levels.length);
  for (let v = 0; v < levels.length; v++) {
    const l = levels[v];
    if (l !== 0) out[v] = SACRAL_LABELS.has(l) ? CLASS.sacrum : CLASS.body;
    else if (tissue[v] === TISSUE_CSF) out[v] = CLASS.csf;
    else if (tissue[v] === TISSUE_SUBCUT_FAT) out[v] = CLASS.fat;
  }
  return out;
}

function rotate(v: Vec3, axis: 0 | 1 | 2, ang: number): Vec3 {
  const c = Math.cos(ang);
  const s = Math.sin(ang);
  const [x, y, z] = v;
  if (axis === 0) return [x, c * y - s * z, s * y + c * z];
  if (axis === 1) return [c * x + s * z, y, -s * x + c * z];
  return [c * x - s * y, s * x + c * y, z];
}


export interface SimStudy {
  id: string;
  bone: BoneState;
  geometry: Omit<Volume, 'data'>;
  levels: Uint8Array;
  tissue: Uint8Array;
  images: Partial<Record<Contrast, Float32Array>>;
}

/** One random sagittal phantom study (labels + T1 + T2) in namespace `ns` with index `n`. */
export interface FixedProtocol {
  matrix: number;
  slices: number;
  fovMm: number;
  thicknessMm: number;
  gapMm: number;
}

export function simulateStudy(ns: string, n: number, contrasts: Contrast[] = ['T1', 'T2'], fixed?: FixedProtocol): SimStudy {
  const rng = new Rng(ns, n);
  const bone: BoneState = rng.bool(0.5) ? 'low' : 'normal';
  const anchor: Vec3 = [rng.uniform(-5, 5), rng.uniform(-10, 10), rng.uniform(-20, 20)];
  const anat = new Anatomy(drawAnatomy(rng, bone, anchor));
  const fov = rng.uniform(260, 380);
  const sp0 = rng.uniform(0.75, 1.4);
  const npx = fixed ? fixed.matrix : Math.min(384, Math.max(192, Math.round(fov / sp0)));
  const sp = fixed ? fixed.fovMm / fixed.matrix : sp0;
  const nSlices0 = rng.int(9, 17);
  const thick0 = rng.uniform(3, 5.5);
  const gap0 = rng.uniform(0, 1.2);
  const nSlices = fixed ? fixed.slices : nSlices0;
  const thick = fixed ? fixed.thicknessMm : thick0;
  const gap = fixed ? fixed.gapMm : gap0;
  let row: Vec3 = [0, rng.bool(0.8) ? 1 : -1, 0];
  let col: Vec3 = [0, 0, -1];
  const rots: [0 | 1 | 2, number][] = [
    [0, rng.uniform(-12, 12)],
    [1, rng.uniform(-5, 5)],
    [2, rng.uniform(-5, 5)],
  ];
  for (const [ax, deg] of rots) {
    row = rotate(row, ax, (deg * Math.PI) / 180);
    col = rotate(col, ax, (deg * Math.PI) / 180);
  }
  let nrm = cross(row, col);
  if (nrm[0] < 0 && rng.bool(0.5)) nrm = [-nrm[0], -nrm[1], -nrm[2]];
  // FOV centre: near L3, shifted so the field sometimes misses T11/T12 or S2
  const centre: Vec3 = [anchor[0] + rng.uniform(-4, 4), anchor[1] + rng.uniform(-30, 30) + 20, anchor[2] + rng.uniform(-45, 35)];
  const step = thick + gap;
  const frames: FrameGeom[] = [];
  for (let k = 0; k < nSlices; k++) {
    const off = (k - (nSlices - 1) / 2) * step;
    const c: Vec3 = [centre[0] + nrm[0] * off, centre[1] + nrm[1] * off, centre[2] + nrm[2] * off];
    const half = ((npx - 1) / 2) * sp;
    const position: Vec3 = [c[0] - row[0] * half - col[0] * half, c[1] - row[1] * half - col[1] * half, c[2] - row[2] * half - col[2] * half];
    frames.push({ position, row, col, rows: npx, cols: npx, spacingI: sp, spacingJ: sp, thickness: thick });
  }
  const direction: Mat3 = [row[0], col[0], nrm[0], row[1], col[1], nrm[1], row[2], col[2], nrm[2]];
  const geometry = { dims: [npx, npx, nSlices] as Vec3, spacing: [sp, sp, step] as Vec3, origin: frames[0].position, direction };
  const lab = renderFrames(anat, frames, { contrasts: [], subSamples: 1, scale: 1, noise: 0, seeds: [], bias: { gx: 0, gy: 0, gz: 0, ref: anchor }, labelsOnly: true });
  const images: Partial<Record<Contrast, Float32Array>> = {};
  for (const c of contrasts) {
    const r = renderFrames(anat, frames, {
      contrasts: [c],
      subSamples: 3,
      scale: rng.uniform(300, 3000),
      noise: rng.uniform(0.01, 0.06),
      seeds: [rng.int(1, 2 ** 30)],
      tissueJitter: tissueJitter(rng),
      bias: { gx: rng.uniform(-0.3, 0.3), gy: rng.uniform(-0.4, 0.4), gz: rng.uniform(0, 1.5), ref: [anchor[0], anchor[1] + 60, anchor[2]] },
    });
    images[c] = r.images[0];
  }
  return { id: `${ns}-${n}`, bone, geometry, levels: lab.levels, tissue: lab.tissue, images };
}

export interface BodyStats {
  level: number;
  volumeMm3: number;
  ratio: number;
  touchesEdge: boolean;
}

/** Ground-truth L1-L4 size/shape statistics of a level label map (for the QA ranges). */
export function groundTruthBodyStats(levels: LabelMap): BodyStats[] {
  const out: BodyStats[] = [];
  const [nx, ny, nz] = levels.dims;
  const voxMm3 = levels.spacing[0] * levels.spacing[1] * levels.spacing[2];
  const cents = new Map<number, { n: number; s: Vec3; min: Vec3; max: Vec3 }>();
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const l = levels.data[i + j * nx + k * nx * ny];
        if (!l) continue;
        let c = cents.get(l);
        if (!c) cents.set(l, (c = { n: 0, s: [0, 0, 0], min: [i, j, k], max: [i, j, k] }));
        c.n++;
        c.s[0] += i;
        c.s[1] += j;
        c.s[2] += k;
        c.min = [Math.min(c.min[0], i), Math.min(c.min[1], j), Math.min(c.min[2], k)];
        c.max = [Math.max(c.max[0], i), Math.max(c.max[1], j), Math.max(c.max[2], k)];
      }
  const pt = (l: number): Vec3 | undefined => {
    const c = cents.get(l);
    return c ? indexToPoint(levels, c.s[0] / c.n, c.s[1] / c.n, c.s[2] / c.n) : undefined;
  };
  const order = [20, 5, 4, 3, 2, 1, 12];
  for (const l of [1, 2, 3, 4]) {
    const c = cents.get(l);
    if (!c) continue;
    const idx = order.indexOf(l);
    const below = pt(order[idx - 1]);
    const above = pt(order[idx + 1]);
    const centroid = pt(l)!;
    let axis: Vec3 = [0, 0, 1];
    if (below && above) {
      const d: Vec3 = [above[0] - below[0], above[1] - below[1], above[2] - below[2]];
      const n = Math.hypot(...d);
      axis = [d[0] / n, d[1] / n, d[2] / n];
    }
    const ci: Vec3 = [c.s[0] / c.n, c.s[1] / c.n, c.s[2] / c.n];
    const info: BodyInfo = { level: `L${l}`, label: l, volumeMm3: c.n * voxMm3, centroid, centroidIndex: ci, midSlice: Math.round(ci[2]), componentId: 0, voxels: c.n, bbox: { min: c.min, max: c.max } };
    const sh = bodyShape(levels, info, axis, (i, j, k) => indexToPoint(levels, i, j, k));
    const touchesEdge = c.min[0] <= 0 || c.min[1] <= 0 || c.max[0] >= nx - 1 || c.max[1] >= ny - 1 || c.min[2] <= 0 || c.max[2] >= nz - 1;
    out.push({ level: l, volumeMm3: c.n * voxMm3, ratio: sh.ratio, touchesEdge });
  }
  return out;
}

export interface ExportEntry {
  id: string;
  split: 'train' | 'val';
  bone: BoneState;
  nz: number;
  height: number;
  width: number;
  tissue: string;
  target: string;
  images: string[];
  bodies: BodyStats[];
}

/** Simulates `count` studies and writes them (model grid) to `outDir`; returns the index entries. */
export function exportStudies(outDir: string, ns: string, first: number, count: number, split: 'train' | 'val', log: (s: string) => void = () => {}): ExportEntry[] {
  mkdirSync(outDir, { recursive: true });
  const entries: ExportEntry[] = [];
  for (let n = first; n < first + count; n++) {
    const st = simulateStudy(ns, n);
    const frame = planeFrame(st.geometry);
    if ('error' in frame) throw new Error(frame.error);
    const grid = modelGrid(st.geometry, frame, MODEL_SPACING, MODEL_MULTIPLE);
    const nz = st.geometry.dims[2];
    const target = targetClasses(st.levels, st.tissue);
    const base = `${st.id}`;
    writeFileSync(path.join(outDir, `${base}_tissue.u8`), labelsToModelGrid(st.tissue, st.geometry, grid));
    writeFileSync(path.join(outDir, `${base}_target.u8`), labelsToModelGrid(target, st.geometry, grid));
    const imgs: string[] = [];
    for (const [c, img] of Object.entries(st.images)) {
      const ns_ = normStats(img!);
      const norm = normalise(img!, ns_);
      const fill = Math.max(-1, Math.min(3, (0 - ns_.lo) / (ns_.hi - ns_.lo)));
      const stack = toModelGrid({ ...st.geometry, data: norm }, grid, 0, nz, fill);
      const f = `${base}_${c}.f32`;
      writeFileSync(path.join(outDir, f), Buffer.from(stack.buffer, stack.byteOffset, stack.byteLength));
      imgs.push(f);
    }
    const bodies = groundTruthBodyStats({ ...st.geometry, data: st.levels });
    entries.push({ id: st.id, split, bone: st.bone, nz, height: grid.height, width: grid.width, tissue: `${base}_tissue.u8`, target: `${base}_target.u8`, images: imgs, bodies });
    log(`${st.id} ${st.geometry.dims.join('x')} -> ${grid.width}x${grid.height}`);
  }
  return entries;
}

/**
 * Same export, from `generateStudy` of the phantom generator (its own protocol/vendor variation): study `n`
 * uses seed `seed`, index n, vendor VENDORS[n % 3], bone alternating.
 */
export async function exportGeneratorStudies(outDir: string, seed: number, first: number, count: number, split: 'train' | 'val', log: (s: string) => void = () => {}): Promise<ExportEntry[]> {
  const { generateStudy, VENDORS } = await import('../phantom/index.js');
  mkdirSync(outDir, { recursive: true });
  const entries: ExportEntry[] = [];
  for (let n = first; n < first + count; n++) {
    const study = generateStudy({ seed, index: n, vendor: VENDORS[n % VENDORS.length], bone: n % 2 ? 'low' : 'normal', roles: ['t1', 't2'] });
    const t1 = study.series.find((s) => s.role === 't1')!;
    const t2 = study.series.find((s) => s.role === 't2')!;
    const g = t1.geometry!;
    const frame = planeFrame(g);
    if ('error' in frame) throw new Error(frame.error);
    const grid = modelGrid(g, frame, MODEL_SPACING, MODEL_MULTIPLE);
    const nz = g.dims[2];
    const base = `gen${seed}-${n}`;
    writeFileSync(path.join(outDir, `${base}_tissue.u8`), labelsToModelGrid(t1.tissue, g, grid));
    writeFileSync(path.join(outDir, `${base}_target.u8`), labelsToModelGrid(targetClasses(t1.levels, t1.tissue), g, grid));
    const imgs: string[] = [];
    for (const s of [t1, t2]) {
      // T1 and T2 share the geometry in the generator; skip otherwise
      if (!s.geometry || s.geometry.dims.join() !== g.dims.join()) continue;
      const st = normStats(s.image);
      const norm = normalise(s.image, st);
      const fill = Math.max(-1, Math.min(3, (0 - st.lo) / (st.hi - st.lo)));
      const stack = toModelGrid({ ...g, data: norm }, grid, 0, nz, fill);
      const f = `${base}_${s.role}.f32`;
      writeFileSync(path.join(outDir, f), Buffer.from(stack.buffer, stack.byteOffset, stack.byteLength));
      imgs.push(f);
    }
    const bodies = groundTruthBodyStats({ ...g, data: t1.levels });
    entries.push({ id: base, split, bone: study.bone, nz, height: grid.height, width: grid.width, tissue: `${base}_tissue.u8`, target: `${base}_target.u8`, images: imgs, bodies });
    log(`${base} ${study.vendor} ${g.dims.join('x')} -> ${grid.width}x${grid.height}`);
  }
  return entries;
}
