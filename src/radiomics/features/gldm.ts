/**
 * Gray Level Dependence Matrix (PyRadiomics `gldm`): for each voxel, the number of neighbours (26 in 3-D, within the
 * ROI) whose gray level differs by at most α (gldm_a); P(i, j) = voxels of level i with j − 1 dependent neighbours.
 */
import { force2DAxis, generateAngles } from '../roi.js';
import { levelIndex, marginals, marginalVariance, matrixEntropy, neighbourIndex, selectColumns, sumSquares, weightedSum, weightedSum2 } from './common.js';
import type { FeatureClassDef, FeatureInput } from './types.js';

export interface GldmCtx {
  iv: Float64Array;
  jv: Float64Array;
  P: Float64Array; // nl x nd
  pd: Float64Array;
  pg: Float64Array;
  Nz: number;
}

function prepare(input: FeatureInput): GldmCtx {
  const { roi, setting } = input;
  const d = input.discretized();
  const [nx, ny, nz] = roi.dims;
  const nl = d.levels.length;
  const idx = levelIndex(d.levels, d.ng);
  const offs = generateAngles(roi.dims, setting.distances, true, force2DAxis(setting));
  const maxDep = offs.length + 1;
  const M = new Float64Array(nl * maxDep);
  const alpha = setting.gldm_a;
  const nxy = nx * ny;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const i = x + y * nx + z * nxy;
        if (!roi.mask[i]) continue;
        const g = d.bins[i]!;
        let dep = 0;
        for (const a of offs) {
          const j = neighbourIndex(x, y, z, a, nx, ny, nz);
          if (j >= 0 && roi.mask[j] && Math.abs(g - d.bins[j]!) <= alpha) dep++;
        }
        M[idx[g]! * maxDep + dep]!++;
      }
    }
  }
  const present: number[] = [];
  for (let k = 0; k < maxDep; k++) {
    let s = 0;
    for (let g = 0; g < nl; g++) s += M[g * maxDep + k]!;
    if (s) present.push(k);
  }
  const P = selectColumns(M, nl, maxDep, present);
  const { rows: pg, cols: pd, total: Nz } = marginals(P, nl, present.length);
  return { iv: Float64Array.from(d.levels), jv: Float64Array.from(present, (k) => k + 1), P, pd, pg, Nz: Nz || 1 };
}

type C = GldmCtx;
const sumPd = (c: C, w: (j: number) => number) => weightedSum(c.pd, c.jv, w);
const sumPg = (c: C, w: (i: number) => number) => weightedSum(c.pg, c.iv, w);
const sumP = (c: C, w: (i: number, j: number) => number) => weightedSum2(c.P, c.iv, c.jv, w);

export const gldm: FeatureClassDef<GldmCtx> = {
  name: 'gldm',
  doc: 'P(i,j) = number of voxels with gray level i and j − 1 dependent neighbours (|i − i_neighbour| ≤ α); N_z = N_p voxels, p = P/N_z.',
  prepare,
  features: {
    SmallDependenceEmphasis: { doc: 'SDE = Σ_i Σ_j P(i,j)/j² / N_z.', compute: (c) => sumPd(c, (j) => 1 / (j * j)) / c.Nz },
    LargeDependenceEmphasis: { doc: 'LDE = Σ_i Σ_j P(i,j) j² / N_z.', compute: (c) => sumPd(c, (j) => j * j) / c.Nz },
    GrayLevelNonUniformity: { doc: 'GLN = Σ_i (Σ_j P(i,j))² / N_z.', compute: (c) => sumSquares(c.pg) / c.Nz },
    DependenceNonUniformity: { doc: 'DN = Σ_j (Σ_i P(i,j))² / N_z.', compute: (c) => sumSquares(c.pd) / c.Nz },
    DependenceNonUniformityNormalized: { doc: 'DNN = Σ_j (Σ_i P(i,j))² / N_z².', compute: (c) => sumSquares(c.pd) / (c.Nz * c.Nz) },
    GrayLevelVariance: {
      doc: 'GLV = Σ_i p_g(i) (i − μ)², p_g(i) = Σ_j P(i,j)/N_z, μ = Σ_i p_g(i) i.',
      compute: (c) => marginalVariance(c.pg, c.iv, c.Nz),
    },
    DependenceVariance: {
      doc: 'DV = Σ_j p_d(j) (j − μ)², p_d(j) = Σ_i P(i,j)/N_z, μ = Σ_j p_d(j) j.',
      compute: (c) => marginalVariance(c.pd, c.jv, c.Nz),
    },
    DependenceEntropy: { doc: 'DE = −Σ_i Σ_j p(i,j) log2(p(i,j) + ε).', compute: (c) => matrixEntropy(c.P, c.Nz) },
    LowGrayLevelEmphasis: { doc: 'LGLE = Σ_i Σ_j P(i,j)/i² / N_z.', compute: (c) => sumPg(c, (i) => 1 / (i * i)) / c.Nz },
    HighGrayLevelEmphasis: { doc: 'HGLE = Σ_i Σ_j P(i,j) i² / N_z.', compute: (c) => sumPg(c, (i) => i * i) / c.Nz },
    SmallDependenceLowGrayLevelEmphasis: { doc: 'SDLGLE = Σ_i Σ_j P(i,j)/(i² j²) / N_z.', compute: (c) => sumP(c, (i, j) => 1 / (i * i * j * j)) / c.Nz },
    SmallDependenceHighGrayLevelEmphasis: { doc: 'SDHGLE = Σ_i Σ_j P(i,j) i²/j² / N_z.', compute: (c) => sumP(c, (i, j) => (i * i) / (j * j)) / c.Nz },
    LargeDependenceLowGrayLevelEmphasis: { doc: 'LDLGLE = Σ_i Σ_j P(i,j) j²/i² / N_z.', compute: (c) => sumP(c, (i, j) => (j * j) / (i * i)) / c.Nz },
    LargeDependenceHighGrayLevelEmphasis: { doc: 'LDHGLE = Σ_i Σ_j P(i,j) i² j² / N_z.', compute: (c) => sumP(c, (i, j) => i * i * j * j) / c.Nz },
  },
};
