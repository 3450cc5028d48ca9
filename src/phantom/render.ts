/**
 * Renders phantom anatomy into image frames: tissue/level labels at the pixel centre, intensities averaged over
 * sub-samples across the slice thickness (partial volume), coil bias field, Rician noise.
 */
import { Anatomy, OS, T, TISSUE_EXPORT, INTERNAL_TISSUES } from './anatomy.js';
import { Rng } from './rng.js';
import type { Vec3 } from '../volume/types.js';

export type Contrast = 'T1' | 'T2' | 'STIR' | 'GRE';

/** One image plane: DICOM-style position of the first pixel centre, row/column direction cosines. */
export interface FrameGeom {
  position: Vec3;
  /** direction of increasing column index i (DICOM IOP first triplet) */
  row: Vec3;
  /** direction of increasing row index j (DICOM IOP second triplet) */
  col: Vec3;
  rows: number;
  cols: number;
  /** spacing along `row` (between columns) */
  spacingI: number;
  /** spacing along `col` (between rows) */
  spacingJ: number;
  thickness: number;
}

export interface RenderOptions {
  /** one image per contrast is rendered from the same tissue sampling */
  contrasts: Contrast[];
  /** odd number of samples across the slice thickness (1 = centre only) */
  subSamples: number;
  /** intensity of a relative value 1.0 */
  scale: number;
  /** Rician noise sigma relative to `scale` */
  noise: number;
  /** noise seed per contrast */
  seeds: number[];
  /** per-study multiplicative jitter per internal tissue (length INTERNAL_TISSUES) */
  tissueJitter?: Float64Array;
  bias: { gx: number; gy: number; gz: number; ref: Vec3 };
  /** skip intensities (labels only) */
  labelsOnly?: boolean;
}

export interface RenderResult {
  /** one per contrast */
  images: Float32Array[];
  levels: Uint8Array;
  tissue: Uint8Array;
}

// relative intensities per internal tissue id: air marrow(computed) cortical disc(annulus) csf cord posterior(factor)
// muscle subcutFat viscera abdominalFat vessel epiduralFat fusedDisc
const TABLE: Record<Contrast, number[]> = {
  T1: [0, 0, 0.07, 0.3, 0.12, 0.38, 0.85, 0.3, 1.0, 0.42, 0.95, 0.06, 0.9, 0.1],
  T2: [0, 0, 0.05, 0.2, 1.0, 0.45, 0.85, 0.2, 0.8, 0.5, 0.78, 0.04, 0.75, 0.08],
  STIR: [0, 0, 0.03, 0.18, 0.95, 0.4, 0.85, 0.16, 0.05, 0.45, 0.05, 0.03, 0.06, 0.05],
  GRE: [0, 0, 0.1, 0.35, 0.2, 0.4, 0.85, 0.35, 0.9, 0.45, 0.85, 0.7, 0.8, 0.12],
};
const NUCLEUS: Record<Contrast, number> = { T1: 0.34, T2: 0.8, STIR: 0.72, GRE: 0.38 };
const NUCLEUS_DEGEN: Record<Contrast, number> = { T1: 0.3, T2: 0.3, STIR: 0.28, GRE: 0.34 };

function marrowValue(c: Contrast, ff: number): number {
  switch (c) {
    case 'T1':
      return 0.3 + 0.72 * ff;
    case 'T2':
      return 0.34 + 0.42 * ff;
    case 'STIR':
      return 0.04 + 0.32 * (1 - ff);
    case 'GRE':
      return 0.35 + 0.5 * ff;
  }
}

/** Gaussian samples for fast noise. */
const GAUSS = (() => {
  const r = new Rng('gauss-table');
  const g = new Float32Array(1 << 16);
  for (let i = 0; i < g.length; i++) g[i] = r.normal();
  return g;
})();

/** Render frames sharing rows × cols. Output arrays are frame-major: index = i + j*cols + f*cols*rows. */
export function renderFrames(anat: Anatomy, frames: FrameGeom[], o: RenderOptions): RenderResult {
  const rows = frames[0]!.rows;
  const cols = frames[0]!.cols;
  const n = rows * cols * frames.length;
  const NC = o.labelsOnly ? 0 : o.contrasts.length;
  const images = Array.from({ length: NC }, () => new Float32Array(n));
  const levels = new Uint8Array(n);
  const tissue = new Uint8Array(n);
  const S = Math.max(1, o.subSamples | 0) | 1;
  const mid = (S - 1) >> 1;
  const P = anat.p;
  const ffs = new Float64Array(P.vertebrae.map((v) => v.fatFraction));
  const levelOf = new Uint8Array(P.vertebrae.map((v) => v.label));
  const degen = new Uint8Array(P.discs.map((d) => (d.degenerated ? 1 : 0)));
  const texScale = 1 / P.textureScaleMm;
  const texAmp = P.textureAmplitude;
  const coarse = P.bone === 'low';
  // per contrast tables
  const tables = o.contrasts.map((c) => {
    const t = TABLE[c].slice();
    if (o.tissueJitter) for (let k = 0; k < t.length; k++) t[k]! *= o.tissueJitter[k]!;
    return new Float64Array(t);
  });
  const mA = new Float64Array(o.contrasts.map((c) => marrowValue(c, 0)));
  const mB = new Float64Array(o.contrasts.map((c) => marrowValue(c, 1) - marrowValue(c, 0)));
  const nucleus = new Float64Array(o.contrasts.map((c) => NUCLEUS[c]));
  const nucleusDegen = new Float64Array(o.contrasts.map((c) => NUCLEUS_DEGEN[c]));
  const nObj = anat.nObj;
  const cand = new Int32Array(nObj);
  const cLo = new Float64Array(nObj);
  const cHi = new Float64Array(nObj);
  const active = new Int32Array(nObj);
  const O = anat.obj;
  const acc = Array.from({ length: NC }, () => new Float64Array(cols));
  const rs = new Uint32Array(o.contrasts.map((_, c) => ((o.seeds[c] ?? c + 1) >>> 0) | 1));

  for (let f = 0; f < frames.length; f++) {
    const F = frames[f]!;
    const nrm: Vec3 = [
      F.row[1] * F.col[2] - F.row[2] * F.col[1],
      F.row[2] * F.col[0] - F.row[0] * F.col[2],
      F.row[0] * F.col[1] - F.row[1] * F.col[0],
    ];
    const dx = F.row[0] * F.spacingI;
    const dy = F.row[1] * F.spacingI;
    const dz = F.row[2] * F.spacingI;
    const dd = F.spacingI * F.spacingI;
    for (let j = 0; j < rows; j++) {
      for (let c = 0; c < NC; c++) acc[c]!.fill(0);
      const base = f * rows * cols + j * cols;
      for (let m = 0; m < S; m++) {
        const off = S === 1 ? 0 : ((m + 0.5) / S - 0.5) * F.thickness;
        const px = F.position[0] + F.col[0] * F.spacingJ * j + nrm[0] * off;
        const py = F.position[1] + F.col[1] * F.spacingJ * j + nrm[1] * off;
        const pz = F.position[2] + F.col[2] * F.spacingJ * j + nrm[2] * off;
        // cull objects against this line
        let nc = 0;
        for (let ob = 0; ob < nObj; ob++) {
          const b = ob * OS;
          const wx = O[b + 13]! - px;
          const wy = O[b + 14]! - py;
          const wz = O[b + 15]! - pz;
          const proj = (wx * dx + wy * dy + wz * dz) / dd;
          const d2 = wx * wx + wy * wy + wz * wz - proj * proj * dd;
          const rad = O[b + 12]!;
          if (d2 > rad * rad) continue;
          const half = Math.sqrt(rad * rad - d2) / F.spacingI;
          cand[nc] = ob;
          cLo[nc] = proj - half;
          cHi[nc] = proj + half;
          nc++;
        }
        for (let i = 0; i < cols; i++) {
          let na = 0;
          for (let c = 0; c < nc; c++) if (i >= cLo[c]! && i <= cHi[c]!) active[na++] = cand[c]!;
          const x = px + dx * i;
          const y = py + dy * i;
          const z = pz + dz * i;
          const t = anat.classify(x, y, z, active, na);
          if (m === mid) {
            tissue[base + i] = TISSUE_EXPORT[t]!;
            if ((t === T.marrow || t === T.cortical) && anat.auxObj >= 0) levels[base + i] = levelOf[anat.auxObj]!;
          }
          if (NC === 0) continue;
          if (t === T.marrow || t === T.posterior) {
            let ff = anat.auxObj >= 0 ? ffs[anat.auxObj]! : P.marrowFatFraction;
            ff += texAmp * anat.noise.at(x * texScale, y * texScale, z * texScale);
            if (coarse) ff += 0.6 * texAmp * anat.noise2.at(x * texScale * 0.4, y * texScale * 0.4, z * texScale * 0.4);
            ff = ff < 0 ? 0 : ff > 1 ? 1 : ff;
            for (let c = 0; c < NC; c++) {
              let v = mA[c]! + mB[c]! * ff;
              if (t === T.posterior) v *= tables[c]![T.posterior]!;
              acc[c]![i] += v;
            }
          } else if (t === T.disc) {
            const r = anat.auxR;
            const dg = anat.auxDisc >= 0 && degen[anat.auxDisc] === 1;
            const wgt = r < 0.35 ? 1 : r > 0.65 ? 0 : (0.65 - r) / 0.3;
            for (let c = 0; c < NC; c++) {
              const ann = tables[c]![T.disc]!;
              const nuc = dg ? nucleusDegen[c]! : nucleus[c]!;
              acc[c]![i] += ann + (nuc - ann) * wgt;
            }
          } else for (let c = 0; c < NC; c++) acc[c]![i] += tables[c]![t]!;
        }
      }
      if (NC === 0) continue;
      // bias + Rician noise
      const px = F.position[0] + F.col[0] * F.spacingJ * j;
      const py = F.position[1] + F.col[1] * F.spacingJ * j;
      const pz = F.position[2] + F.col[2] * F.spacingJ * j;
      const sigma = o.noise * o.scale;
      const B = o.bias;
      for (let i = 0; i < cols; i++) {
        const x = px + dx * i - B.ref[0];
        const y = py + dy * i - B.ref[1];
        const z = (pz + dz * i - B.ref[2]) / 200;
        const bias = (Math.exp((B.gx * x + B.gy * y) / 100 - B.gz * z * z) * o.scale) / S;
        for (let c = 0; c < NC; c++) {
          const s = acc[c]![i]! * bias;
          let r = rs[c]!;
          r ^= r << 13;
          r ^= r >>> 17;
          r ^= r << 5;
          rs[c] = r;
          const re = s + sigma * GAUSS[r & 0xffff]!;
          const im = sigma * GAUSS[(r >>> 16) & 0xffff]!;
          images[c]![base + i] = Math.sqrt(re * re + im * im);
        }
      }
    }
  }
  return { images, levels, tissue };
}

/** Per-study random multiplicative jitter of tissue intensities (±8%). */
export function tissueJitter(rng: Rng): Float64Array {
  const j = new Float64Array(INTERNAL_TISSUES);
  for (let t = 0; t < j.length; t++) j[t] = rng.uniform(0.92, 1.08);
  return j;
}
