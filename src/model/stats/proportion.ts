import { qnorm } from './distributions.js';
import { confusionCounts } from './roc.js';

export interface Proportion {
  x: number;
  n: number;
  /** x / n; NaN when n = 0. */
  p: number;
  /** Wilson score interval; [NaN, NaN] when n = 0. */
  ciLower: number;
  ciUpper: number;
}

/**
 * A proportion with its Wilson score (1 − alpha) interval: R's prop.test(x, n, correct = FALSE)$conf.int.
 * Used for sensitivity, specificity, PPV and NPV at a fixed cut-off.
 */
export function wilson(x: number, n: number, confLevel = 0.95): Proportion {
  if (!(n > 0)) return { x, n, p: NaN, ciLower: NaN, ciUpper: NaN };
  const p = x / n;
  const z = qnorm(1 - (1 - confLevel) / 2);
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const den = 1 + z2 / n;
  return { x, n, p, ciLower: Math.max(0, (centre - half) / den), ciUpper: Math.min(1, (centre + half) / den) };
}

export interface Confusion {
  tp: number;
  fn: number;
  tn: number;
  fp: number;
  sensitivity: Proportion;
  specificity: Proportion;
  ppv: Proportion;
  npv: Proportion;
}

/** The confusion matrix at a cut-off (positive = score > cutoff, as the service flags) with Wilson CIs. */
export function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<number>, cutoff: number, confLevel = 0.95): Confusion {
  const { tp, fn, tn, fp } = confusionCounts(scores, labels, cutoff);
  return {
    tp,
    fn,
    tn,
    fp,
    sensitivity: wilson(tp, tp + fn, confLevel),
    specificity: wilson(tn, tn + fp, confLevel),
    ppv: wilson(tp, tp + fp, confLevel),
    npv: wilson(tn, tn + fn, confLevel),
  };
}

/**
 * The highest cut-off among the ROC thresholds (midpoints between distinct scores) whose sensitivity is at least
 * `target` (positive = score > cutoff); null when none reaches it.
 */
export function cutoffForSensitivity(thresholds: number[], sensitivity: number[], target: number): number | null {
  let best: number | null = null;
  for (let k = 0; k < thresholds.length; k++) {
    const t = thresholds[k]!;
    if (!Number.isFinite(t)) continue;
    if (sensitivity[k]! >= target - 1e-12 && (best === null || t > best)) best = t;
  }
  return best;
}
