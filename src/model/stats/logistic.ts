import { Matrix, solve } from 'ml-matrix';

export interface LogisticFit {
  /** Coefficients: [intercept, b1, ...]. */
  coefficients: number[];
  iterations: number;
  converged: boolean;
}

/**
 * Unpenalised logistic regression y ~ 1 + X by IRLS (Newton–Raphson), as R's glm(family = binomial)
 * (converges to the same maximum-likelihood estimate; tolerance on the relative deviance change 1e-14).
 */
export function logisticRegression(X: Matrix, y: ArrayLike<number>, maxIter = 100): LogisticFit {
  const n = X.rows;
  const p = X.columns + 1;
  const D = new Matrix(n, p);
  for (let i = 0; i < n; i++) {
    D.set(i, 0, 1);
    for (let j = 1; j < p; j++) D.set(i, j, X.get(i, j - 1));
  }
  let beta = Matrix.zeros(p, 1);
  let devOld = Infinity;
  for (let it = 1; it <= maxIter; it++) {
    const eta = D.mmul(beta);
    const W = new Matrix(n, p);
    const z = new Matrix(n, 1);
    let dev = 0;
    for (let i = 0; i < n; i++) {
      const e = eta.get(i, 0);
      const pr = 1 / (1 + Math.exp(-e));
      const w = Math.max(pr * (1 - pr), 1e-12);
      z.set(i, 0, e + (y[i]! - pr) / w);
      for (let j = 0; j < p; j++) W.set(i, j, D.get(i, j) * w);
      dev += -2 * (y[i]! ? Math.log(Math.max(pr, 1e-300)) : Math.log(Math.max(1 - pr, 1e-300)));
    }
    const XtWX = W.transpose().mmul(D);
    const XtWz = W.transpose().mmul(z);
    beta = solve(XtWX, XtWz);
    if (Math.abs(dev - devOld) / (Math.abs(dev) + 0.1) < 1e-14) return { coefficients: beta.getColumn(0), iterations: it, converged: true };
    devOld = dev;
  }
  return { coefficients: beta.getColumn(0), iterations: maxIter, converged: false };
}

export const expit = (x: number) => 1 / (1 + Math.exp(-x));
