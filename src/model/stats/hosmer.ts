import { pchisqUpper } from './distributions.js';

/** R's quantile(type = 7). */
export function quantile7(sorted: ArrayLike<number>, prob: number): number {
  const n = sorted.length;
  const h = (n - 1) * prob;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface HosmerLemeshowGroup {
  lower: number;
  upper: number;
  n: number;
  observed1: number;
  expected1: number;
  meanPredicted: number;
  observedRate: number;
}

export interface HosmerLemeshow {
  statistic: number;
  df: number;
  p: number;
  groups: HosmerLemeshowGroup[];
}

/**
 * Hosmer–Lemeshow goodness-of-fit test on predicted probabilities, grouped exactly as
 * ResourceSelection::hoslem.test: breaks = unique(quantile(p, seq(0, 1, 1/g))) (type 7), intervals
 * closed on the right with the lowest included; statistic Σ over groups and both outcomes (O−E)²/E;
 * df = g − 2 (g as requested, as hoslem.test does, even when ties merge groups).
 */
export function hosmerLemeshow(prob: ArrayLike<number>, y: ArrayLike<number>, g = 10): HosmerLemeshow {
  const n = prob.length;
  const sorted = Float64Array.from(prob).sort();
  const breaks: number[] = [];
  for (let k = 0; k <= g; k++) {
    const q = quantile7(sorted, k / g);
    if (!breaks.length || q !== breaks[breaks.length - 1]) breaks.push(q);
  }
  const ng = Math.max(1, breaks.length - 1);
  const groups: HosmerLemeshowGroup[] = [];
  for (let k = 0; k < ng; k++) groups.push({ lower: breaks[k]!, upper: breaks[k + 1] ?? breaks[k]!, n: 0, observed1: 0, expected1: 0, meanPredicted: 0, observedRate: 0 });
  for (let i = 0; i < n; i++) {
    const p = prob[i]!;
    let k = 0;
    // first interval [b0, b1], then (b_k, b_k+1]
    while (k < ng - 1 && p > breaks[k + 1]!) k++;
    const gr = groups[k]!;
    gr.n++;
    gr.observed1 += y[i]!;
    gr.expected1 += p;
  }
  let stat = 0;
  for (const gr of groups) {
    if (!gr.n) continue;
    const o0 = gr.n - gr.observed1;
    const e0 = gr.n - gr.expected1;
    stat += (gr.observed1 - gr.expected1) ** 2 / gr.expected1 + (o0 - e0) ** 2 / e0;
    gr.meanPredicted = gr.expected1 / gr.n;
    gr.observedRate = gr.observed1 / gr.n;
  }
  const df = g - 2;
  return { statistic: stat, df, p: pchisqUpper(stat, df), groups: groups.filter((gr) => gr.n > 0) };
}
