/** Reference data and R code for the ICC(A,1) checks (test/model/icc-vs-r.test.ts, test/model/roi-eval.test.ts). */

/** Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges. Published ICC(2,1) = 0.29. */
export const SHROUT_FLEISS: number[][] = [
  [9, 2, 5, 8],
  [6, 1, 3, 2],
  [8, 4, 6, 8],
  [7, 1, 2, 6],
  [10, 5, 6, 9],
  [6, 2, 4, 7],
];

/**
 * The reference in R: two-way ANOVA mean squares from base R aov(), ICC(A,1) and the McGraw & Wong (1996, Table 7
 * case 2A) confidence interval with R's qf() -- the formulas irr::icc(model="twoway", type="agreement") uses.
 * Exported for the roi-eval CI test, which checks its own ICCs against the same R code.
 */
export const R_ICC_A1 = `
iccA1 <- function(M, alpha = 0.05) {
  n <- nrow(M); k <- ncol(M)
  d <- data.frame(y = as.vector(M), subj = factor(rep(seq_len(n), k)), rater = factor(rep(seq_len(k), each = n)))
  tab <- summary(aov(y ~ subj + rater, data = d))[[1]]
  msr <- tab[["Mean Sq"]][1]; msc <- tab[["Mean Sq"]][2]; mse <- tab[["Mean Sq"]][3]
  icc <- (msr - mse) / (msr + (k - 1) * mse + k / n * (msc - mse))
  a <- k * icc / (n * (1 - icc)); b <- 1 + k * icc * (n - 1) / (n * (1 - icc))
  v <- (a * msc + b * mse)^2 / ((a * msc)^2 / (k - 1) + (b * mse)^2 / ((n - 1) * (k - 1)))
  fl <- qf(1 - alpha / 2, n - 1, v); fu <- qf(1 - alpha / 2, v, n - 1)
  lo <- n * (msr - fl * mse) / (fl * (k * msc + (k * n - k - n) * mse) + n * msr)
  up <- n * (fu * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fu * msr)
  c(icc, lo, up, msr, msc, mse)
}`;
