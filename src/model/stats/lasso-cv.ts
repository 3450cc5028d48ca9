/** Cross-validation of the LASSO path as cv.glmnet (stratified folds, per-fold deviance, λ.min and λ.1se). */
import { Matrix } from 'ml-matrix';
import { lassoPath, linearPredictor, type LassoOptions, type LassoPath } from './lasso.js';

export interface CvResult {
  lambda: number[];
  /** Mean CV error per λ (gaussian: mean squared error; binomial: deviance). */
  cvm: number[];
  /** Its standard error (glmnet's cvsd). */
  cvsd: number[];
  lambdaMin: number;
  lambda1se: number;
  indexMin: number;
  index1se: number;
  nfolds: number;
  foldid: number[];
  measure: 'mse' | 'deviance';
  /** λ fits (over the full fit and all folds) that hit the sweep budget. */
  nonConverged: number;
}

/** Stratified random fold ids 1..nfolds (seeded), balancing classes across folds. */
export function stratifiedFolds(y: ArrayLike<number>, nfolds: number, rand: () => number): number[] {
  const foldid = new Array<number>(y.length).fill(0);
  const classes = [...new Set(Array.from(y))].sort();
  let offset = 0;
  for (const c of classes) {
    const idx = Array.from(y).flatMap((v, i) => (v === c ? [i] : []));
    for (let i = idx.length - 1; i > 0; i--) {
      const k = Math.floor(rand() * (i + 1));
      [idx[i], idx[k]] = [idx[k]!, idx[i]!];
    }
    idx.forEach((row, i) => (foldid[row] = ((i + offset) % nfolds) + 1));
    offset += idx.length;
  }
  return foldid;
}

/**
 * K-fold cross-validation over a λ path, as cv.glmnet(grouped = TRUE, keep the full-data λ): per-fold
 * mean error, cvm = fold-size-weighted mean, cvsd = sqrt(weighted var of fold errors / (K − 1)),
 * λ.min = largest λ with minimal cvm, λ.1se = largest λ with cvm ≤ cvm[min] + cvsd[min].
 */
export function cvLasso(
  X: Matrix,
  y: ArrayLike<number>,
  foldid: number[],
  opts: LassoOptions = {},
  /** Called after the full-data path and after each fold's path ("full" or "fold k/K"). */
  onPath?: (what: string) => void,
): CvResult & { fit: LassoPath } {
  const family = opts.family ?? 'gaussian';
  const fit = lassoPath(X, y, opts);
  onPath?.('full path');
  const lambda = fit.lambda;
  const nfolds = Math.max(...foldid);
  let nonConverged = fit.nonConverged.length;
  const L = lambda.length;
  const foldErr: number[][] = [];
  const foldW: number[] = [];
  for (let k = 1; k <= nfolds; k++) {
    const tr: number[] = [];
    const te: number[] = [];
    foldid.forEach((f, i) => (f === k ? te : tr).push(i));
    if (!te.length) throw new Error(`fold ${k} is empty`);
    const Xtr = X.selection(tr, [...Array(X.columns).keys()]);
    const Xte = X.selection(te, [...Array(X.columns).keys()]);
    const ytr = tr.map((i) => y[i]!);
    const path = lassoPath(Xtr, ytr, { ...opts, family, lambda });
    onPath?.(`fold ${k}/${nfolds}`);
    nonConverged += path.nonConverged.length;
    const errs: number[] = [];
    for (let l = 0; l < L; l++) {
      const eta = linearPredictor(path, l, Xte);
      let s = 0;
      te.forEach((row, i) => {
        const yy = y[row]!;
        if (family === 'gaussian') s += (yy - eta[i]!) ** 2;
        else {
          const pr = Math.min(Math.max(1 / (1 + Math.exp(-eta[i]!)), 1e-5), 1 - 1e-5);
          s += -2 * (yy * Math.log(pr) + (1 - yy) * Math.log(1 - pr));
        }
      });
      errs.push(s / te.length);
    }
    foldErr.push(errs);
    foldW.push(te.length);
  }
  const wsum = foldW.reduce((a, b) => a + b, 0);
  const cvm: number[] = [];
  const cvsd: number[] = [];
  for (let l = 0; l < L; l++) {
    let m = 0;
    for (let k = 0; k < nfolds; k++) m += foldW[k]! * foldErr[k]![l]!;
    m /= wsum;
    let v = 0;
    for (let k = 0; k < nfolds; k++) v += foldW[k]! * (foldErr[k]![l]! - m) ** 2;
    v /= wsum;
    cvm.push(m);
    cvsd.push(Math.sqrt(v / (nfolds - 1)));
  }
  const cmin = Math.min(...cvm);
  let indexMin = 0;
  for (let l = 0; l < L; l++) if (cvm[l]! <= cmin) { indexMin = l; break; } // λ decreasing: first = largest λ
  const semin = cvm[indexMin]! + cvsd[indexMin]!;
  let index1se = indexMin;
  for (let l = 0; l < L; l++) if (cvm[l]! <= semin) { index1se = l; break; }
  return {
    lambda,
    cvm,
    cvsd,
    lambdaMin: lambda[indexMin]!,
    lambda1se: lambda[index1se]!,
    indexMin,
    index1se,
    nfolds,
    foldid,
    measure: family === 'gaussian' ? 'mse' : 'deviance',
    nonConverged,
    fit,
  };
}
