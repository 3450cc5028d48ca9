/**
 * Neighbouring Gray Tone Difference Matrix (PyRadiomics `ngtdm`): for each gray level i, n_i voxels and
 * s_i = Σ |i − Ā_i| where Ā_i is the mean gray level of the voxel's neighbours inside the ROI (26 in 3-D);
 * voxels without neighbours contribute 0.
 */
import { force2DAxis, generateAngles } from '../roi.js';
import { neighbourIndex } from './common.js';
import type { FeatureClassDef, FeatureInput } from './types.js';

export interface NgtdmCtx {
  i: Float64Array; // gray levels present
  p: Float64Array; // n_i / N_vp
  s: Float64Array;
  Nvp: number;
  Ngp: number;
}

function prepare(input: FeatureInput): NgtdmCtx {
  const { roi, setting } = input;
  const d = input.discretized();
  const [nx, ny, nz] = roi.dims;
  const offs = generateAngles(roi.dims, setting.distances, true, force2DAxis(setting));
  const n = new Float64Array(d.ng + 1);
  const s = new Float64Array(d.ng + 1);
  const nxy = nx * ny;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const i = x + y * nx + z * nxy;
        if (!roi.mask[i]) continue;
        const g = d.bins[i]!;
        let cnt = 0;
        let sum = 0;
        for (const a of offs) {
          const j = neighbourIndex(x, y, z, a, nx, ny, nz);
          if (j >= 0 && roi.mask[j]) { cnt++; sum += d.bins[j]!; }
        }
        n[g]!++;
        s[g]! += cnt === 0 ? 0 : Math.abs(g - sum / cnt);
      }
    }
  }
  const lv = d.levels;
  const ii = Float64Array.from(lv);
  let Nvp = 0;
  for (const l of lv) Nvp += n[l]!;
  const p = Float64Array.from(lv, (l) => n[l]! / Nvp);
  const ss = Float64Array.from(lv, (l) => s[l]!);
  return { i: ii, p, s: ss, Nvp, Ngp: lv.length };
}

type C = NgtdmCtx;

export const ngtdm: FeatureClassDef<NgtdmCtx> = {
  name: 'ngtdm',
  doc: 'n_i voxels of gray level i, p_i = n_i/N_vp, s_i = Σ |i − Ā_i| (Ā_i mean of the neighbours in the ROI), N_gp levels present.',
  prepare,
  features: {
    Coarseness: {
      doc: 'Coarseness = 1 / Σ_i p_i s_i (10⁶ when the sum is 0).',
      compute: (c) => { let t = 0; for (let k = 0; k < c.i.length; k++) t += c.p[k]! * c.s[k]!; return t === 0 ? 1e6 : 1 / t; },
    },
    Contrast: {
      doc: 'Contrast = [1/(N_gp(N_gp−1)) Σ_i Σ_j p_i p_j (i − j)²] · [Σ_i s_i / N_vp]; 0 when N_gp = 1.',
      compute: (c) => {
        if (c.Ngp <= 1) return 0;
        let a = 0;
        for (let x = 0; x < c.i.length; x++) for (let y = 0; y < c.i.length; y++) a += c.p[x]! * c.p[y]! * (c.i[x]! - c.i[y]!) ** 2;
        const ssum = c.s.reduce((t, v) => t + v, 0);
        return (a * ssum) / c.Nvp / (c.Ngp * (c.Ngp - 1));
      },
    },
    Busyness: {
      doc: 'Busyness = Σ_i p_i s_i / Σ_i Σ_j |i p_i − j p_j| (p_i, p_j ≠ 0); 0 when the denominator is 0.',
      compute: (c) => {
        let num = 0;
        let den = 0;
        for (let x = 0; x < c.i.length; x++) {
          num += c.p[x]! * c.s[x]!;
          for (let y = 0; y < c.i.length; y++) den += Math.abs(c.i[x]! * c.p[x]! - c.i[y]! * c.p[y]!);
        }
        return den === 0 ? 0 : num / den;
      },
    },
    Complexity: {
      doc: 'Complexity = (1/N_vp) Σ_i Σ_j |i − j| (p_i s_i + p_j s_j) / (p_i + p_j) (p_i, p_j ≠ 0).',
      compute: (c) => {
        let t = 0;
        for (let x = 0; x < c.i.length; x++) {
          for (let y = 0; y < c.i.length; y++) {
            const dv = c.p[x]! + c.p[y]!;
            t += (Math.abs(c.i[x]! - c.i[y]!) * (c.p[x]! * c.s[x]! + c.p[y]! * c.s[y]!)) / (dv === 0 ? 1 : dv);
          }
        }
        return t / c.Nvp;
      },
    },
    Strength: {
      doc: 'Strength = Σ_i Σ_j (p_i + p_j)(i − j)² / Σ_i s_i (p_i, p_j ≠ 0); 0 when Σ s_i = 0.',
      compute: (c) => {
        let t = 0;
        for (let x = 0; x < c.i.length; x++) for (let y = 0; y < c.i.length; y++) t += (c.p[x]! + c.p[y]!) * (c.i[x]! - c.i[y]!) ** 2;
        const ssum = c.s.reduce((v, w) => v + w, 0);
        return ssum === 0 ? 0 : t / ssum;
      },
    },
  },
};
