import { Matrix } from 'ml-matrix';
import { readFeatureTable } from './dist/model/table.js';
import { readLabels } from './dist/model/labels.js';
import { cvLasso, stratifiedFolds } from './dist/model/stats/lasso.js';
import { rng, mean, sd } from './dist/model/stats/misc.js';
const t = readFeatureTable('/tmp/cohort160/features.csv');
const labels = new Map(readLabels('/tmp/cohort160/labels.csv').map((l) => [l.id, l.label]));
const rows = t.ids.map((id, i) => i).filter((i) => labels.get(t.ids[i]) != null).slice(0, 112);
const y = rows.map((i) => labels.get(t.ids[i]));
const which = process.argv[2] ?? 'T1_';
const cols = t.columns.map((c, j) => j).filter((j) => t.columns[j].startsWith(which) && rows.every((r) => t.values[r][j] != null) && sd(rows.map((r) => t.values[r][j])) > 0);
const X = new Matrix(rows.length, cols.length);
cols.forEach((j, k) => { const v = rows.map((r) => t.values[r][j]); const m = mean(v), s = sd(v); v.forEach((x, i) => X.set(i, k, (x - m) / s)); });
const foldid = stratifiedFolds(y, 10, rng(2));
for (const thresh of (process.argv[3] ?? "1e-9,1e-10").split(",").map(Number)) {
  const t0 = Date.now();
  const cv = cvLasso(X, y, foldid, { family: 'gaussian', nlambda: 100, thresh });
  const k = cv.index1se;
  const nz = [...cv.fit.beta[k]].map((b, j) => [j, b]).filter(([, b]) => b !== 0);
  console.log(which, 'p', cols.length, 'thresh', thresh, 'sec', (Date.now() - t0) / 1000, 'L', cv.lambda.length, 'nonconv', cv.nonConverged, 'k1se', k, 'lam', cv.lambda[k].toPrecision(4), 'df', nz.length, 'kmin', cv.indexMin, nz.slice(0,5).map(([j,b])=>j+':'+b.toFixed(5)).join(' '));
}
