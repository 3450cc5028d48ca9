import { iccA1 } from './icc.js';
import { pnorm } from './distributions.js';

/** Seeded PRNG (mulberry32): reproducible splits, folds and synthetic data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal variate from a uniform generator (Box–Muller). */
export function randn(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/** Sample SD (n − 1). */
export function sd(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return Math.sqrt(s / (a.length - 1));
}

/**
 * ICC(2,1) (Shrout & Fleiss): two-way random effects, absolute agreement, single rater.
 * ratings[i][k] = value of subject i by rater k. The computation lives in ./icc.ts (with its CI).
 */
export function icc21(ratings: number[][]): number {
  return iccA1(ratings).icc;
}

/** Mid-ranks (ties get the average rank), 1-based. */
export function ranks(a: ArrayLike<number>): Float64Array {
  const idx = Array.from(a, (_, i) => i).sort((x, y) => a[x]! - a[y]!);
  const r = new Float64Array(a.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && a[idx[j + 1]!] === a[idx[i]!]) j++;
    const rk = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]!] = rk;
    i = j + 1;
  }
  return r;
}

export interface MannWhitney {
  /** R's W: rank sum of x minus n_x(n_x+1)/2. */
  W: number;
  p: number;
}

/**
 * Two-sided Mann–Whitney U test with the normal approximation, tie correction and continuity
 * correction: R's wilcox.test(x, y, exact = FALSE, correct = TRUE).
 */
export function mannWhitney(x: ArrayLike<number>, y: ArrayLike<number>): MannWhitney {
  const nx = x.length;
  const ny = y.length;
  const all = Float64Array.from([...Array.from(x), ...Array.from(y)]);
  const r = ranks(all);
  let rx = 0;
  for (let i = 0; i < nx; i++) rx += r[i]!;
  const W = rx - (nx * (nx + 1)) / 2;
  const counts = new Map<number, number>();
  for (const v of all) counts.set(v, (counts.get(v) ?? 0) + 1);
  let ties = 0;
  for (const t of counts.values()) ties += t * t * t - t;
  const N = nx + ny;
  const sigma = Math.sqrt(((nx * ny) / 12) * (N + 1 - ties / (N * (N - 1))));
  const zraw = W - (nx * ny) / 2;
  const z = (zraw - Math.sign(zraw) * 0.5) / sigma;
  return { W, p: 2 * Math.min(pnorm(z), 1 - pnorm(z)) };
}

export interface DecisionCurve {
  thresholds: number[];
  model: number[];
  treatAll: number[];
  treatNone: number[];
}

/**
 * Decision-curve analysis (Vickers & Elkin): net benefit at threshold probability pt of treating
 * those with predicted probability ≥ pt: TP/n − FP/n · pt/(1 − pt); treat-all: prevalence − (1 − prevalence)·pt/(1 − pt).
 */
export function decisionCurve(prob: ArrayLike<number>, y: ArrayLike<number>, thresholds?: number[]): DecisionCurve {
  const ts = thresholds ?? Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
  const n = prob.length;
  let prev = 0;
  for (let i = 0; i < n; i++) prev += y[i]!;
  prev /= n;
  const model: number[] = [];
  const treatAll: number[] = [];
  for (const t of ts) {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (prob[i]! >= t) {
        if (y[i] === 1) tp++;
        else fp++;
      }
    }
    const odds = t / (1 - t);
    model.push(tp / n - (fp / n) * odds);
    treatAll.push(prev - (1 - prev) * odds);
  }
  return { thresholds: ts, model, treatAll, treatNone: ts.map(() => 0) };
}
