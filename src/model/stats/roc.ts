import { pnorm, qnorm } from './distributions.js';

/**
 * ROC analysis as pROC does it with direction "<" (controls < cases: a higher radscore means abnormal).
 * The direction is fixed, not "auto": an AUC below 0.5 on an external cohort is reported as such.
 */

export interface Placements {
  auc: number;
  /** V10: per case, fraction of controls below it (ties count 1/2). */
  cases: Float64Array;
  /** V01: per control, fraction of cases above it (ties count 1/2). */
  controls: Float64Array;
}

function splitByLabel(scores: ArrayLike<number>, labels: ArrayLike<number>): { cases: number[]; controls: number[] } {
  if (scores.length !== labels.length) throw new Error('scores and labels differ in length');
  const cases: number[] = [];
  const controls: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new Error(`score ${i} is not finite`);
    if (labels[i] === 1) cases.push(s);
    else if (labels[i] === 0) controls.push(s);
    else throw new Error(`label ${i} is not 0/1`);
  }
  if (!cases.length || !controls.length) throw new Error(`ROC needs both classes (cases ${cases.length}, controls ${controls.length})`);
  return { cases, controls };
}

/** DeLong placement values (O(m·n), fine for cohorts of hundreds). */
export function delongPlacements(scores: ArrayLike<number>, labels: ArrayLike<number>): Placements {
  const { cases, controls } = splitByLabel(scores, labels);
  const m = cases.length;
  const n = controls.length;
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const x = cases[i]!;
    for (let j = 0; j < n; j++) {
      const y = controls[j]!;
      const psi = x > y ? 1 : x === y ? 0.5 : 0;
      v10[i]! += psi;
      v01[j]! += psi;
      total += psi;
    }
  }
  for (let i = 0; i < m; i++) v10[i]! /= n;
  for (let j = 0; j < n; j++) v01[j]! /= m;
  return { auc: total / (m * n), cases: v10, controls: v01 };
}

function cov(a: Float64Array, b: Float64Array, ma: number, mb: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (a.length - 1);
}

export interface AucResult {
  auc: number;
  variance: number;
  ciLower: number;
  ciUpper: number;
  nCases: number;
  nControls: number;
}

/** AUC with DeLong variance and (1-alpha) CI, as pROC ci.auc(method = "delong") (CI clipped to [0, 1]). */
export function aucDelong(scores: ArrayLike<number>, labels: ArrayLike<number>, confLevel = 0.95): AucResult {
  const p = delongPlacements(scores, labels);
  const m = p.cases.length;
  const n = p.controls.length;
  const sx = m > 1 ? cov(p.cases, p.cases, p.auc, p.auc) : 0;
  const sy = n > 1 ? cov(p.controls, p.controls, p.auc, p.auc) : 0;
  const variance = sx / m + sy / n;
  const z = qnorm(1 - (1 - confLevel) / 2);
  const sd = Math.sqrt(variance);
  return {
    auc: p.auc,
    variance,
    ciLower: Math.max(0, p.auc - z * sd),
    ciUpper: Math.min(1, p.auc + z * sd),
    nCases: m,
    nControls: n,
  };
}

export interface DelongTest {
  auc1: number;
  auc2: number;
  z: number;
  p: number;
}

/** Paired DeLong test of two scores on the same subjects (pROC roc.test(method = "delong", paired = TRUE)). */
export function delongPairedTest(scores1: ArrayLike<number>, scores2: ArrayLike<number>, labels: ArrayLike<number>): DelongTest {
  const a = delongPlacements(scores1, labels);
  const b = delongPlacements(scores2, labels);
  const m = a.cases.length;
  const n = a.controls.length;
  const sx11 = cov(a.cases, a.cases, a.auc, a.auc);
  const sx22 = cov(b.cases, b.cases, b.auc, b.auc);
  const sx12 = cov(a.cases, b.cases, a.auc, b.auc);
  const sy11 = cov(a.controls, a.controls, a.auc, a.auc);
  const sy22 = cov(b.controls, b.controls, b.auc, b.auc);
  const sy12 = cov(a.controls, b.controls, a.auc, b.auc);
  const v = (sx11 + sx22 - 2 * sx12) / m + (sy11 + sy22 - 2 * sy12) / n;
  const diff = a.auc - b.auc;
  if (!(v > 0)) return { auc1: a.auc, auc2: b.auc, z: diff === 0 ? 0 : Infinity * Math.sign(diff), p: diff === 0 ? 1 : 0 };
  const z = diff / Math.sqrt(v);
  return { auc1: a.auc, auc2: b.auc, z, p: 2 * pnorm(-Math.abs(z)) };
}

export interface RocCurve {
  /** pROC thresholds: -Inf, midpoints between consecutive distinct scores, +Inf. */
  thresholds: number[];
  sensitivity: number[];
  specificity: number[];
}

/** Empirical ROC curve; positive = score > threshold. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const { cases, controls } = splitByLabel(scores, labels);
  const uniq = [...new Set([...cases, ...controls])].sort((x, y) => x - y);
  const thresholds = [-Infinity];
  for (let i = 0; i + 1 < uniq.length; i++) thresholds.push((uniq[i]! + uniq[i + 1]!) / 2);
  thresholds.push(Infinity);
  const cs = [...cases].sort((x, y) => x - y);
  const ct = [...controls].sort((x, y) => x - y);
  const sensitivity: number[] = [];
  const specificity: number[] = [];
  let ic = 0;
  let it = 0;
  for (const t of thresholds) {
    while (ic < cs.length && cs[ic]! <= t) ic++;
    while (it < ct.length && ct[it]! <= t) it++;
    sensitivity.push((cs.length - ic) / cs.length);
    specificity.push(it / ct.length);
  }
  return { thresholds, sensitivity, specificity };
}

export interface OperatingPoint {
  cutoff: number;
  sensitivity: number;
  specificity: number;
  accuracy: number;
  youden: number;
}

/** Confusion-matrix counts at a cut-off (positive = score > cutoff, as the service flags; label 1 = abnormal). */
export function confusionCounts(scores: ArrayLike<number>, labels: ArrayLike<number>, cutoff: number): { tp: number; fn: number; tn: number; fp: number } {
  let tp = 0;
  let fn = 0;
  let tn = 0;
  let fp = 0;
  for (let i = 0; i < scores.length; i++) {
    const pos = scores[i]! > cutoff;
    if (labels[i] === 1) pos ? tp++ : fn++;
    else pos ? fp++ : tn++;
  }
  return { tp, fn, tn, fp };
}

/** Confusion-matrix figures at a cut-off (positive = score > cutoff). */
export function operatingPoint(scores: ArrayLike<number>, labels: ArrayLike<number>, cutoff: number): OperatingPoint {
  const { tp, fn, tn, fp } = confusionCounts(scores, labels, cutoff);
  const sensitivity = tp / (tp + fn);
  const specificity = tn / (tn + fp);
  return { cutoff, sensitivity, specificity, accuracy: (tp + tn) / scores.length, youden: sensitivity + specificity - 1 };
}

/**
 * Youden-optimal cut-off (max sensitivity + specificity) among the pROC thresholds (finite ones only).
 * Ties: the lowest threshold (highest sensitivity), the screening-friendly choice.
 */
export function youdenCutoff(scores: ArrayLike<number>, labels: ArrayLike<number>): OperatingPoint {
  const c = rocCurve(scores, labels);
  let best = -1;
  let bestJ = -Infinity;
  for (let k = 1; k < c.thresholds.length - 1; k++) {
    const j = c.sensitivity[k]! + c.specificity[k]!;
    if (j > bestJ + 1e-12) {
      bestJ = j;
      best = k;
    }
  }
  if (best < 0) best = 0; // a single distinct score: no finite threshold
  const cutoff = Number.isFinite(c.thresholds[best]!) ? c.thresholds[best]! : (scores[0] as number);
  return operatingPoint(scores, labels, cutoff);
}
