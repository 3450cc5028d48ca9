import { Matrix, solve } from 'ml-matrix';

/**
 * LASSO by coordinate descent, matching glmnet(standardize = FALSE, intercept = TRUE, alpha = 1):
 *
 *  gaussian: minimise (1/2n)·Σ(y − b0 − xβ)² + λ‖β‖₁
 *  binomial: minimise −(1/n)·Σ[y·η − log(1 + e^η)] + λ‖β‖₁,  η = b0 + xβ
 *
 * The intercept is not penalised; columns are centred internally (for the intercept) but not scaled:
 * callers Z-score the features themselves (training mean and sample SD). Convergence: a sweep ends the
 * loop when max_j v_j·Δβ_j² < thresh · (null deviance / n), v_j = mean of x_j² (weighted), as glmnet.
 */

export type Family = 'gaussian' | 'binomial';

export interface LassoOptions {
  family?: Family;
  /** Explicit λ sequence (decreasing). Default: glmnet's nlambda geometric path from λmax. */
  lambda?: number[];
  nlambda?: number;
  /**
   * Default 0.01 when n < 2p, else 1e-4. glmnet switches at n < p; near-saturated fits (n ≈ p, and CV folds
   * that then have fewer rows than columns) are ill-conditioned and irrelevant for feature selection.
   */
  lambdaMinRatio?: number;
  thresh?: number;
  /** Sweep budget per λ (default 1e5 gaussian, 2e4 binomial); a λ that hits it is listed in nonConverged. */
  maxIter?: number;
  /**
   * glmnet's early exit on a computed path (never on an explicit λ list): stop after λ index ≥ 5 when the
   * fraction of deviance explained grows by < 1e-5 (relative) or exceeds 0.999. Default: on for computed paths.
   */
  earlyStop?: boolean;
}

export interface LassoPath {
  family: Family;
  lambda: number[];
  intercept: number[];
  /** beta[k][j]: coefficient of column j at lambda[k]. */
  beta: Float64Array[];
  /** Number of non-zero coefficients per λ. */
  df: number[];
  /** Indices of λ whose fit hit the sweep budget (kept as the last iterate) — reported, never silent. */
  nonConverged: number[];
  /** Binomial: index from which the fit is saturated (deviance ratio > 0.999, near-separation); later λ repeat it. */
  saturatedFrom?: number;
}

/** Column-major copy of an ml-matrix (fast column access in the inner loop). */
function columns(X: Matrix): Float64Array[] {
  const cols: Float64Array[] = [];
  for (let j = 0; j < X.columns; j++) cols.push(Float64Array.from(X.getColumn(j)));
  return cols;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

const soft = (g: number, l: number) => (g > l ? g - l : g < -l ? g + l : 0);

/** Largest λ with a non-empty model: max_j |Σ (x_ij − x̄_j)(y_i − ȳ)| / n (both families). */
export function lambdaMax(X: Matrix, y: ArrayLike<number>): number {
  const n = X.rows;
  const ybar = mean(y);
  let best = 0;
  for (const col of columns(X)) {
    const xbar = mean(col);
    let s = 0;
    for (let i = 0; i < n; i++) s += (col[i]! - xbar) * (y[i]! - ybar);
    best = Math.max(best, Math.abs(s) / n);
  }
  return best;
}

/** glmnet-style λ path: nlambda values geometric from λmax to λmax·ratio. */
export function lambdaPath(X: Matrix, y: ArrayLike<number>, nlambda = 100, ratio?: number): number[] {
  const lmax = lambdaMax(X, y);
  const r = ratio ?? (X.rows < 2 * X.columns ? 0.01 : 1e-4);
  const out: number[] = [];
  for (let k = 0; k < nlambda; k++) out.push(lmax * Math.pow(r, k / (nlambda - 1)));
  return out;
}

function gaussianPath(cols: Float64Array[], y: ArrayLike<number>, lambdas: number[], thresh: number, maxIter: number, earlyStop: boolean): LassoPath {
  const n = y.length;
  const p = cols.length;
  const ybar = mean(y);
  const xbar = cols.map(mean);
  const xc = cols.map((c, j) => c.map((v) => v - xbar[j]!));
  const v = xc.map((c) => c.reduce((s, x) => s + x * x, 0) / n);
  const r = new Float64Array(n);
  let nulldev = 0;
  for (let i = 0; i < n; i++) {
    r[i] = y[i]! - ybar;
    nulldev += r[i]! * r[i]!;
  }
  const thr = thresh * (nulldev / n || 1);
  const beta = new Float64Array(p);
  const active = new Uint8Array(p);
  const out: LassoPath = { family: 'gaussian', lambda: [], intercept: [], beta: [], df: [], nonConverged: [] };
  let iter = 0;
  let rsqPrev = 0;
  const update = (j: number, lam: number): number => {
    if (v[j]! <= 0) return 0;
    const c = xc[j]!;
    let g = 0;
    for (let i = 0; i < n; i++) g += c[i]! * r[i]!;
    g = g / n + v[j]! * beta[j]!;
    const nb = soft(g, lam) / v[j]!;
    const d = nb - beta[j]!;
    if (d === 0) return 0;
    beta[j] = nb;
    for (let i = 0; i < n; i++) r[i]! -= d * c[i]!;
    if (nb !== 0) active[j] = 1;
    return v[j]! * d * d;
  };
  const yc = Float64Array.from(r);
  const objective = (lam: number) => {
    let rss = 0;
    for (let i = 0; i < n; i++) rss += r[i]! * r[i]!;
    let l1 = 0;
    for (let j = 0; j < p; j++) l1 += Math.abs(beta[j]!);
    return rss / (2 * n) + lam * l1;
  };
  /**
   * Exact solve on the current active set and sign pattern (the LASSO stationarity conditions
   * G·β_A = X_Aᵀy/n − λ·sign(β_A), with ml-matrix): accepted only when the signs hold and the objective
   * does not increase; the next full sweep then checks the KKT conditions of every coordinate.
   */
  const polish = (lam: number): void => {
    const A: number[] = [];
    for (let j = 0; j < p; j++) if (beta[j] !== 0) A.push(j);
    const k = A.length;
    if (!k || k >= n) return;
    const G = new Matrix(k, k);
    const rhs = new Matrix(k, 1);
    for (let a = 0; a < k; a++) {
      const ca = xc[A[a]!]!;
      for (let b = a; b < k; b++) {
        const cb = xc[A[b]!]!;
        let d = 0;
        for (let i = 0; i < n; i++) d += ca[i]! * cb[i]!;
        G.set(a, b, d / n);
        G.set(b, a, d / n);
      }
      let c = 0;
      for (let i = 0; i < n; i++) c += ca[i]! * yc[i]!;
      rhs.set(a, 0, c / n - lam * Math.sign(beta[A[a]!]!));
    }
    let sol: Matrix;
    try {
      sol = solve(G, rhs);
    } catch {
      return;
    }
    for (let a = 0; a < k; a++) {
      const v2 = sol.get(a, 0);
      if (!Number.isFinite(v2) || Math.sign(v2) !== Math.sign(beta[A[a]!]!)) return;
    }
    const before = objective(lam);
    const saved = A.map((j) => beta[j]!);
    const savedR = Float64Array.from(r);
    A.forEach((j, a) => (beta[j] = sol.get(a, 0)));
    r.set(yc);
    for (const j of A) {
      const c = xc[j]!;
      const b = beta[j]!;
      for (let i = 0; i < n; i++) r[i]! -= b * c[i]!;
    }
    if (objective(lam) > before) {
      A.forEach((j, a) => (beta[j] = saved[a]!));
      r.set(savedR);
    }
  };
  const thrLoose = Math.max(thr, 1e-8 * (nulldev / n || 1));
  for (const lam of lambdas) {
    const start = iter;
    let budgetHit = false;
    for (;;) {
      // full sweep
      let dlx = 0;
      for (let j = 0; j < p; j++) dlx = Math.max(dlx, update(j, lam));
      iter++;
      if (dlx < thr) break;
      if (iter - start > maxIter) {
        budgetHit = true;
        break;
      }
      // iterate on the active set until roughly converged, polish exactly, finish, then re-check all
      const act: number[] = [];
      for (let j = 0; j < p; j++) if (active[j]) act.push(j);
      for (let sweep = 1; ; sweep++) {
        let d2 = 0;
        for (const j of act) d2 = Math.max(d2, update(j, lam));
        if (++iter - start > maxIter) break;
        if (d2 < thr) break;
        if (d2 < thrLoose || sweep % 20 === 0) polish(lam);
      }
    }
    if (budgetHit) out.nonConverged.push(out.lambda.length);
    let b0 = ybar;
    let df = 0;
    for (let j = 0; j < p; j++) {
      b0 -= xbar[j]! * beta[j]!;
      if (beta[j] !== 0) df++;
    }
    out.lambda.push(lam);
    out.intercept.push(b0);
    out.beta.push(Float64Array.from(beta));
    out.df.push(df);
    if (earlyStop && nulldev > 0) {
      let rss = 0;
      for (let i = 0; i < n; i++) rss += r[i]! * r[i]!;
      const rsq = 1 - rss / nulldev;
      if (out.lambda.length >= 5 && (rsq - rsqPrev < 1e-5 * rsq || rsq > 0.999)) break;
      rsqPrev = rsq;
    }
  }
  return out;
}

function binomialPath(cols: Float64Array[], y: ArrayLike<number>, lambdas: number[], thresh: number, maxIter: number, earlyStop: boolean): LassoPath {
  const n = y.length;
  const p = cols.length;
  const ybar = mean(y);
  if (ybar <= 0 || ybar >= 1) throw new Error('binomial LASSO needs both classes');
  const beta = new Float64Array(p);
  let b0 = Math.log(ybar / (1 - ybar));
  const nulldev = -2 * (ybar * Math.log(ybar) + (1 - ybar) * Math.log(1 - ybar));
  const thr = thresh * nulldev;
  const eta = new Float64Array(n).fill(b0);
  let devPrev = 0;
  const w = new Float64Array(n);
  const r = new Float64Array(n); // weighted working residual z - eta
  const active = new Uint8Array(p);
  const out: LassoPath = { family: 'binomial', lambda: [], intercept: [], beta: [], df: [], nonConverged: [] };
  let iter = 0;
  for (const lam of lambdas) {
    if (out.saturatedFrom !== undefined) {
      // saturated (near-separation): further λ would only inflate the coefficients; repeat the last fit
      out.lambda.push(lam);
      out.intercept.push(out.intercept[out.intercept.length - 1]!);
      out.beta.push(Float64Array.from(out.beta[out.beta.length - 1]!));
      out.df.push(out.df[out.df.length - 1]!);
      continue;
    }
    const start = iter;
    let budgetHit = false;
    for (let outer = 0; ; outer++) {
      if (outer > 100 || iter - start > maxIter) {
        budgetHit = true;
        break;
      }
      let sw = 0;
      for (let i = 0; i < n; i++) {
        const pr = 1 / (1 + Math.exp(-eta[i]!));
        w[i] = Math.max(pr * (1 - pr), 1e-5);
        r[i] = (y[i]! - pr) / w[i]!;
        sw += w[i]!;
      }
      const xv = cols.map((c) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += w[i]! * c[i]! * c[i]!;
        return s / n;
      });
      const betaOld = Float64Array.from(beta);
      const b0Old = b0;
      const upd = (j: number): number => {
        const c = cols[j]!;
        let g = 0;
        for (let i = 0; i < n; i++) g += w[i]! * c[i]! * r[i]!;
        // weighted inner problem with intercept re-centred each sweep
        g = g / n + xv[j]! * beta[j]!;
        const nb = xv[j]! > 0 ? soft(g, lam) / xv[j]! : 0;
        const d = nb - beta[j]!;
        if (d === 0) return 0;
        beta[j] = nb;
        for (let i = 0; i < n; i++) r[i]! -= d * c[i]!;
        if (nb !== 0) active[j] = 1;
        return xv[j]! * d * d;
      };
      const updIntercept = (): number => {
        let s = 0;
        for (let i = 0; i < n; i++) s += w[i]! * r[i]!;
        const d = s / sw;
        b0 += d;
        for (let i = 0; i < n; i++) r[i]! -= d;
        return (sw / n) * d * d;
      };
      for (;;) {
        let dlx = updIntercept();
        for (let j = 0; j < p; j++) dlx = Math.max(dlx, upd(j));
        if (++iter - start > maxIter) break;
        if (dlx < thr) break;
        const act: number[] = [];
        for (let j = 0; j < p; j++) if (active[j]) act.push(j);
        for (;;) {
          let d2 = updIntercept();
          for (const j of act) d2 = Math.max(d2, upd(j));
          if (++iter - start > maxIter) break;
          if (d2 < thr) break;
        }
      }
      // new linear predictor; outer convergence on the change of the fit
      for (let i = 0; i < n; i++) {
        let e = b0;
        for (let j = 0; j < p; j++) if (beta[j] !== 0) e += cols[j]![i]! * beta[j]!;
        eta[i] = e;
      }
      let dmax = (sw / n) * (b0 - b0Old) ** 2;
      for (let j = 0; j < p; j++) dmax = Math.max(dmax, xv[j]! * (beta[j]! - betaOld[j]!) ** 2);
      if (dmax < thr) break;
    }
    let df = 0;
    for (let j = 0; j < p; j++) if (beta[j] !== 0) df++;
    out.lambda.push(lam);
    out.intercept.push(b0);
    out.beta.push(Float64Array.from(beta));
    out.df.push(df);
    if (budgetHit) out.nonConverged.push(out.lambda.length - 1);
    let dev = 0;
    for (let i = 0; i < n; i++) {
      const pr = 1 / (1 + Math.exp(-eta[i]!));
      dev += -2 * (y[i]! ? Math.log(Math.max(pr, 1e-300)) : Math.log(Math.max(1 - pr, 1e-300)));
    }
    const dr = 1 - dev / n / nulldev;
    if (earlyStop && out.lambda.length >= 5 && (dr - devPrev < 1e-5 * dr || dr > 0.999)) break;
    if (dr > 0.999) out.saturatedFrom = out.lambda.length - 1;
    devPrev = dr;
  }
  return out;
}

/** Fits the LASSO path (warm starts along decreasing λ). */
export function lassoPath(X: Matrix, y: ArrayLike<number>, opts: LassoOptions = {}): LassoPath {
  if (X.rows !== y.length) throw new Error(`X has ${X.rows} rows but y has ${y.length}`);
  const family = opts.family ?? 'gaussian';
  const lambdas = opts.lambda ?? lambdaPath(X, y, opts.nlambda ?? 100, opts.lambdaMinRatio);
  for (let k = 1; k < lambdas.length; k++) if (!(lambdas[k]! <= lambdas[k - 1]!)) throw new Error('lambda sequence must be decreasing');
  const cols = columns(X);
  const thresh = opts.thresh ?? 1e-12;
  const maxIter = opts.maxIter ?? (family === 'gaussian' ? 1e5 : 2e4);
  const early = opts.earlyStop ?? opts.lambda === undefined;
  return family === 'gaussian' ? gaussianPath(cols, y, lambdas, thresh, maxIter, early) : binomialPath(cols, y, lambdas, thresh, maxIter, early);
}

/** Linear predictor b0 + xβ at path index k for each row of X. */
export function linearPredictor(path: LassoPath, k: number, X: Matrix): Float64Array {
  const out = new Float64Array(X.rows);
  const b = path.beta[k]!;
  for (let i = 0; i < X.rows; i++) {
    let s = path.intercept[k]!;
    for (let j = 0; j < b.length; j++) if (b[j] !== 0) s += b[j]! * X.get(i, j);
    out[i] = s;
  }
  return out;
}
