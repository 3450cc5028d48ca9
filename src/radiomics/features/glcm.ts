/**
 * Gray Level Co-occurrence Matrix (PyRadiomics `glcm`). One matrix per angle (13 in 3-D for distance 1),
 * symmetric by default, rows/columns only for gray levels present; features are computed per angle and averaged
 * (or on one merged matrix when weightingNorm is set).
 */
import { symmetricEigenvalues } from '../eigen.js';
import { force2DAxis, generateAngles } from '../roi.js';
import { levelIndex, levelVolume } from './common.js';
import { EPS, nanMean, type FeatureClassDef, type FeatureInput } from './types.js';

/** Per-angle normalised matrix and its marginals. */
export interface GlcmAngle {
  p: Float64Array; // ng x ng (present levels), row-major
  px: Float64Array;
  py: Float64Array;
  ux: number;
  uy: number;
  pxAddy: Float64Array; // index k-2 for k = 2..2Ng
  pxSuby: Float64Array; // index k for k = 0..Ng-1
  hxy: number;
}

export interface GlcmCtx {
  /** Gray-level values of the rows/columns. */
  g: Float64Array;
  /** PyRadiomics Ng (highest level). */
  Ng: number;
  angles: GlcmAngle[];
  symmetric: boolean;
}

/** Raw co-occurrence counts per angle over present levels (asymmetric; i = centre, j = neighbour). */
export function glcmCounts(input: FeatureInput, distances: readonly number[]): { counts: Float64Array[]; offsets: Int32Array[]; nl: number; levels: Int32Array } {
  const { roi, setting } = input;
  const d = input.discretized();
  const [nx, ny, nz] = roi.dims;
  const nl = d.levels.length;
  const lev = levelVolume(roi.mask, d.bins, levelIndex(d.levels, d.ng));
  const offsets = generateAngles(roi.dims, distances, false, force2DAxis(setting));
  const counts: Float64Array[] = [];
  for (const a of offsets) {
    const m = new Float64Array(nl * nl);
    const [dx, dy, dz] = [a[0]!, a[1]!, a[2]!];
    const step = dx + dy * nx + dz * nx * ny;
    const x0 = Math.max(0, -dx), x1 = Math.min(nx, nx - dx);
    const y0 = Math.max(0, -dy), y1 = Math.min(ny, ny - dy);
    const z0 = Math.max(0, -dz), z1 = Math.min(nz, nz - dz);
    for (let z = z0; z < z1; z++) {
      for (let y = y0; y < y1; y++) {
        let i = x0 + y * nx + z * nx * ny;
        for (let x = x0; x < x1; x++, i++) {
          const li = lev[i]!;
          if (li < 0) continue;
          const lj = lev[i + step]!;
          if (lj < 0) continue;
          m[li * nl + lj]!++;
        }
      }
    }
    counts.push(m);
  }
  return { counts, offsets, nl, levels: d.levels };
}

function angleWeight(norm: string, a: Int32Array, spacing: readonly number[], glcm: boolean): number {
  const v = [Math.abs(a[0]!) * spacing[0]!, Math.abs(a[1]!) * spacing[1]!, Math.abs(a[2]!) * spacing[2]!];
  let dist: number;
  if (norm === 'infinity') dist = Math.max(...v);
  else if (norm === 'euclidean') dist = Math.sqrt(v[0]! ** 2 + v[1]! ** 2 + v[2]! ** 2);
  else if (norm === 'manhattan') dist = v[0]! + v[1]! + v[2]!;
  else return 1;
  return glcm ? Math.exp(-(dist * dist)) : dist;
}

/** Merge per-angle matrices with PyRadiomics distance weights (weightingNorm). */
export function mergeAngles(counts: Float64Array[], offsets: Int32Array[], norm: string, spacing: readonly number[], glcm: boolean): Float64Array {
  const out = new Float64Array(counts[0]?.length ?? 0);
  counts.forEach((m, a) => {
    const w = angleWeight(norm, offsets[a]!, spacing, glcm);
    for (let k = 0; k < m.length; k++) out[k]! += m[k]! * w;
  });
  return out;
}

function prepare(input: FeatureInput): GlcmCtx {
  const { setting } = input;
  const { counts, offsets, nl, levels } = glcmCounts(input, setting.distances);
  const g = Float64Array.from(levels);
  const Ng = input.discretized().ng;
  let mats = counts;
  if (setting.symmetricalGLCM) {
    mats = counts.map((m) => {
      const s = new Float64Array(m.length);
      for (let i = 0; i < nl; i++) for (let j = 0; j < nl; j++) s[i * nl + j] = m[i * nl + j]! + m[j * nl + i]!;
      return s;
    });
  }
  if (setting.weightingNorm !== null) mats = [mergeAngles(mats, offsets, setting.weightingNorm, input.roi.spacing, true)];
  const angles: GlcmAngle[] = [];
  const multi = mats.length > 1;
  for (const m of mats) {
    let sum = 0;
    for (let k = 0; k < m.length; k++) sum += m[k]!;
    if (sum === 0 && multi) continue; // empty angle deleted
    const p = new Float64Array(m.length);
    for (let k = 0; k < m.length; k++) p[k] = sum === 0 ? NaN : m[k]! / sum;
    const px = new Float64Array(nl);
    const py = new Float64Array(nl);
    let ux = 0, uy = 0, hxy = 0;
    const pxAddy = new Float64Array(Math.max(1, 2 * Ng - 1));
    const pxSuby = new Float64Array(Math.max(1, Ng));
    for (let i = 0; i < nl; i++) {
      for (let j = 0; j < nl; j++) {
        const v = p[i * nl + j]!;
        px[i]! += v;
        py[j]! += v;
        ux += g[i]! * v;
        uy += g[j]! * v;
        hxy -= v * Math.log2(v + EPS);
        pxAddy[g[i]! + g[j]! - 2]! += v;
        pxSuby[Math.abs(g[i]! - g[j]!)]! += v;
      }
    }
    angles.push({ p, px, py, ux, uy, pxAddy, pxSuby, hxy });
  }
  return { g, Ng, angles, symmetric: setting.symmetricalGLCM };
}

type A = GlcmAngle;
type C = GlcmCtx;

/** Per-angle sums needed by most features, computed in one pass over the matrix and cached. */
interface AngleStats {
  autocorr: number; cp: number; cs: number; ct: number; contrast: number;
  sx: number; sy: number; cor: number; energy: number; maxp: number; hxy1: number; hxy2: number; hx: number; hy: number;
}
const statsCache = new WeakMap<A, AngleStats>();
function stats(a: A, c: C): AngleStats {
  let st = statsCache.get(a);
  if (st) return st;
  const nl = c.g.length;
  const g = c.g;
  let autocorr = 0, cp = 0, cs = 0, ct = 0, contrast = 0, vx = 0, vy = 0, cor = 0, energy = 0, maxp = -Infinity, hxy1 = 0, hxy2 = 0;
  const ux = a.ux, uy = a.uy;
  for (let i = 0; i < nl; i++) {
    const gi = g[i]!;
    const pxi = a.px[i]!;
    for (let j = 0; j < nl; j++) {
      const v = a.p[i * nl + j]!;
      const gj = g[j]!;
      const q = pxi * a.py[j]!;
      hxy2 -= q * Math.log2(q + EPS);
      if (v > maxp) maxp = v;
      if (v === 0) continue;
      autocorr += v * gi * gj;
      const t = gi + gj - ux - uy;
      const t2 = t * t;
      ct += v * t2;
      cs += v * t2 * t;
      cp += v * t2 * t2;
      contrast += v * (gi - gj) * (gi - gj);
      vx += v * (gi - ux) * (gi - ux);
      vy += v * (gj - uy) * (gj - uy);
      cor += v * (gi - ux) * (gj - uy);
      energy += v * v;
      hxy1 -= v * Math.log2(q + EPS);
    }
  }
  st = { autocorr, cp, cs, ct, contrast, sx: Math.sqrt(vx), sy: Math.sqrt(vy), cor, energy, maxp, hxy1, hxy2, hx: entropy(a.px), hy: entropy(a.py) };
  statsCache.set(a, st);
  return st;
}
/** Average of a per-angle quantity (numpy.nanmean over angles). */
function perAngle(f: (a: A, c: C) => number): (c: C) => number {
  return (c) => nanMean(c.angles.map((a) => f(a, c)));
}
function entropy(p: Float64Array): number {
  let s = 0;
  for (const v of p) s -= v * Math.log2(v + EPS);
  return s;
}

/** Maximal correlation coefficient: sqrt of 2nd largest eigenvalue of Q = (D_x^-½ P D_y^-½)(…)ᵀ. */
function mcc(a: A, c: C): number {
  const nl = c.g.length;
  if (nl < 2) return 1;
  const B = new Float64Array(nl * nl);
  for (let i = 0; i < nl; i++) {
    for (let j = 0; j < nl; j++) {
      const den = Math.sqrt(a.px[i]! * a.py[j]!);
      B[i * nl + j] = den > 0 ? a.p[i * nl + j]! / den : 0;
    }
  }
  let sq: Float64Array;
  if (c.symmetric) {
    // P symmetric ⇒ B symmetric and Q = B², so the eigenvalues of Q are the squares of those of B.
    sq = symmetricEigenvalues(B, nl).map((x) => x * x).sort();
  } else {
    // S = B Bᵀ (symmetric PSD) has the eigenvalues of Q.
    const S = new Float64Array(nl * nl);
    for (let i = 0; i < nl; i++) {
      for (let j = i; j < nl; j++) {
        let s = 0;
        for (let k = 0; k < nl; k++) s += B[i * nl + k]! * B[j * nl + k]!;
        S[i * nl + j] = s;
        S[j * nl + i] = s;
      }
    }
    sq = symmetricEigenvalues(S, nl);
  }
  return Math.sqrt(Math.max(0, sq[nl - 2]!));
}

export const glcm: FeatureClassDef<GlcmCtx> = {
  name: 'glcm',
  doc: 'p(i,j) = normalised co-occurrence matrix per angle (distance from `distances`), p_x, p_y marginals, μ_x, μ_y means, σ SDs; p_{x+y}(k), p_{x−y}(k) sum/difference distributions; ε = 2.2e-16. Values averaged over angles.',
  prepare,
  nanReason: 'no pair of neighbouring ROI voxels along any direction (empty co-occurrence matrices)',
  features: {
    Autocorrelation: { doc: 'Autocorrelation = Σ_i Σ_j p(i,j) i j.', compute: perAngle((a, c) => stats(a, c).autocorr) },
    JointAverage: { doc: 'JointAverage = μ_x = Σ_i Σ_j p(i,j) i.', compute: (c) => c.angles.reduce((s, a) => s + a.ux, 0) / c.angles.length },
    ClusterProminence: { doc: 'ClusterProminence = Σ_i Σ_j (i + j − μ_x − μ_y)⁴ p(i,j).', compute: perAngle((a, c) => stats(a, c).cp) },
    ClusterShade: { doc: 'ClusterShade = Σ_i Σ_j (i + j − μ_x − μ_y)³ p(i,j).', compute: perAngle((a, c) => stats(a, c).cs) },
    ClusterTendency: { doc: 'ClusterTendency = Σ_i Σ_j (i + j − μ_x − μ_y)² p(i,j).', compute: perAngle((a, c) => stats(a, c).ct) },
    Contrast: { doc: 'Contrast = Σ_i Σ_j (i − j)² p(i,j).', compute: perAngle((a, c) => stats(a, c).contrast) },
    Correlation: {
      doc: 'Correlation = (Σ_i Σ_j p(i,j) i j − μ_x μ_y) / (σ_x σ_y); 1 when σ_x σ_y = 0 (flat region).',
      compute: perAngle((a, c) => {
        const { sx, sy, cor } = stats(a, c);
        return sx * sy === 0 ? 1 : cor / (sx * sy + EPS);
      }),
    },
    DifferenceAverage: { doc: 'DifferenceAverage = Σ_{k=0}^{Ng−1} k p_{x−y}(k).', compute: perAngle((a) => a.pxSuby.reduce((s, v, k) => s + k * v, 0)) },
    DifferenceEntropy: { doc: 'DifferenceEntropy = −Σ_k p_{x−y}(k) log2(p_{x−y}(k) + ε).', compute: perAngle((a) => entropy(a.pxSuby)) },
    DifferenceVariance: {
      doc: 'DifferenceVariance = Σ_k (k − DA)² p_{x−y}(k), DA = difference average.',
      compute: perAngle((a) => {
        const da = a.pxSuby.reduce((s, v, k) => s + k * v, 0);
        return a.pxSuby.reduce((s, v, k) => s + (k - da) ** 2 * v, 0);
      }),
    },
    JointEnergy: { doc: 'JointEnergy = Σ_i Σ_j p(i,j)² (IBSI: angular second moment).', compute: perAngle((a, c) => stats(a, c).energy) },
    JointEntropy: { doc: 'JointEntropy = HXY = −Σ_i Σ_j p(i,j) log2(p(i,j) + ε).', compute: perAngle((a) => a.hxy) },
    Imc1: {
      doc: 'Imc1 = (HXY − HXY1) / max(HX, HY), HXY1 = −Σ p(i,j) log2(p_x(i) p_y(j) + ε), HX/HY marginal entropies; 0 when max(HX,HY) = 0.',
      compute: perAngle((a, c) => {
        const { hx, hy, hxy1 } = stats(a, c);
        const div = Math.max(hx, hy);
        return div === 0 ? 0 : (a.hxy - hxy1) / div;
      }),
    },
    Imc2: {
      doc: 'Imc2 = sqrt(1 − exp(−2 (HXY2 − HXY))), HXY2 = −Σ p_x(i) p_y(j) log2(p_x(i) p_y(j) + ε); 0 when HXY2 = HXY.',
      compute: perAngle((a, c) => {
        const { hxy2 } = stats(a, c);
        if (hxy2 === a.hxy) return 0;
        return Math.sqrt(1 - Math.exp(-2 * (hxy2 - a.hxy)));
      }),
    },
    Idm: { doc: 'Idm = Σ_k p_{x−y}(k) / (1 + k²) (IBSI: inverse difference moment).', compute: perAngle((a) => a.pxSuby.reduce((s, v, k) => s + v / (1 + k * k), 0)) },
    MCC: {
      doc: 'MCC = sqrt(second largest eigenvalue of Q), Q(i,j) = Σ_k p(i,k) p(j,k) / (p_x(i) p_y(k)); 1 for a single gray level.',
      compute: perAngle(mcc),
    },
    Idmn: { doc: 'Idmn = Σ_k p_{x−y}(k) / (1 + k²/Ng²).', compute: perAngle((a, c) => a.pxSuby.reduce((s, v, k) => s + v / (1 + (k * k) / (c.Ng * c.Ng)), 0)) },
    Id: { doc: 'Id = Σ_k p_{x−y}(k) / (1 + k) (IBSI: inverse difference).', compute: perAngle((a) => a.pxSuby.reduce((s, v, k) => s + v / (1 + k), 0)) },
    Idn: { doc: 'Idn = Σ_k p_{x−y}(k) / (1 + k/Ng).', compute: perAngle((a, c) => a.pxSuby.reduce((s, v, k) => s + v / (1 + k / c.Ng), 0)) },
    InverseVariance: { doc: 'InverseVariance = Σ_{k=1}^{Ng−1} p_{x−y}(k) / k².', compute: perAngle((a) => a.pxSuby.reduce((s, v, k) => (k === 0 ? s : s + v / (k * k)), 0)) },
    MaximumProbability: { doc: 'MaximumProbability = max p(i,j) (IBSI: joint maximum).', compute: perAngle((a, c) => stats(a, c).maxp) },
    SumAverage: { doc: 'SumAverage = Σ_{k=2}^{2Ng} k p_{x+y}(k).', compute: perAngle((a) => a.pxAddy.reduce((s, v, k) => s + (k + 2) * v, 0)) },
    SumEntropy: { doc: 'SumEntropy = −Σ_k p_{x+y}(k) log2(p_{x+y}(k) + ε).', compute: perAngle((a) => entropy(a.pxAddy)) },
    SumSquares: { doc: 'SumSquares = Σ_i Σ_j (i − μ_x)² p(i,j) (IBSI: joint variance).', compute: perAngle((a, c) => stats(a, c).sx ** 2) },
  },
};
