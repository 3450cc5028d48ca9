/**
 * Gray Level Size Zone Matrix (PyRadiomics `glszm`): connected zones (26-connected in 3-D, 8 in 2-D) of equal gray
 * level; P(i, j) = number of zones of level i and size j. Linear-time flood fill with a typed-array stack.
 */
import { force2DAxis, generateAngles } from '../roi.js';
import { levelIndex, levelVolume, marginals, marginalVariance, matrixEntropy, neighbourIndex, sumSquares, weightedSum, weightedSum2 } from './common.js';
import type { FeatureClassDef, FeatureInput } from './types.js';

export interface GlszmCtx {
  iv: Float64Array;
  jv: Float64Array;
  P: Float64Array; // nl x ns
  ps: Float64Array;
  pg: Float64Array;
  Nz: number;
  Np: number;
}

/** Zones as (level index, size) pairs. */
export function findZones(input: FeatureInput): { level: Int32Array; size: Int32Array; nl: number } {
  const { roi, setting } = input;
  const d = input.discretized();
  const [nx, ny, nz] = roi.dims;
  const nl = d.levels.length;
  const n = roi.mask.length;
  const lev = levelVolume(roi.mask, d.bins, levelIndex(d.levels, d.ng));
  const offs = generateAngles(roi.dims, [1], true, force2DAxis(setting));
  const stack = new Int32Array(n);
  const done = new Uint8Array(n);
  const zl: number[] = [];
  const zs: number[] = [];
  const nxy = nx * ny;
  for (let s = 0; s < n; s++) {
    if (lev[s]! < 0 || done[s]) continue;
    const gl = lev[s]!;
    let top = 0;
    stack[top++] = s;
    done[s] = 1;
    let size = 0;
    while (top > 0) {
      const k = stack[--top]!;
      size++;
      const x = k % nx;
      const y = ((k - x) / nx) % ny;
      const z = Math.floor(k / nxy);
      for (const a of offs) {
        const j = neighbourIndex(x, y, z, a, nx, ny, nz);
        if (j >= 0 && !done[j] && lev[j] === gl) {
          done[j] = 1;
          stack[top++] = j;
        }
      }
    }
    zl.push(gl);
    zs.push(size);
  }
  return { level: Int32Array.from(zl), size: Int32Array.from(zs), nl };
}

function prepare(input: FeatureInput): GlszmCtx {
  const { level, size, nl } = findZones(input);
  let maxS = 0;
  for (const s of size) if (s > maxS) maxS = s;
  const present = new Uint8Array(maxS + 1);
  for (const s of size) present[s] = 1;
  const col = new Int32Array(maxS + 1).fill(-1);
  const sizes: number[] = [];
  for (let s = 1; s <= maxS; s++) if (present[s]) { col[s] = sizes.length; sizes.push(s); }
  const ns = sizes.length;
  const P = new Float64Array(nl * ns);
  for (let z = 0; z < level.length; z++) P[level[z]! * ns + col[size[z]!]!]!++;
  const { rows: pg, cols: ps, total: Nz } = marginals(P, nl, ns);
  let Np = 0;
  for (let k = 0; k < ns; k++) Np += ps[k]! * sizes[k]!;
  return { iv: Float64Array.from(input.discretized().levels), jv: Float64Array.from(sizes), P, ps, pg, Nz: Nz || 1, Np: Np || 1 };
}

type C = GlszmCtx;
const sumPs = (c: C, w: (j: number) => number) => weightedSum(c.ps, c.jv, w);
const sumPg = (c: C, w: (i: number) => number) => weightedSum(c.pg, c.iv, w);
const sumP = (c: C, w: (i: number, j: number) => number) => weightedSum2(c.P, c.iv, c.jv, w);

export const glszm: FeatureClassDef<GlszmCtx> = {
  name: 'glszm',
  doc: 'P(i,j) = number of zones (connected voxels of equal gray level, 26-connectivity) with gray level i and size j; N_z zones, N_p voxels, p = P/N_z.',
  prepare,
  features: {
    SmallAreaEmphasis: { doc: 'SAE = Σ_i Σ_j P(i,j)/j² / N_z.', compute: (c) => sumPs(c, (j) => 1 / (j * j)) / c.Nz },
    LargeAreaEmphasis: { doc: 'LAE = Σ_i Σ_j P(i,j) j² / N_z.', compute: (c) => sumPs(c, (j) => j * j) / c.Nz },
    GrayLevelNonUniformity: { doc: 'GLN = Σ_i (Σ_j P(i,j))² / N_z.', compute: (c) => sumSquares(c.pg) / c.Nz },
    GrayLevelNonUniformityNormalized: { doc: 'GLNN = Σ_i (Σ_j P(i,j))² / N_z².', compute: (c) => sumSquares(c.pg) / (c.Nz * c.Nz) },
    SizeZoneNonUniformity: { doc: 'SZN = Σ_j (Σ_i P(i,j))² / N_z.', compute: (c) => sumSquares(c.ps) / c.Nz },
    SizeZoneNonUniformityNormalized: { doc: 'SZNN = Σ_j (Σ_i P(i,j))² / N_z².', compute: (c) => sumSquares(c.ps) / (c.Nz * c.Nz) },
    ZonePercentage: { doc: 'ZP = N_z / N_p.', compute: (c) => c.Nz / c.Np },
    GrayLevelVariance: {
      doc: 'GLV = Σ_i p_g(i) (i − μ)², p_g(i) = Σ_j P(i,j)/N_z, μ = Σ_i p_g(i) i.',
      compute: (c) => marginalVariance(c.pg, c.iv, c.Nz),
    },
    ZoneVariance: {
      doc: 'ZV = Σ_j p_s(j) (j − μ)², p_s(j) = Σ_i P(i,j)/N_z, μ = Σ_j p_s(j) j.',
      compute: (c) => marginalVariance(c.ps, c.jv, c.Nz),
    },
    ZoneEntropy: { doc: 'ZE = −Σ_i Σ_j p(i,j) log2(p(i,j) + ε).', compute: (c) => matrixEntropy(c.P, c.Nz) },
    LowGrayLevelZoneEmphasis: { doc: 'LGLZE = Σ_i Σ_j P(i,j)/i² / N_z.', compute: (c) => sumPg(c, (i) => 1 / (i * i)) / c.Nz },
    HighGrayLevelZoneEmphasis: { doc: 'HGLZE = Σ_i Σ_j P(i,j) i² / N_z.', compute: (c) => sumPg(c, (i) => i * i) / c.Nz },
    SmallAreaLowGrayLevelEmphasis: { doc: 'SALGLE = Σ_i Σ_j P(i,j)/(i² j²) / N_z.', compute: (c) => sumP(c, (i, j) => 1 / (i * i * j * j)) / c.Nz },
    SmallAreaHighGrayLevelEmphasis: { doc: 'SAHGLE = Σ_i Σ_j P(i,j) i²/j² / N_z.', compute: (c) => sumP(c, (i, j) => (i * i) / (j * j)) / c.Nz },
    LargeAreaLowGrayLevelEmphasis: { doc: 'LALGLE = Σ_i Σ_j P(i,j) j²/i² / N_z.', compute: (c) => sumP(c, (i, j) => (j * j) / (i * i)) / c.Nz },
    LargeAreaHighGrayLevelEmphasis: { doc: 'LAHGLE = Σ_i Σ_j P(i,j) i² j² / N_z.', compute: (c) => sumP(c, (i, j) => i * i * j * j) / c.Nz },
  },
};
