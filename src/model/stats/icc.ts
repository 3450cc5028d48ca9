/**
 * Agreement statistics for two (or more) measurements of the same subjects:
 *  - ICC(A,1) of McGraw & Wong (1996) = ICC(2,1) of Shrout & Fleiss (1979): two-way random effects, absolute
 *    agreement, single measures, with the McGraw-Wong 95 % confidence interval (their Table 7, case 2A; the same
 *    formulas as R irr::icc(model = "twoway", type = "agreement", unit = "single"));
 *  - Bland-Altman bias and 95 % limits of agreement;
 *  - median relative difference.
 * Checked against base-R ANOVA mean squares and qf() in test/model/icc-vs-r.test.ts.
 */
import { lgamma } from './distributions.js';

/** Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes betacf with Lentz's method). */
export function pbeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) return NaN;
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbeta = lgamma(a + b) - lgamma(a) - lgamma(b);
  const front = Math.exp(lbeta + a * Math.log(x) + b * Math.log1p(-x));
  const cf = (aa: number, bb: number, xx: number): number => {
    const tiny = 1e-300;
    let c = 1;
    let d = 1 - ((aa + bb) * xx) / (aa + 1);
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    let h = d;
    for (let m = 1; m <= 10000; m++) {
      const m2 = 2 * m;
      let num = (m * (bb - m) * xx) / ((aa + m2 - 1) * (aa + m2));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      num = (-(aa + m) * (aa + bb + m) * xx) / ((aa + m2) * (aa + m2 + 1));
      d = 1 + num * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) break;
    }
    return h;
  };
  return x < (a + 1) / (a + b + 2) ? (front * cf(a, b, x)) / a : 1 - (front * cf(b, a, 1 - x)) / b;
}

/** F distribution CDF P(F <= x) with (d1, d2) degrees of freedom (non-integer allowed). */
export function pf(x: number, d1: number, d2: number): number {
  if (x <= 0) return 0;
  return pbeta((d1 * x) / (d1 * x + d2), d1 / 2, d2 / 2);
}

/** F quantile: x with P(F <= x) = p (bisection on the CDF; relative accuracy ~1e-13). */
export function qf(p: number, d1: number, d2: number): number {
  if (!(p > 0 && p < 1) || !(d1 > 0) || !(d2 > 0)) return NaN;
  let lo = 0;
  let hi = 1;
  while (pf(hi, d1, d2) < p) {
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let it = 0; it < 400 && hi - lo > 1e-13 * hi; it++) {
    const mid = (lo + hi) / 2;
    if (pf(mid, d1, d2) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface IccResult {
  /** ICC(A,1) = ICC(2,1) */
  icc: number;
  /** 95 % (1 - alpha) confidence interval, McGraw & Wong */
  lower: number;
  upper: number;
  /** subjects, raters */
  n: number;
  k: number;
  /** two-way ANOVA mean squares: rows (subjects), columns (raters), residual */
  msr: number;
  msc: number;
  mse: number;
}

/**
 * ICC(A,1) with its McGraw-Wong confidence interval. `ratings[i][j]` = subject i measured by rater (method) j;
 * subjects with a non-finite value are dropped. NaN when fewer than 2 subjects remain or nothing varies.
 */
export function iccA1(ratings: readonly (readonly number[])[], alpha = 0.05): IccResult {
  const rows = ratings.filter((r) => r.every((v) => Number.isFinite(v)));
  const n = rows.length;
  const k = rows[0]?.length ?? 0;
  const nan: IccResult = { icc: NaN, lower: NaN, upper: NaN, n, k, msr: NaN, msc: NaN, mse: NaN };
  if (n < 2 || k < 2) return nan;
  let grand = 0;
  for (const r of rows) for (const v of r) grand += v;
  grand /= n * k;
  let ssr = 0;
  let ssc = 0;
  let sst = 0;
  for (const r of rows) {
    let m = 0;
    for (const v of r) m += v;
    ssr += k * (m / k - grand) ** 2;
    for (const v of r) sst += (v - grand) ** 2;
  }
  for (let j = 0; j < k; j++) {
    let cm = 0;
    for (const r of rows) cm += r[j]!;
    ssc += n * (cm / n - grand) ** 2;
  }
  const sse = Math.max(0, sst - ssr - ssc);
  const msr = ssr / (n - 1);
  const msc = ssc / (k - 1);
  const mse = sse / ((n - 1) * (k - 1));
  const den = msr + (k - 1) * mse + (k * (msc - mse)) / n;
  if (!(den !== 0) || !Number.isFinite(den)) return { ...nan, msr, msc, mse };
  const icc = (msr - mse) / den;
  // McGraw & Wong (1996) Table 7, case 2A (as irr::icc): Satterthwaite df v of the denominator.
  const a = (k * icc) / (n * (1 - icc));
  const b = 1 + (k * icc * (n - 1)) / (n * (1 - icc));
  const v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)));
  const fl = qf(1 - alpha / 2, n - 1, v);
  const fu = qf(1 - alpha / 2, v, n - 1);
  const c = k * msc + (k * n - k - n) * mse;
  const lower = (n * (msr - fl * mse)) / (fl * c + n * msr);
  const upper = (n * (fu * msr - mse)) / (c + n * fu * msr);
  return { icc, lower: Number.isFinite(lower) ? lower : NaN, upper: Number.isFinite(upper) ? upper : NaN, n, k, msr, msc, mse };
}

export interface BlandAltman {
  n: number;
  /** mean of (a - b) */
  bias: number;
  /** SD of (a - b) */
  sdDiff: number;
  /** bias -/+ 1.96 SD */
  loaLower: number;
  loaUpper: number;
}

/** Bland-Altman bias and 95 % limits of agreement of method a against method b (pairs with a non-finite value dropped). */
export function blandAltman(a: readonly number[], b: readonly number[]): BlandAltman {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i]! - b[i]!);
  const n = d.length;
  if (!n) return { n, bias: NaN, sdDiff: NaN, loaLower: NaN, loaUpper: NaN };
  const bias = d.reduce((s, x) => s + x, 0) / n;
  const sdDiff = n > 1 ? Math.sqrt(d.reduce((s, x) => s + (x - bias) ** 2, 0) / (n - 1)) : NaN;
  return { n, bias, sdDiff, loaLower: bias - 1.96 * sdDiff, loaUpper: bias + 1.96 * sdDiff };
}

/** Median of |a - b| / |b| (b the reference), pairs with a non-finite value or b = 0 dropped. */
export function medianRelativeDifference(a: readonly number[], b: readonly number[]): number {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) r.push(Math.abs(a[i]! - b[i]!) / Math.abs(b[i]!));
  if (!r.length) return NaN;
  r.sort((x, y) => x - y);
  const m = r.length >> 1;
  return r.length % 2 ? r[m]! : (r[m - 1]! + r[m]!) / 2;
}

/** Sample SD (n - 1), non-finite values dropped. */
export function sampleSd(x: readonly number[]): number {
  const v = x.filter((t) => Number.isFinite(t));
  if (v.length < 2) return NaN;
  const m = v.reduce((s, t) => s + t, 0) / v.length;
  return Math.sqrt(v.reduce((s, t) => s + (t - m) ** 2, 0) / (v.length - 1));
}
