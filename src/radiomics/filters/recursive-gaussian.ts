/**
 * The recursive (IIR) Gaussian of ITK, the building block of the LoG filter (log.ts) and of the ROI-box LoG
 * (../log-roi.ts): Deriche's 4th-order approximation of the Gaussian and its first and second derivative
 * (itkRecursiveGaussianImageFilter::SetUp), run line by line as in itkRecursiveSeparableImageFilter (causal +
 * anti-causal pass, borders extended with the edge value). Each line is filtered in double; every pass rounds its
 * output to float32, as ITK's internal images are float.
 */
import type { Vec3 } from '../../volume/types.js';


/** Coefficients of one RecursiveSeparableImageFilter pass. */
export interface RecursiveCoefficients {
  n0: number;
  n1: number;
  n2: number;
  n3: number;
  d1: number;
  d2: number;
  d3: number;
  d4: number;
  m1: number;
  m2: number;
  m3: number;
  m4: number;
  bn1: number;
  bn2: number;
  bn3: number;
  bn4: number;
  bm1: number;
  bm2: number;
  bm3: number;
  bm4: number;
}

export type GaussianOrder = 0 | 1 | 2;

/** itk::RecursiveGaussianImageFilter::SetUp(spacing) for the given order. */
export function recursiveGaussianCoefficients(
  sigma: number,
  spacing: number,
  order: GaussianOrder,
  normalizeAcrossScale: boolean,
): RecursiveCoefficients {
  let direction = 1.0;
  if (spacing < 0) {
    direction = -1.0;
    spacing = -spacing;
  }
  if (spacing < 1e-8) throw new RangeError(`recursive Gaussian: spacing ${spacing} is suspiciously small`);
  if (!(sigma > 0)) throw new RangeError('recursive Gaussian: sigma must be greater than zero');
  const sigmad = sigma / spacing;
  let acrossScale = 1.0;

  const A1 = [1.353, -0.6724, -1.3563];
  const B1 = [1.8151, -3.4327, 5.2318];
  const W1 = 0.6681;
  const L1 = -1.3932;
  const A2 = [-0.3531, 0.6724, 0.3446];
  const B2 = [0.0902, 0.61, -2.2355];
  const W2 = 2.0787;
  const L2 = -1.3732;

  // D coefficients
  const cos1 = Math.cos(W1 / sigmad);
  const cos2 = Math.cos(W2 / sigmad);
  const exp1 = Math.exp(L1 / sigmad);
  const exp2 = Math.exp(L2 / sigmad);
  const d4 = exp1 * exp1 * exp2 * exp2;
  let d3 = -2 * cos1 * exp1 * exp2 * exp2;
  d3 += -2 * cos2 * exp2 * exp1 * exp1;
  let d2 = 4 * cos2 * cos1 * exp1 * exp2;
  d2 += exp1 * exp1 + exp2 * exp2;
  const d1 = -2 * (exp2 * cos2 + exp1 * cos1);
  const SD = 1.0 + d1 + d2 + d3 + d4;
  const DD = d1 + 2 * d2 + 3 * d3 + 4 * d4;
  const ED = d1 + 4 * d2 + 9 * d3 + 16 * d4;

  const nCoef = (a1: number, b1: number, a2: number, b2: number) => {
    const sin1 = Math.sin(W1 / sigmad);
    const sin2 = Math.sin(W2 / sigmad);
    const N0 = a1 + a2;
    let N1 = exp2 * (b2 * sin2 - (a2 + 2 * a1) * cos2);
    N1 += exp1 * (b1 * sin1 - (a1 + 2 * a2) * cos1);
    let N2 = (a1 + a2) * cos2 * cos1;
    N2 -= b1 * cos2 * sin1 + b2 * cos1 * sin2;
    N2 *= 2 * exp1 * exp2;
    N2 += a2 * exp1 * exp1 + a1 * exp2 * exp2;
    let N3 = exp2 * exp1 * exp1 * (b2 * sin2 - a2 * cos2);
    N3 += exp1 * exp2 * exp2 * (b1 * sin1 - a1 * cos1);
    const SN = N0 + N1 + N2 + N3;
    const DN = N1 + 2 * N2 + 3 * N3;
    const EN = N1 + 4 * N2 + 9 * N3;
    return { N0, N1, N2, N3, SN, DN, EN };
  };

  let n0: number;
  let n1: number;
  let n2: number;
  let n3: number;
  let symmetric: boolean;
  if (order === 0) {
    const c = nCoef(A1[0]!, B1[0]!, A2[0]!, B2[0]!);
    const alpha0 = (2 * c.SN) / SD - c.N0;
    n0 = c.N0 * (acrossScale / alpha0);
    n1 = c.N1 * (acrossScale / alpha0);
    n2 = c.N2 * (acrossScale / alpha0);
    n3 = c.N3 * (acrossScale / alpha0);
    symmetric = true;
  } else if (order === 1) {
    if (normalizeAcrossScale) acrossScale = sigma;
    const c = nCoef(A1[1]!, B1[1]!, A2[1]!, B2[1]!);
    let alpha1 = (2 * (c.SN * DD - c.DN * SD)) / (SD * SD);
    alpha1 *= direction;
    n0 = c.N0 * (acrossScale / alpha1);
    n1 = c.N1 * (acrossScale / alpha1);
    n2 = c.N2 * (acrossScale / alpha1);
    n3 = c.N3 * (acrossScale / alpha1);
    symmetric = false;
  } else {
    if (normalizeAcrossScale) acrossScale = sigma * sigma;
    const c0 = nCoef(A1[0]!, B1[0]!, A2[0]!, B2[0]!);
    const c2 = nCoef(A1[2]!, B1[2]!, A2[2]!, B2[2]!);
    const beta = -(2 * c2.SN - SD * c2.N0) / (2 * c0.SN - SD * c0.N0);
    n0 = c2.N0 + beta * c0.N0;
    n1 = c2.N1 + beta * c0.N1;
    n2 = c2.N2 + beta * c0.N2;
    n3 = c2.N3 + beta * c0.N3;
    const SN = c2.SN + beta * c0.SN;
    const DN = c2.DN + beta * c0.DN;
    const EN = c2.EN + beta * c0.EN;
    let alpha2 = EN * SD * SD - ED * SN * SD - 2 * DN * DD * SD + 2 * DD * DD * SN;
    alpha2 /= SD * SD * SD;
    n0 *= acrossScale / alpha2;
    n1 *= acrossScale / alpha2;
    n2 *= acrossScale / alpha2;
    n3 *= acrossScale / alpha2;
    symmetric = true;
  }

  // ComputeRemainingCoefficients
  let m1: number;
  let m2: number;
  let m3: number;
  let m4: number;
  if (symmetric) {
    m1 = n1 - d1 * n0;
    m2 = n2 - d2 * n0;
    m3 = n3 - d3 * n0;
    m4 = -d4 * n0;
  } else {
    m1 = -(n1 - d1 * n0);
    m2 = -(n2 - d2 * n0);
    m3 = -(n3 - d3 * n0);
    m4 = d4 * n0;
  }
  const SNs = n0 + n1 + n2 + n3;
  const SMs = m1 + m2 + m3 + m4;
  const SDs = 1.0 + d1 + d2 + d3 + d4;
  return {
    n0,
    n1,
    n2,
    n3,
    d1,
    d2,
    d3,
    d4,
    m1,
    m2,
    m3,
    m4,
    bn1: (d1 * SNs) / SDs,
    bn2: (d2 * SNs) / SDs,
    bn3: (d3 * SNs) / SDs,
    bn4: (d4 * SNs) / SDs,
    bm1: (d1 * SMs) / SDs,
    bm2: (d2 * SMs) / SDs,
    bm3: (d3 * SMs) / SDs,
    bm4: (d4 * SMs) / SDs,
  };
}

/**
 * itk::RecursiveSeparableImageFilter::FilterDataArray: causal + anti-causal pass over one line (ln >= 4),
 * result in `outs`. `scratch` must have length >= ln.
 */
export function filterDataArray(
  c: RecursiveCoefficients,
  outs: Float64Array,
  data: Float64Array,
  scratch: Float64Array,
  ln: number,
): void {
  const { n0, n1, n2, n3, d1, d2, d3, d4, m1, m2, m3, m4 } = c;
  const s1 = outs;
  const s2 = scratch;
  const v1 = data[0]!;
  s1[0] = v1 * n0 + v1 * n1 + v1 * n2 + v1 * n3;
  s1[1] = data[1]! * n0 + v1 * n1 + v1 * n2 + v1 * n3;
  s1[2] = data[2]! * n0 + data[1]! * n1 + v1 * n2 + v1 * n3;
  s1[3] = data[3]! * n0 + data[2]! * n1 + data[1]! * n2 + v1 * n3;
  s1[0]! -= v1 * c.bn1 + v1 * c.bn2 + v1 * c.bn3 + v1 * c.bn4;
  s1[1]! -= s1[0]! * d1 + v1 * c.bn2 + v1 * c.bn3 + v1 * c.bn4;
  s1[2]! -= s1[1]! * d1 + s1[0]! * d2 + v1 * c.bn3 + v1 * c.bn4;
  s1[3]! -= s1[2]! * d1 + s1[1]! * d2 + s1[0]! * d3 + v1 * c.bn4;
  for (let i = 4; i < ln; i++) {
    s1[i] =
      data[i]! * n0 +
      data[i - 1]! * n1 +
      data[i - 2]! * n2 +
      data[i - 3]! * n3 -
      (s1[i - 1]! * d1 + s1[i - 2]! * d2 + s1[i - 3]! * d3 + s1[i - 4]! * d4);
  }
  const v2 = data[ln - 1]!;
  s2[ln - 1] = v2 * m1 + v2 * m2 + v2 * m3 + v2 * m4;
  s2[ln - 2] = data[ln - 1]! * m1 + v2 * m2 + v2 * m3 + v2 * m4;
  s2[ln - 3] = data[ln - 2]! * m1 + data[ln - 1]! * m2 + v2 * m3 + v2 * m4;
  s2[ln - 4] = data[ln - 3]! * m1 + data[ln - 2]! * m2 + data[ln - 1]! * m3 + v2 * m4;
  s2[ln - 1]! -= v2 * c.bm1 + v2 * c.bm2 + v2 * c.bm3 + v2 * c.bm4;
  s2[ln - 2]! -= s2[ln - 1]! * d1 + v2 * c.bm2 + v2 * c.bm3 + v2 * c.bm4;
  s2[ln - 3]! -= s2[ln - 2]! * d1 + s2[ln - 1]! * d2 + v2 * c.bm3 + v2 * c.bm4;
  s2[ln - 4]! -= s2[ln - 3]! * d1 + s2[ln - 2]! * d2 + s2[ln - 1]! * d3 + v2 * c.bm4;
  for (let i = ln - 4; i > 0; i--) {
    s2[i - 1] =
      data[i]! * m1 +
      data[i + 1]! * m2 +
      data[i + 2]! * m3 +
      data[i + 3]! * m4 -
      (s2[i]! * d1 + s2[i + 1]! * d2 + s2[i + 2]! * d3 + s2[i + 3]! * d4);
  }
  for (let i = 0; i < ln; i++) outs[i] = outs[i]! + s2[i]!;
}

/**
 * FilterDataArray for `nb` lines at once (line b, sample i at `data[i * nb + b]`), with exactly the same
 * operations per line as `filterDataArray` (so results are bit-identical) but a cache-friendly inner loop.
 */
function filterDataBatch(
  c: RecursiveCoefficients,
  outs: Float64Array,
  data: Float64Array,
  s2: Float64Array,
  ln: number,
  nb: number,
): void {
  const { n0, n1, n2, n3, d1, d2, d3, d4, m1, m2, m3, m4, bn1, bn2, bn3, bn4, bm1, bm2, bm3, bm4 } = c;
  const s1 = outs;
  const r1 = nb;
  const r2 = 2 * nb;
  const r3 = 3 * nb;
  for (let b = 0; b < nb; b++) {
    const v1 = data[b]!;
    const x1 = data[r1 + b]!;
    const x2 = data[r2 + b]!;
    const x3 = data[r3 + b]!;
    let a0 = v1 * n0 + v1 * n1 + v1 * n2 + v1 * n3;
    let a1 = x1 * n0 + v1 * n1 + v1 * n2 + v1 * n3;
    let a2 = x2 * n0 + x1 * n1 + v1 * n2 + v1 * n3;
    let a3 = x3 * n0 + x2 * n1 + x1 * n2 + v1 * n3;
    a0 -= v1 * bn1 + v1 * bn2 + v1 * bn3 + v1 * bn4;
    a1 -= a0 * d1 + v1 * bn2 + v1 * bn3 + v1 * bn4;
    a2 -= a1 * d1 + a0 * d2 + v1 * bn3 + v1 * bn4;
    a3 -= a2 * d1 + a1 * d2 + a0 * d3 + v1 * bn4;
    s1[b] = a0;
    s1[r1 + b] = a1;
    s1[r2 + b] = a2;
    s1[r3 + b] = a3;
  }
  for (let i = 4; i < ln; i++) {
    const o = i * nb;
    for (let b = 0; b < nb; b++) {
      const k = o + b;
      s1[k] =
        data[k]! * n0 +
        data[k - r1]! * n1 +
        data[k - r2]! * n2 +
        data[k - r3]! * n3 -
        (s1[k - r1]! * d1 + s1[k - r2]! * d2 + s1[k - r3]! * d3 + s1[k - 4 * nb]! * d4);
    }
  }
  const l1 = (ln - 1) * nb;
  const l2 = (ln - 2) * nb;
  const l3 = (ln - 3) * nb;
  const l4 = (ln - 4) * nb;
  for (let b = 0; b < nb; b++) {
    const v2 = data[l1 + b]!;
    const y2 = data[l2 + b]!;
    const y3 = data[l3 + b]!;
    let a1 = v2 * m1 + v2 * m2 + v2 * m3 + v2 * m4;
    let a2 = v2 * m1 + v2 * m2 + v2 * m3 + v2 * m4;
    let a3 = y2 * m1 + v2 * m2 + v2 * m3 + v2 * m4;
    let a4 = y3 * m1 + y2 * m2 + v2 * m3 + v2 * m4;
    a1 -= v2 * bm1 + v2 * bm2 + v2 * bm3 + v2 * bm4;
    a2 -= a1 * d1 + v2 * bm2 + v2 * bm3 + v2 * bm4;
    a3 -= a2 * d1 + a1 * d2 + v2 * bm3 + v2 * bm4;
    a4 -= a3 * d1 + a2 * d2 + a1 * d3 + v2 * bm4;
    s2[l1 + b] = a1;
    s2[l2 + b] = a2;
    s2[l3 + b] = a3;
    s2[l4 + b] = a4;
  }
  for (let i = ln - 4; i > 0; i--) {
    const o = (i - 1) * nb;
    for (let b = 0; b < nb; b++) {
      const k = o + b;
      s2[k] =
        data[k + r1]! * m1 +
        data[k + r2]! * m2 +
        data[k + r3]! * m3 +
        data[k + 4 * nb]! * m4 -
        (s2[k + r1]! * d1 + s2[k + r2]! * d2 + s2[k + r3]! * d3 + s2[k + 4 * nb]! * d4);
    }
  }
  const n = ln * nb;
  for (let k = 0; k < n; k++) outs[k] = outs[k]! + s2[k]!;
}

/**
 * Apply one recursive pass along `axis` of a 3-D array; the output is rounded to float32 (Math.fround) as the
 * ITK internal images are float. `src` and `dst` may be the same array. Lines along y and z are processed a whole
 * x-row at a time (same arithmetic per line, contiguous memory access).
 */
export function recursivePass(
  src: Float64Array,
  dst: Float64Array,
  dims: Vec3,
  axis: 0 | 1 | 2,
  c: RecursiveCoefficients,
): void {
  const [nx, ny, nz] = dims;
  const len = dims[axis];
  if (len < 4) throw new RangeError(`recursive filter: ${len} pixels along axis ${axis} (< 4)`);
  if (axis === 0) {
    const inp = new Float64Array(len);
    const out = new Float64Array(len);
    const scratch = new Float64Array(len);
    const lines = ny * nz;
    for (let l = 0; l < lines; l++) {
      const base = l * nx;
      for (let i = 0; i < len; i++) inp[i] = src[base + i]!;
      filterDataArray(c, out, inp, scratch, len);
      for (let i = 0; i < len; i++) dst[base + i] = Math.fround(out[i]!);
    }
    return;
  }
  const stride = axis === 1 ? nx : nx * ny;
  const outer = axis === 1 ? nz : ny;
  const outerStride = axis === 1 ? nx * ny : nx;
  const n = len * nx;
  const inp = new Float64Array(n);
  const out = new Float64Array(n);
  const scratch = new Float64Array(n);
  for (let q = 0; q < outer; q++) {
    const base = q * outerStride;
    for (let i = 0; i < len; i++) {
      const p = base + i * stride;
      inp.set(src.subarray(p, p + nx), i * nx);
    }
    filterDataBatch(c, out, inp, scratch, len, nx);
    for (let i = 0; i < len; i++) {
      const p = base + i * stride;
      const o = i * nx;
      for (let x = 0; x < nx; x++) dst[p + x] = Math.fround(out[o + x]!);
    }
  }
}
