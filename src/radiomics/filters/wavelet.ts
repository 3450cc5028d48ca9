/**
 * Stationary (undecimated) wavelet transform as PyRadiomics `getWaveletImage` / `_swt3` with `pywt.swtn`
 * (level 1 per round, periodic, axes (z,y,x) numpy = x first).
 *
 * - Odd dimensions are padded by one voxel at the end with wrap (`numpy.pad(..., 'wrap')`: the first voxel is
 *   repeated) and the results cropped back.
 * - Per axis, pywt's `downsampling_convolution_periodization` with step 1:
 *   out[o] = sum_j f[j] * x[(o + F/2 - j) mod N]; low band uses `dec_lo`, high band `dec_hi`.
 * - Band names: letter 1 = x, 2 = y, 3 = z; 'a' → L, 'd' → H (e.g. `wavelet-LLH` = low x, low y, high z).
 * - `start_level` rounds of LLL decomposition are done first; for level > 1, names become `wavelet2-…`.
 *   (PyRadiomics applies level-1 swtn each round on the approximation, so no filter upsampling.)
 * Output float64.
 */
import type { RImage } from '../image.js';
import type { Vec3 } from '../../volume/types.js';
import { type DerivedImage, withData } from './types.js';

export interface WaveletFilterBank {
  decLo: readonly number[];
  decHi: readonly number[];
}

/**
 * Orthogonal wavelet scaling filters as stored in pywt (`wavelets_coeffs.template.h`, pywt >= 1.0); coiflets are
 * stored normalised to sum 1 and multiplied by sqrt(2) when the wavelet is built.
 */
const DB_TABLE: Record<string, readonly number[]> = {
  db1: [7.071067811865475244008443621048490392848359376884740365883398e-1, 7.071067811865475244008443621048490392848359376884740365883398e-1],
  db2: [
    4.829629131445341433748715998644486838169524195042022752011715e-1, 8.365163037378079055752937809168732034593703883484392934953414e-1,
    2.241438680420133810259727622404003554678835181842717613871683e-1, -1.294095225512603811744494188120241641745344506599652569070016e-1,
  ],
};
const COIF_TABLE: Record<string, readonly number[]> = {
  coif1: [
    -5.142972847076845595317549230122688830344559947132656813651045e-2, 2.389297284707684559531754923012268883034455994713265681365104e-1,
    6.028594569415369119063509846024537766068911989426531362730209e-1, 2.721405430584630880936490153975462233931088010573468637269790e-1,
    -5.142972847076845595317549230122688830344559947132656813651045e-2, -1.107027152923154404682450769877311169655440052867343186348954e-2,
  ],
};

/** pywt `discrete_wavelet`: dec_lo[i] = c[L-1-i]·k, dec_hi[i] = (-1)^(L-1-i) · c[i]·k (k = sqrt2 for coif, else 1). */
function buildBank(c: readonly number[], scale: number | null): WaveletFilterBank {
  const L = c.length;
  const decLo: number[] = [];
  const decHi: number[] = [];
  for (let i = 0; i < L; i++) {
    const lo = c[L - 1 - i]!;
    const hi = ((L - 1 - i) % 2 ? -1 : 1) * c[i]!;
    decLo.push(scale === null ? lo : lo * scale);
    decHi.push(scale === null ? hi : hi * scale);
  }
  return { decLo, decHi };
}

/** Supported wavelets (pywt names) → decomposition filter bank. */
export const WAVELETS: Record<string, WaveletFilterBank> = {
  haar: buildBank(DB_TABLE.db1!, null),
  db1: buildBank(DB_TABLE.db1!, null),
  db2: buildBank(DB_TABLE.db2!, null),
  coif1: buildBank(COIF_TABLE.coif1!, Math.SQRT2),
};

/**
 * Order of the products in pywt's `downsampling_convolution_periodization` (step 1, no padding): for output o the
 * F pairs (filter index, input index) in the order the C code accumulates them, so sums round identically.
 */
export function periodizationPlan(N: number, F: number): { fi: Int32Array; xi: Int32Array } {
  const fi = new Int32Array(N * F);
  const xi = new Int32Array(N * F);
  let o = 0;
  let n = 0;
  const push = (f: number, x: number) => {
    fi[n] = f;
    xi[n] = x;
    n++;
  };
  const wrapTail = (j: number): void => {
    while (j < F) {
      for (let k = 0; k < N && j < F; ++k, ++j) push(j, N - 1 - k);
    }
  };
  const wrapHead = (i: number): number => {
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < N && i - j >= N; ++k, ++j) push(i - N - j, k);
    }
    return j;
  };
  let i = F >> 1;
  for (; i < F && i < N; i++, o++) {
    let j = 0;
    for (; j <= i; ++j) push(j, i - j);
    wrapTail(j);
  }
  for (; i < N; i++, o++) {
    for (let j = 0; j < F; ++j) push(j, i - j);
  }
  for (; i < F && i < N + (F >> 1); i++, o++) {
    let j = wrapHead(i);
    for (; j <= i; ++j) push(j, i - j);
    wrapTail(j);
  }
  for (; i < N + (F >> 1); i++, o++) {
    let j = wrapHead(i);
    for (; j < F; ++j) push(j, i - j);
  }
  if (o !== N || n !== N * F) throw new Error(`periodizationPlan: internal error (N=${N}, F=${F})`);
  return { fi, xi };
}

/** One periodic SWT level-1 convolution along `axis` of a 3-D array (dims must be the padded dims). */
export function swtAxis(src: Float64Array, dst: Float64Array, dims: Vec3, axis: 0 | 1 | 2, filter: readonly number[]): void {
  const [nx, ny, nz] = dims;
  const N = dims[axis];
  const F = filter.length;
  const half = F >> 1;
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  const line = new Float64Array(N);
  const { fi, xi } = periodizationPlan(N, F);
  const outerA = axis === 0 ? ny : nx;
  const outerB = axis === 2 ? ny : nz;
  for (let b = 0; b < outerB; b++) {
    for (let a = 0; a < outerA; a++) {
      const base = axis === 0 ? a * nx + b * nx * ny : axis === 1 ? a + b * nx * ny : a + b * nx;
      for (let i = 0, p = base; i < N; i++, p += stride) line[i] = src[p]!;
      for (let o = 0, p = base; o < N; o++, p += stride) {
        let sum = 0;
        const k = o * F;
        for (let j = 0; j < F; j++) sum += filter[fi[k + j]!]! * line[xi[k + j]!]!;
        dst[p] = sum;
      }
    }
  }
}

function padWrap(data: ArrayLike<number>, dims: Vec3): { data: Float64Array; dims: Vec3 } {
  const pd: Vec3 = [dims[0] + (dims[0] % 2), dims[1] + (dims[1] % 2), dims[2] + (dims[2] % 2)];
  const out = new Float64Array(pd[0] * pd[1] * pd[2]);
  for (let z = 0; z < pd[2]; z++) {
    const sz = z % dims[2];
    for (let y = 0; y < pd[1]; y++) {
      const sy = y % dims[1];
      const srcRow = (sz * dims[1] + sy) * dims[0];
      const dstRow = (z * pd[1] + y) * pd[0];
      for (let x = 0; x < pd[0]; x++) out[dstRow + x] = data[srcRow + (x % dims[0])]!;
    }
  }
  return { data: out, dims: pd };
}

function crop(data: Float64Array, pd: Vec3, dims: Vec3): Float64Array {
  if (pd[0] === dims[0] && pd[1] === dims[1] && pd[2] === dims[2]) return data;
  const out = new Float64Array(dims[0] * dims[1] * dims[2]);
  for (let z = 0; z < dims[2]; z++) {
    for (let y = 0; y < dims[1]; y++) {
      const s = (z * pd[1] + y) * pd[0];
      out.set(data.subarray(s, s + dims[0]), (z * dims[1] + y) * dims[0]);
    }
  }
  return out;
}

/** pywt.swtn(level=1) over all three axes (x, then y, then z) of padded data; keys like 'aad' (x,y,z). */
function swtn3(data: Float64Array, dims: Vec3, bank: WaveletFilterBank): Map<string, Float64Array> {
  let coeffs = new Map<string, Float64Array>([['', data]]);
  const n = data.length;
  for (const axis of [0, 1, 2] as const) {
    const next = new Map<string, Float64Array>();
    for (const [key, arr] of coeffs) {
      const a = new Float64Array(n);
      const d = new Float64Array(n);
      swtAxis(arr, a, dims, axis, bank.decLo);
      swtAxis(arr, d, dims, axis, bank.decHi);
      next.set(key + 'a', a);
      next.set(key + 'd', d);
    }
    coeffs = next;
  }
  return coeffs;
}

export interface WaveletOptions {
  wavelet?: string;
  /** Number of decomposition levels yielded (default 1). */
  level?: number;
  /** 0-based first level (default 0). */
  start_level?: number;
  [key: string]: unknown;
}

/**
 * All wavelet bands of `img` as PyRadiomics names them: details first (`wavelet-LLH`, …, in pywt's key order),
 * the approximation `wavelet-LLL` last (per level for level > 1: `wavelet2-…`).
 */
export function* waveletImages(img: RImage, opts: WaveletOptions = {}): Generator<DerivedImage> {
  const name = opts.wavelet ?? 'coif1';
  const bank = WAVELETS[name];
  if (!bank) throw new RangeError(`wavelet "${name}" is not supported (supported: ${Object.keys(WAVELETS).join(', ')})`);
  const level = opts.level ?? 1;
  const startLevel = opts.start_level ?? 0;
  const padded = padWrap(img.data, img.dims);
  let data = padded.data;
  const pd = padded.dims;
  for (let i = 0; i < startLevel; i++) data = swtn3(data, pd, bank).get('aaa')!;
  const approxKey = 'aaa';
  for (let lv = 0; lv < level; lv++) {
    const dec = swtn3(data, pd, bank);
    data = dec.get(approxKey)!;
    const idx = lv + 1;
    for (const [key, arr] of dec) {
      if (key === approxKey) continue;
      const band = key.replace(/a/g, 'L').replace(/d/g, 'H');
      const imageName = idx === 1 ? `wavelet-${band}` : `wavelet${idx}-${band}`;
      yield { image: withData(img, crop(arr, pd, img.dims), 'float64'), name: imageName, kwargs: { ...opts } };
    }
  }
  const approxName = level === 1 ? 'wavelet-LLL' : `wavelet${level}-LLL`;
  yield { image: withData(img, crop(data, pd, img.dims), 'float64'), name: approxName, kwargs: { ...opts } };
}

/** A single band (e.g. 'LLH'), computing only what it needs (level 1, no start level). */
export function waveletBand(img: RImage, band: string, wavelet = 'coif1'): RImage {
  const bank = WAVELETS[wavelet];
  if (!bank) throw new RangeError(`wavelet "${wavelet}" is not supported`);
  if (!/^[LH]{3}$/.test(band)) throw new RangeError(`bad wavelet band "${band}"`);
  const padded = padWrap(img.data, img.dims);
  let cur = padded.data;
  for (const axis of [0, 1, 2] as const) {
    const out = new Float64Array(cur.length);
    swtAxis(cur, out, padded.dims, axis, band[axis] === 'L' ? bank.decLo : bank.decHi);
    cur = out;
  }
  return withData(img, crop(cur, padded.dims, img.dims), 'float64');
}
