/** First-order statistics (PyRadiomics `firstorder`): distribution of the ROI intensities. */
import { EPS, type FeatureClassDef, type FeatureInput } from './types.js';

export interface FirstOrderCtx {
  /** ROI intensities, sorted ascending. */
  x: Float64Array;
  n: number;
  mean: number;
  shift: number;
  voxelVolume: number;
  /** Probabilities of the discretised gray levels present. */
  p: Float64Array;
  m2: number;
}

/** numpy percentile with linear interpolation on sorted data. */
export function percentileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const t = pos - lo;
  const a = sorted[lo]!;
  if (lo + 1 >= n) return a;
  const b = sorted[lo + 1]!;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

function moment(c: FirstOrderCtx, k: number): number {
  let s = 0;
  for (let i = 0; i < c.n; i++) s += (c.x[i]! - c.mean) ** k;
  return s / c.n;
}

function prepare(input: FeatureInput): FirstOrderCtx {
  const { roi, setting } = input;
  const x = new Float64Array(roi.count);
  for (let i = 0, k = 0; i < roi.mask.length; i++) if (roi.mask[i]) x[k++] = roi.values[i]!;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  const mean = s / x.length;
  x.sort();
  const d = input.discretized();
  const counts = new Float64Array(d.ng + 1);
  for (let i = 0; i < roi.mask.length; i++) if (roi.mask[i]) counts[d.bins[i]!]!++;
  const p = new Float64Array(d.levels.length);
  for (let k = 0; k < d.levels.length; k++) p[k] = counts[d.levels[k]!]! / x.length;
  const c: FirstOrderCtx = {
    x,
    n: x.length,
    mean,
    shift: setting.voxelArrayShift,
    voxelVolume: roi.spacing[0] * roi.spacing[1] * roi.spacing[2],
    p,
    m2: 0,
  };
  c.m2 = moment(c, 2);
  return c;
}

function energy(c: FirstOrderCtx): number {
  let s = 0;
  for (let i = 0; i < c.n; i++) s += (c.x[i]! + c.shift) ** 2;
  return s;
}

export const firstorder: FeatureClassDef<FirstOrderCtx> = {
  name: 'firstorder',
  doc: 'First-order statistics of the ROI intensities X (N_p voxels); P(i) = histogram of the discretised levels / N_p.',
  prepare,
  features: {
    Energy: { doc: 'Energy = Σ (X(i) + c)², c = voxelArrayShift.', compute: energy },
    TotalEnergy: { doc: 'TotalEnergy = V_voxel · Σ (X(i) + c)², V_voxel = product of the spacings (mm³).', compute: (c) => c.voxelVolume * energy(c) },
    Entropy: { doc: 'Entropy = −Σ_i P(i) log2(P(i) + ε), over discretised gray levels (IBSI: discretised intensity entropy).', compute: (c) => { let s = 0; for (const p of c.p) s -= p * Math.log2(p + EPS); return s; } },
    Minimum: { doc: 'Minimum = min(X).', compute: (c) => c.x[0]! },
    '10Percentile': { doc: '10Percentile = 10th percentile of X (linear interpolation, numpy).', compute: (c) => percentileSorted(c.x, 10) },
    '90Percentile': { doc: '90Percentile = 90th percentile of X (linear interpolation, numpy).', compute: (c) => percentileSorted(c.x, 90) },
    Maximum: { doc: 'Maximum = max(X).', compute: (c) => c.x[c.n - 1]! },
    Mean: { doc: 'Mean = (1/N_p) Σ X(i).', compute: (c) => c.mean },
    Median: { doc: 'Median = 50th percentile of X.', compute: (c) => percentileSorted(c.x, 50) },
    InterquartileRange: { doc: 'InterquartileRange = P75 − P25 of X.', compute: (c) => percentileSorted(c.x, 75) - percentileSorted(c.x, 25) },
    Range: { doc: 'Range = max(X) − min(X).', compute: (c) => c.x[c.n - 1]! - c.x[0]! },
    MeanAbsoluteDeviation: { doc: 'MeanAbsoluteDeviation = (1/N_p) Σ |X(i) − mean(X)|.', compute: (c) => { let s = 0; for (let i = 0; i < c.n; i++) s += Math.abs(c.x[i]! - c.mean); return s / c.n; } },
    RobustMeanAbsoluteDeviation: {
      doc: 'RobustMeanAbsoluteDeviation = (1/N_10-90) Σ |X_10-90(i) − mean(X_10-90)|, X_10-90 = voxels with P10 ≤ X ≤ P90.',
      compute: (c) => {
        const p10 = percentileSorted(c.x, 10);
        const p90 = percentileSorted(c.x, 90);
        let s = 0;
        let n = 0;
        for (let i = 0; i < c.n; i++) { const v = c.x[i]!; if (v >= p10 && v <= p90) { s += v; n++; } }
        const m = s / n;
        let d = 0;
        for (let i = 0; i < c.n; i++) { const v = c.x[i]!; if (v >= p10 && v <= p90) d += Math.abs(v - m); }
        return d / n;
      },
    },
    RootMeanSquared: { doc: 'RootMeanSquared = sqrt((1/N_p) Σ (X(i) + c)²), c = voxelArrayShift.', compute: (c) => Math.sqrt(energy(c) / c.n) },
    Skewness: {
      doc: 'Skewness = μ3 / μ2^(3/2) with central moments μk = (1/N_p) Σ (X(i) − mean)^k; 0 for a flat region.',
      compute: (c) => (c.m2 === 0 ? 0 : moment(c, 3) / c.m2 ** 1.5),
    },
    Kurtosis: {
      doc: 'Kurtosis = μ4 / μ2² (not excess kurtosis); 0 for a flat region.',
      compute: (c) => (c.m2 === 0 ? 0 : moment(c, 4) / c.m2 ** 2),
    },
    Variance: { doc: 'Variance = (1/N_p) Σ (X(i) − mean)².', compute: (c) => Math.sqrt(c.m2) ** 2 },
    Uniformity: { doc: 'Uniformity = Σ_i P(i)² over discretised gray levels.', compute: (c) => { let s = 0; for (const p of c.p) s += p * p; return s; } },
  },
};
