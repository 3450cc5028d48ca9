/**
 * Helpers shared by the texture feature classes (glcm, glrlm, glszm, gldm, ngtdm): gray-level index maps,
 * matrix compaction/marginals and the weighted sums the features are built from. Pure functions over typed arrays.
 */
import { EPS } from './types.js';

/** Row index of each discretised gray level (levels[k] → k; −1 for levels not present), length ng + 1. */
export function levelIndex(levels: Int32Array, ng: number): Int32Array {
  const idx = new Int32Array(ng + 1).fill(-1);
  for (let k = 0; k < levels.length; k++) idx[levels[k]!] = k;
  return idx;
}

/** Per voxel: index of its gray level (see `levelIndex`) inside the mask, −1 outside. */
export function levelVolume(mask: Uint8Array, bins: ArrayLike<number>, idx: Int32Array): Int32Array {
  const lev = new Int32Array(mask.length).fill(-1);
  for (let i = 0; i < lev.length; i++) if (mask[i]) lev[i] = idx[bins[i]!]!;
  return lev;
}

/**
 * Linear index of the neighbour (x, y, z) + a inside the box nx × ny × nz, or −1 when it lies outside.
 */
export function neighbourIndex(x: number, y: number, z: number, a: Int32Array, nx: number, ny: number, nz: number): number {
  const xx = x + a[0]!, yy = y + a[1]!, zz = z + a[2]!;
  if (xx < 0 || xx >= nx || yy < 0 || yy >= ny || zz < 0 || zz >= nz) return -1;
  return xx + yy * nx + zz * nx * ny;
}

/** Matrix P (nl × cols.length) made of the columns `cols` of M (nl × stride), row-major. */
export function selectColumns(M: Float64Array, nl: number, stride: number, cols: ArrayLike<number>): Float64Array {
  const nc = cols.length;
  const P = new Float64Array(nl * nc);
  for (let g = 0; g < nl; g++) for (let k = 0; k < nc; k++) P[g * nc + k] = M[g * stride + cols[k]!]!;
  return P;
}

/** Row sums, column sums and total of P (nr × nc, row-major). */
export function marginals(P: Float64Array, nr: number, nc: number): { rows: Float64Array; cols: Float64Array; total: number } {
  const rows = new Float64Array(nr);
  const cols = new Float64Array(nc);
  let total = 0;
  for (let g = 0; g < nr; g++) for (let k = 0; k < nc; k++) { const v = P[g * nc + k]!; cols[k]! += v; rows[g]! += v; total += v; }
  return { rows, cols, total };
}

/** Σ_k p[k] · w(values[k]). */
export function weightedSum(p: Float64Array, values: Float64Array, w: (v: number) => number): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) s += p[k]! * w(values[k]!);
  return s;
}

/** Σ_i Σ_j P(i,j) · w(iv[i], jv[j]) over the non-zero entries of P (iv.length × jv.length, row-major). */
export function weightedSum2(P: Float64Array, iv: Float64Array, jv: Float64Array, w: (i: number, j: number) => number): number {
  const nc = jv.length;
  let s = 0;
  for (let g = 0; g < iv.length; g++) for (let k = 0; k < nc; k++) { const v = P[g * nc + k]!; if (v) s += v * w(iv[g]!, jv[k]!); }
  return s;
}

/** Σ_k p[k]². */
export function sumSquares(p: Float64Array): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) s += p[k]! * p[k]!;
  return s;
}

/** Variance of `values` under the marginal p / n: Σ (p/n)(v − μ)², μ = Σ (p/n) v. */
export function marginalVariance(p: Float64Array, values: Float64Array, n: number): number {
  const u = weightedSum(p, values, (v) => v) / n;
  return weightedSum(p, values, (v) => (v - u) ** 2) / n;
}

/** Entropy −Σ p log2(p + ε) of P / n. */
export function matrixEntropy(P: Float64Array, n: number): number {
  let s = 0;
  for (const v of P) { const p = v / n; s -= p * Math.log2(p + EPS); }
  return s;
}
