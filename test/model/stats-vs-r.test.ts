import { describe, expect, it } from 'vitest';
import { Matrix } from 'ml-matrix';
import { HAVE_R, maxAbsDiff, runR } from './rscript.js';
import { skipWithout } from '../helpers/tools.js';
import { syntheticCohort } from '../../src/model/synthetic.js';
import { lambdaPath, lassoPath } from '../../src/model/stats/lasso.js';
import { cvLasso, stratifiedFolds } from '../../src/model/stats/lasso-cv.js';
import { aucDelong, delongPairedTest, rocCurve, youdenCutoff } from '../../src/model/stats/roc.js';
import { confusionAt, cutoffForSensitivity, wilson } from '../../src/model/stats/proportion.js';
import { hosmerLemeshow } from '../../src/model/stats/hosmer.js';
import { logisticRegression, expit } from '../../src/model/stats/logistic.js';
import { mannWhitney, mean, rng, sd, randn } from '../../src/model/stats/misc.js';
import { pchisqUpper, pnorm, qnorm } from '../../src/model/stats/distributions.js';

/** Z-scored synthetic training matrix (first 112 rows) and its labels. */
function data(opts: { seed?: number; noise?: number; rows?: number } = {}) {
  const c = syntheticCohort({ seed: opts.seed ?? 7, noise: opts.noise ?? 40 });
  const rows = opts.rows ?? 112;
  const X = new Matrix(rows, c.features.columns.length);
  for (let j = 0; j < c.features.columns.length; j++) {
    const col = c.features.values.slice(0, rows).map((r) => r[j]!);
    const m = mean(col);
    const s = sd(col);
    col.forEach((v, i) => X.set(i, j, (v - m) / s));
  }
  const y = c.labels.slice(0, rows).map((l) => l.label!);
  return { X, y, rowsArr: X.to2DArray() };
}

const R = describe.skipIf(skipWithout(HAVE_R, 'Rscript with glmnet + pROC', 'Debian packages r-base-core r-cran-glmnet r-cran-proc'));
const report: Record<string, number> = {};

R('statistics against R reference implementations (live Rscript)', () => {
  it('gaussian LASSO coefficients match glmnet(standardize=FALSE, thresh=1e-12) over a λ path incl. λ=0.13', () => {
    const { X, y, rowsArr } = data();
    // the practical range of the path (down to 5% of λmax), where λ.min/λ.1se fall
    const lam = [...lambdaPath(X, y, 40, 0.05), 0.13].sort((a, b) => b - a);
    const fit = lassoPath(X, y, { lambda: lam });
    const r = runR(
      `f <- glmnet(D$X, D$y, family = "gaussian", lambda = D$lam, standardize = FALSE, thresh = 1e-12, maxit = 1e7)
       b <- as.matrix(coef(f)); for (k in seq_along(D$lam)) out(paste0("b", k), b[, k])`,
      { X: rowsArr, y, lam },
    );
    let worst = 0;
    lam.forEach((_, k) => {
      const mine = [fit.intercept[k]!, ...fit.beta[k]!];
      worst = Math.max(worst, maxAbsDiff(mine, r[`b${k + 1}`]!));
    });
    const k013 = lam.indexOf(0.13);
    expect(fit.df[k013]).toBeGreaterThan(0);
    // our solutions satisfy the LASSO optimality (KKT) conditions to ~1e-12, independently of R
    let kkt = 0;
    lam.forEach((l, k) => {
      const b = fit.beta[k]!;
      const res = y.map((yy, i) => yy - fit.intercept[k]! - rowsArr[i]!.reduce((s, x, j) => s + x * b[j]!, 0));
      for (let j = 0; j < b.length; j++) {
        const g = res.reduce((s, r, i) => s + r * rowsArr[i]![j]!, 0) / y.length;
        kkt = Math.max(kkt, b[j] === 0 ? Math.max(0, Math.abs(g) - l) : Math.abs(g - l * Math.sign(b[j]!)));
      }
    });
    report.kktViolation = kkt;
    expect(kkt).toBeLessThan(1e-9);
    report.lassoGaussian = worst;
    expect(worst).toBeLessThan(1e-5);
  });

  // Near-saturated fits (small λ, p > n) are ill-conditioned: glmnet's stopping rule at thresh 1e-12 leaves
  // errors up to ~1e-3 there (both implementations stop at slightly different points of a flat valley), so the
  // whole-path comparison runs both with thresh 1e-18; they then agree to < 1e-6.
  it('gaussian LASSO with p > n matches glmnet along the whole default path (thresh 1e-18 on both sides)', () => {
    const { X, y, rowsArr } = data({ seed: 11, noise: 150, rows: 112 }); // 9 + 2*152 = 313 columns
    expect(X.columns).toBeGreaterThan(X.rows);
    const lam = lambdaPath(X, y, 20);
    const fit = lassoPath(X, y, { lambda: lam, thresh: 1e-18 });
    const r = runR(
      `f <- glmnet(D$X, D$y, lambda = D$lam, standardize = FALSE, thresh = 1e-18, maxit = 1e8)
       b <- as.matrix(coef(f)); for (k in seq_along(D$lam)) out(paste0("b", k), b[, k])
       out("lmax", max(abs(crossprod(scale(D$X, scale = FALSE), D$y - mean(D$y)))) / nrow(D$X))`,
      { X: rowsArr, y, lam },
    );
    let worst = 0;
    lam.forEach((_, k) => (worst = Math.max(worst, maxAbsDiff([fit.intercept[k]!, ...fit.beta[k]!], r[`b${k + 1}`]!))));
    report.lassoGaussianPgtN = worst;
    expect(worst).toBeLessThan(1e-5);
    expect(Math.abs(lam[0]! - r.lmax![0]!)).toBeLessThan(1e-12);
  });

  it('10-fold CV curve, λ.min and λ.1se match cv.glmnet with the same folds and λ', () => {
    const { X, y, rowsArr } = data();
    const folds = stratifiedFolds(y, 10, rng(3));
    const lam = lambdaPath(X, y, 60, 0.05);
    const cv = cvLasso(X, y, folds, { lambda: lam });
    const r = runR(
      `cv <- cv.glmnet(D$X, D$y, lambda = D$lam, foldid = D$fold, standardize = FALSE, thresh = 1e-12, maxit = 1e7)
       out("cvm", cv$cvm); out("cvsd", cv$cvsd); out("lmin", cv$lambda.min); out("l1se", cv$lambda.1se)`,
      { X: rowsArr, y, lam, fold: folds },
    );
    report.cvm = maxAbsDiff(cv.cvm, r.cvm!);
    report.cvsd = maxAbsDiff(cv.cvsd, r.cvsd!);
    // fold fits are coefficient-class quantities (tolerance 1e-5, as the coefficients)
    expect(report.cvm).toBeLessThan(1e-5);
    expect(report.cvsd).toBeLessThan(1e-5);
    expect(cv.lambdaMin).toBeCloseTo(r.lmin![0]!, 12);
    expect(cv.lambda1se).toBeCloseTo(r.l1se![0]!, 12);
  });

  it('binomial LASSO (option) matches glmnet family="binomial"', () => {
    const { X, y, rowsArr } = data();
    const lam = lambdaPath(X, y, 20, 0.05);
    const fit = lassoPath(X, y, { family: 'binomial', lambda: lam });
    const r = runR(
      `f <- glmnet(D$X, D$y, family = "binomial", lambda = D$lam, standardize = FALSE, thresh = 1e-12, maxit = 1e7)
       b <- as.matrix(coef(f)); for (k in seq_along(D$lam)) out(paste0("b", k), b[, k])`,
      { X: rowsArr, y, lam },
    );
    let worst = 0;
    lam.forEach((_, k) => (worst = Math.max(worst, maxAbsDiff([fit.intercept[k]!, ...fit.beta[k]!], r[`b${k + 1}`]!))));
    report.lassoBinomial = worst;
    expect(worst).toBeLessThan(1e-5);
  });

  it('AUC, DeLong CI, paired DeLong test and Youden point match pROC', () => {
    const rand = rng(99);
    const n = 120;
    const y = Array.from({ length: n }, (_, i) => (i % 5 < 3 ? 1 : 0));
    const s1 = y.map((v) => v * 0.8 + randn(rand));
    const s2 = s1.map((v, i) => 0.6 * v + 0.5 * y[i]! + 0.8 * randn(rand));
    s2[3] = s2[4]!; // a tie
    const s3 = s1.map((v) => Math.round(v * 4) / 4); // many ties
    const s4 = y.map((v) => 2.3 * v + 0.6 * randn(rand)); // AUC near 1: the upper CI limit is clipped to 1
    const a1 = aucDelong(s1, y);
    const a3 = aucDelong(s3, y);
    const a4 = aucDelong(s4, y);
    expect(a4.ciUpper).toBe(1);
    const t = delongPairedTest(s1, s2, y);
    const yd = youdenCutoff(s1, y);
    const r = runR(
      `r1 <- roc(D$y, D$s1, direction = "<", levels = c(0, 1), quiet = TRUE)
       r2 <- roc(D$y, D$s2, direction = "<", levels = c(0, 1), quiet = TRUE)
       r3 <- roc(D$y, D$s3, direction = "<", levels = c(0, 1), quiet = TRUE)
       r4 <- roc(D$y, D$s4, direction = "<", levels = c(0, 1), quiet = TRUE)
       out("auc1", auc(r1)); out("ci1", ci.auc(r1, method = "delong")); out("ci3", ci.auc(r3, method = "delong")); out("ci4", ci.auc(r4, method = "delong"))
       t <- roc.test(r1, r2, method = "delong", paired = TRUE); out("z", t$statistic); out("p", t$p.value)
       b <- coords(r1, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity", "accuracy"), transpose = TRUE)
       out("best", b)`,
      { y, s1, s2, s3, s4 },
    );
    const diffs = [
      Math.abs(a1.auc - r.auc1![0]!),
      maxAbsDiff([a1.ciLower, a1.auc, a1.ciUpper], r.ci1!),
      maxAbsDiff([a3.ciLower, a3.auc, a3.ciUpper], r.ci3!),
      maxAbsDiff([a4.ciLower, a4.auc, a4.ciUpper], r.ci4!),
      Math.abs(t.z - r.z![0]!),
      Math.abs(t.p - r.p![0]!),
    ];
    report.rocDelong = Math.max(...diffs);
    expect(report.rocDelong).toBeLessThan(1e-6);
    expect(r.best!.length).toBe(4); // unique optimum
    expect(maxAbsDiff([yd.cutoff, yd.sensitivity, yd.specificity, yd.accuracy], r.best!)).toBeLessThan(1e-9);
  });

  it('logistic recalibration matches glm; Hosmer–Lemeshow matches the hoslem.test formula (g = 10, quantile breaks)', () => {
    const rand = rng(5);
    const n = 112;
    const y = Array.from({ length: n }, (_, i) => (i < 62 ? 1 : 0));
    const score = y.map((v) => 0.54 + 0.12 * (v - 0.5) + 0.15 * randn(rand));
    const fit = logisticRegression(new Matrix(score.map((s) => [s])), y);
    const p = score.map((s) => expit(fit.coefficients[0]! + fit.coefficients[1]! * s));
    const pTies = p.map((v) => Math.min(0.875, Math.max(0.125, Math.round(v * 8) / 8))); // ties merge quantile breaks
    const hl = hosmerLemeshow(p, y);
    const hlT = hosmerLemeshow(pTies, y);
    const r = runR(
      `g <- glm(D$y ~ D$s, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100)); out("glm", coef(g))
       hl <- function(x, yhat, g = 10) {
         qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
         cy <- cut(yhat, breaks = qq, include.lowest = TRUE)
         o <- xtabs(cbind(1 - x, x) ~ cy); e <- xtabs(cbind(1 - yhat, yhat) ~ cy)
         chisq <- sum((o - e)^2 / e); c(chisq, 1 - pchisq(chisq, g - 2))
       }
       out("hl", hl(D$y, D$p)); out("hlt", hl(D$y, D$pt))`,
      { y, s: score, p, pt: pTies },
    );
    report.glm = maxAbsDiff(fit.coefficients, r.glm!);
    report.hosmer = Math.max(maxAbsDiff([hl.statistic, hl.p], r.hl!), maxAbsDiff([hlT.statistic, hlT.p], r.hlt!));
    expect(report.glm).toBeLessThan(1e-6);
    expect(report.hosmer).toBeLessThan(1e-6);
    expect(hlT.groups.length).toBeLessThan(10);
  });

  it('Mann–Whitney and distribution functions match R', () => {
    const rand = rng(8);
    const a = Array.from({ length: 40 }, () => Math.round(10 * randn(rand)) / 10 + 0.5);
    const b = Array.from({ length: 35 }, () => Math.round(10 * randn(rand)) / 10);
    const mw = mannWhitney(a, b);
    const xs = [-7.5, -3.1, -0.3, 0, 0.4, 1.96, 5.9, 9];
    const ps = [1e-10, 0.025, 0.3, 0.5, 0.975, 0.999999];
    const chi = [0.2, 3.3, 8, 15.5, 40];
    const r = runR(
      `w <- wilcox.test(D$a, D$b, exact = FALSE, correct = TRUE); out("mw", c(w$statistic, w$p.value))
       out("pn", pnorm(D$xs)); out("qn", qnorm(D$ps)); out("pc", pchisq(D$chi, 8, lower.tail = FALSE)); out("pc3", pchisq(D$chi, 3, lower.tail = FALSE))`,
      { a, b, xs, ps, chi },
    );
    report.mannWhitney = maxAbsDiff([mw.W, mw.p], r.mw!);
    expect(report.mannWhitney).toBeLessThan(1e-9);
    expect(maxAbsDiff(xs.map(pnorm), r.pn!)).toBeLessThan(1e-14);
    expect(maxAbsDiff(ps.map(qnorm), r.qn!)).toBeLessThan(1e-9);
    expect(maxAbsDiff(chi.map((c) => pchisqUpper(c, 8)), r.pc!)).toBeLessThan(1e-12);
    expect(maxAbsDiff(chi.map((c) => pchisqUpper(c, 3)), r.pc3!)).toBeLessThan(1e-12);
  });

  // Issue 26 (screening performance per site): the same functions GET /api/performance uses, within 1e-9.
  it('AUC, DeLong CI, sensitivity/specificity/PPV/NPV at a fixed cut-off, Wilson CIs and the target-sensitivity cut-off match R (1e-9)', () => {
    const rand = rng(2026);
    const n = 157;
    const y = Array.from({ length: n }, (_, i) => (i % 7 < 3 ? 1 : 0));
    const s = y.map((v) => 0.5 + 0.15 * v + 0.12 * randn(rand));
    s[10] = s[11]!; // a tie
    const cut = 0.542;
    const a = aucDelong(s, y);
    const c = confusionAt(s, y, cut);
    const roc = rocCurve(s, y);
    const t90 = cutoffForSensitivity(roc.thresholds, roc.sensitivity, 0.9)!;
    const yd = youdenCutoff(s, y);
    const r = runR(
      `r <- roc(D$y, D$s, direction = "<", levels = c(0, 1), quiet = TRUE)
       out("ci", ci.auc(r, method = "delong"))
       out("at", coords(r, x = ${cut}, input = "threshold", ret = c("sensitivity", "specificity", "ppv", "npv"), transpose = TRUE))
       tp <- sum(D$s > ${cut} & D$y == 1); fn <- sum(D$s <= ${cut} & D$y == 1); tn <- sum(D$s <= ${cut} & D$y == 0); fp <- sum(D$s > ${cut} & D$y == 0)
       out("wsens", prop.test(tp, tp + fn, correct = FALSE)$conf.int); out("wspec", prop.test(tn, tn + fp, correct = FALSE)$conf.int)
       out("wppv", prop.test(tp, tp + fp, correct = FALSE)$conf.int); out("wnpv", prop.test(tn, tn + fn, correct = FALSE)$conf.int)
       out("w0", prop.test(0, 12, correct = FALSE)$conf.int); out("wn", prop.test(12, 12, correct = FALSE)$conf.int)
       a <- coords(r, "all", ret = c("threshold", "sensitivity"), transpose = FALSE); a <- a[is.finite(a$threshold) & a$sensitivity >= 0.9, ]
       out("t90", max(a$threshold))
       out("best", coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity"), transpose = TRUE))`,
      { y, s },
    );
    const diffs = {
      aucCi: maxAbsDiff([a.ciLower, a.auc, a.ciUpper], r.ci!),
      atCutoff: maxAbsDiff([c.sensitivity.p, c.specificity.p, c.ppv.p, c.npv.p], r.at!),
      wilson: Math.max(
        maxAbsDiff([c.sensitivity.ciLower, c.sensitivity.ciUpper], r.wsens!),
        maxAbsDiff([c.specificity.ciLower, c.specificity.ciUpper], r.wspec!),
        maxAbsDiff([c.ppv.ciLower, c.ppv.ciUpper], r.wppv!),
        maxAbsDiff([c.npv.ciLower, c.npv.ciUpper], r.wnpv!),
        maxAbsDiff([wilson(0, 12).ciLower, wilson(0, 12).ciUpper], r.w0!),
        maxAbsDiff([wilson(12, 12).ciLower, wilson(12, 12).ciUpper], r.wn!),
      ),
      targetSensitivity: Math.abs(t90 - r.t90![0]!),
      youden: r.best!.length === 3 ? maxAbsDiff([yd.cutoff, yd.sensitivity, yd.specificity], r.best!) : NaN,
    };
    Object.assign(report, Object.fromEntries(Object.entries(diffs).map(([k, v]) => [`perf_${k}`, v])));
    for (const v of Object.values(diffs)) expect(v).toBeLessThan(1e-9);
  });

  it('prints the measured differences', () => {
    process.stdout.write(`R comparison max |diff|: ${JSON.stringify(report)}\n`);
    expect(Object.keys(report).length).toBeGreaterThan(0);
  });
});
