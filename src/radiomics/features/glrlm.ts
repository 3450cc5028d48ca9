/**
 * Gray Level Run Length Matrix (PyRadiomics `glrlm`): runs of equal gray level along each of the 13 (3-D) directions.
 * Features are computed per angle and averaged (or on the merged matrix when weightingNorm is set).
 */
import { force2DAxis, generateAngles } from '../roi.js';
import { mergeAngles } from './glcm.js';
import { levelIndex, levelVolume, marginals, marginalVariance, matrixEntropy, selectColumns, sumSquares, weightedSum, weightedSum2 } from './common.js';
import { nanMean, type FeatureClassDef, type FeatureInput } from './types.js';

export interface GlrlmAngle {
  /** P(i, j): nl x nr (present gray levels x run lengths present), row-major. */
  P: Float64Array;
  pr: Float64Array;
  pg: Float64Array;
  Nr: number;
}
export interface GlrlmCtx {
  iv: Float64Array; // gray levels
  jv: Float64Array; // run lengths present
  angles: GlrlmAngle[];
}

/** Run-length counts per angle: Float64Array(nl * maxRun), index level * maxRun + (len − 1). */
export function glrlmCounts(input: FeatureInput): { counts: Float64Array[]; offsets: Int32Array[]; nl: number; maxRun: number } {
  const { roi, setting } = input;
  const d = input.discretized();
  const [nx, ny, nz] = roi.dims;
  const nl = d.levels.length;
  const lev = levelVolume(roi.mask, d.bins, levelIndex(d.levels, d.ng));
  const maxRun = Math.max(nx, ny, nz);
  const offsets = generateAngles(roi.dims, [1], false, force2DAxis(setting));
  const counts: Float64Array[] = [];
  for (const a of offsets) {
    const m = new Float64Array(nl * maxRun);
    const dx = a[0]!, dy = a[1]!, dz = a[2]!;
    const step = dx + dy * nx + dz * nx * ny;
    let multi = false;
    for (let z = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++) {
        for (let x = 0; x < nx; x++) {
          // A line starts where the previous voxel along the direction is outside the box.
          const px = x - dx, py = y - dy, pz = z - dz;
          if (px >= 0 && px < nx && py >= 0 && py < ny && pz >= 0 && pz < nz) continue;
          let cx = x, cy = y, cz = z;
          let i = x + y * nx + z * nx * ny;
          let gl = -1;
          let rl = 0;
          let elements = 0;
          while (cx >= 0 && cx < nx && cy >= 0 && cy < ny && cz >= 0 && cz < nz) {
            const l = lev[i]!;
            if (l >= 0) {
              elements++;
              if (gl === -1) { gl = l; rl = 1; }
              else if (l === gl) rl++;
              else { m[gl * maxRun + rl - 1]!++; gl = l; rl = 1; }
            } else if (gl >= 0) {
              m[gl * maxRun + rl - 1]!++;
              gl = -1;
              rl = 0;
            }
            cx += dx; cy += dy; cz += dz; i += step;
          }
          if (gl >= 0) m[gl * maxRun + rl - 1]!++;
          if (elements > 1) multi = true;
        }
      }
    }
    if (!multi) m.fill(0); // segmentation is 2-D for this angle
    counts.push(m);
  }
  return { counts, offsets, nl, maxRun };
}

function prepare(input: FeatureInput): GlrlmCtx {
  const { setting } = input;
  const { counts, offsets, nl, maxRun } = glrlmCounts(input);
  let mats = counts;
  if (setting.weightingNorm !== null) mats = [mergeAngles(counts, offsets, setting.weightingNorm, input.roi.spacing, false)];
  const multi = mats.length > 1;
  const kept = mats.filter((m) => !multi || m.some((v) => v !== 0));
  // Run lengths present over all kept angles.
  const present = new Uint8Array(maxRun);
  for (const m of kept) for (let g = 0; g < nl; g++) for (let r = 0; r < maxRun; r++) if (m[g * maxRun + r]) present[r] = 1;
  const cols: number[] = [];
  for (let r = 0; r < maxRun; r++) if (present[r]) cols.push(r);
  const nr = cols.length;
  const angles: GlrlmAngle[] = kept.map((m) => {
    const P = selectColumns(m, nl, maxRun, cols);
    const { rows: pg, cols: pr, total: Nr } = marginals(P, nl, nr);
    return { P, pr, pg, Nr: Nr === 0 ? NaN : Nr };
  });
  return { iv: Float64Array.from(input.discretized().levels), jv: Float64Array.from(cols, (r) => r + 1), angles };
}

type C = GlrlmCtx;
type A = GlrlmAngle;
function perAngle(f: (a: A, c: C) => number): (c: C) => number {
  return (c) => nanMean(c.angles.map((a) => f(a, c)));
}
const sumPr = (a: A, c: C, w: (j: number) => number) => weightedSum(a.pr, c.jv, w);
const sumPg = (a: A, c: C, w: (i: number) => number) => weightedSum(a.pg, c.iv, w);
const sumP = (a: A, c: C, w: (i: number, j: number) => number) => weightedSum2(a.P, c.iv, c.jv, w);

export const glrlm: FeatureClassDef<GlrlmCtx> = {
  name: 'glrlm',
  doc: 'P(i,j|θ) = number of runs of gray level i and length j along direction θ; N_r(θ) = number of runs, N_p = voxels, p = P/N_r. Values averaged over angles.',
  prepare,
  nanReason: 'no run longer than one voxel along any direction (ROI without neighbouring voxels)',
  features: {
    ShortRunEmphasis: { doc: 'SRE = Σ_i Σ_j P(i,j)/j² / N_r.', compute: perAngle((a, c) => sumPr(a, c, (j) => 1 / (j * j)) / a.Nr) },
    LongRunEmphasis: { doc: 'LRE = Σ_i Σ_j P(i,j) j² / N_r.', compute: perAngle((a, c) => sumPr(a, c, (j) => j * j) / a.Nr) },
    GrayLevelNonUniformity: { doc: 'GLN = Σ_i (Σ_j P(i,j))² / N_r.', compute: perAngle((a) => sumSquares(a.pg) / a.Nr) },
    GrayLevelNonUniformityNormalized: { doc: 'GLNN = Σ_i (Σ_j P(i,j))² / N_r².', compute: perAngle((a) => sumSquares(a.pg) / (a.Nr * a.Nr)) },
    RunLengthNonUniformity: { doc: 'RLN = Σ_j (Σ_i P(i,j))² / N_r.', compute: perAngle((a) => sumSquares(a.pr) / a.Nr) },
    RunLengthNonUniformityNormalized: { doc: 'RLNN = Σ_j (Σ_i P(i,j))² / N_r².', compute: perAngle((a) => sumSquares(a.pr) / (a.Nr * a.Nr)) },
    RunPercentage: { doc: 'RP = N_r / N_p, N_p = Σ_j j Σ_i P(i,j).', compute: perAngle((a, c) => a.Nr / sumPr(a, c, (j) => j)) },
    GrayLevelVariance: {
      doc: 'GLV = Σ_i p_g(i) (i − μ)², p_g = Σ_j p(i,j), μ = Σ_i p_g(i) i.',
      compute: perAngle((a, c) => marginalVariance(a.pg, c.iv, a.Nr)),
    },
    RunVariance: {
      doc: 'RV = Σ_j p_r(j) (j − μ)², p_r = Σ_i p(i,j), μ = Σ_j p_r(j) j.',
      compute: perAngle((a, c) => marginalVariance(a.pr, c.jv, a.Nr)),
    },
    RunEntropy: {
      doc: 'RE = −Σ_i Σ_j p(i,j) log2(p(i,j) + ε).',
      compute: perAngle((a) => matrixEntropy(a.P, a.Nr)),
    },
    LowGrayLevelRunEmphasis: { doc: 'LGLRE = Σ_i Σ_j P(i,j)/i² / N_r.', compute: perAngle((a, c) => sumPg(a, c, (i) => 1 / (i * i)) / a.Nr) },
    HighGrayLevelRunEmphasis: { doc: 'HGLRE = Σ_i Σ_j P(i,j) i² / N_r.', compute: perAngle((a, c) => sumPg(a, c, (i) => i * i) / a.Nr) },
    ShortRunLowGrayLevelEmphasis: { doc: 'SRLGLE = Σ_i Σ_j P(i,j)/(i² j²) / N_r.', compute: perAngle((a, c) => sumP(a, c, (i, j) => 1 / (i * i * j * j)) / a.Nr) },
    ShortRunHighGrayLevelEmphasis: { doc: 'SRHGLE = Σ_i Σ_j P(i,j) i²/j² / N_r.', compute: perAngle((a, c) => sumP(a, c, (i, j) => (i * i) / (j * j)) / a.Nr) },
    LongRunLowGrayLevelEmphasis: { doc: 'LRLGLE = Σ_i Σ_j P(i,j) j²/i² / N_r.', compute: perAngle((a, c) => sumP(a, c, (i, j) => (j * j) / (i * i)) / a.Nr) },
    LongRunHighGrayLevelEmphasis: { doc: 'LRHGLE = Σ_i Σ_j P(i,j) i² j² / N_r.', compute: perAngle((a, c) => sumP(a, c, (i, j) => i * i * j * j) / a.Nr) },
  },
};
