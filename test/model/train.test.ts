import { describe, expect, it } from 'vitest';
import { HAVE_R, maxAbsDiff, runR } from './rscript.js';
import { SYNTHETIC_UNSTABLE } from '../../src/model/synthetic.js';
import { skipWithout } from '../helpers/tools.js';
import { DEFAULT_EXTRACTION, deriveLabel, labelCounts, parseLabels, syntheticCohort, labelsCsv, trainModel, scoreStudy, isNotAssessable, rowFeatures, parseModel } from '../../src/model/index.js';
import { stratifiedSplit } from '../../src/model/train.js';
import { icc21, mean, sd } from '../../src/model/stats/misc.js';
import { aucDelong } from '../../src/model/stats/roc.js';
import { toProbability } from '../../src/model/evaluate.js';
import type { TrainOptions } from '../../src/model/train.js';

const baseOpts = (o: Partial<TrainOptions> = {}): TrainOptions => ({
  seed: 42,
  split: { kind: 'random', fraction: 0.7 },
  lambdaRule: 'min',
  family: 'gaussian',
  nfolds: 10,
  nlambda: 100,
  iccThreshold: 0.75,
  name: 'test-radscore',
  version: '0.1.0',
  extraction: DEFAULT_EXTRACTION,
  software: 'test',
  ...o,
});

describe('labels (reference study rule)', () => {
  it('women and patients > 50 use T-score <= -1; others Z-score < -2; a given label wins', () => {
    expect(deriveLabel('F', 40, -1.0, 0)).toEqual({ label: 1, rule: 't-score' });
    expect(deriveLabel('F', 40, -0.9, -3)).toEqual({ label: 0, rule: 't-score' });
    expect(deriveLabel('M', 51, -1.0, 0)).toEqual({ label: 1, rule: 't-score' });
    expect(deriveLabel('M', 50, -3.0, -1.9)).toEqual({ label: 0, rule: 'z-score' });
    expect(deriveLabel('M', 45, 0, -2.0)).toEqual({ label: 0, rule: 'z-score' });
    expect(deriveLabel('M', 45, 0, -2.01)).toEqual({ label: 1, rule: 'z-score' });
    expect(deriveLabel('M', null, -3, -3)).toEqual({ label: null, rule: 'missing' });
    expect(deriveLabel('F', 70, null, -3)).toEqual({ label: null, rule: 'missing' });
    const rows = parseLabels('id,sex,age,t_score,z_score,label\na,F,60,-2,,\nb,F,60,-2,,0\nc,M,30,,-2.5,\nd,M,,,,\n');
    expect(rows.map((r) => [r.id, r.label, r.rule])).toEqual([
      ['a', 1, 't-score'],
      ['b', 0, 'given'],
      ['c', 1, 'z-score'],
      ['d', null, 'missing'],
    ]);
    expect(labelCounts(rows)).toMatchObject({ total: 4, abnormal: 2, normal: 1, missing: 1 });
    expect(() => parseLabels('id,label\na,2\n')).toThrow(/label must be 0 or 1/);
  });

  it('the synthetic cohort (n = 160) derives to 86 abnormal / 74 normal through the rule', () => {
    const c = syntheticCohort();
    const derived = parseLabels(labelsCsv(c.labels));
    const counts = labelCounts(derived);
    expect(counts).toMatchObject({ total: 160, abnormal: 86, normal: 74, missing: 0 });
    expect(counts.byRule['z-score']).toBeGreaterThan(0);
    derived.forEach((r, i) => expect(r.label).toBe(c.labels[i]!.label));
  });
});

describe('ICC(2,1)', () => {
  it('matches Shrout & Fleiss (1979) Table 2 (ICC(2,1) = 0.29)', () => {
    const sf = [
      [9, 2, 5, 8],
      [6, 1, 3, 2],
      [8, 4, 6, 8],
      [7, 1, 2, 6],
      [10, 5, 6, 9],
      [6, 2, 4, 7],
    ];
    expect(icc21(sf)).toBeCloseTo(0.2898, 4);
    expect(icc21(sf.map((r) => [r[0]!, r[0]!]))).toBeCloseTo(1, 12);
  });
});

describe('training pipeline on the synthetic cohort', () => {
  const c = syntheticCohort({ seed: 3 });
  const labels = parseLabels(labelsCsv(c.labels));

  it('stratified 7:3 split keeps class proportions and is seeded', () => {
    const y = labels.map((l) => l.label as 0 | 1);
    const s = stratifiedSplit(y, 0.7, 42);
    const tr = y.filter((_, i) => s[i] === 'training');
    expect(tr.length).toBe(112);
    expect(tr.filter((v) => v === 1).length).toBe(60); // round(0.7 * 86)
    expect(stratifiedSplit(y, 0.7, 42)).toEqual(s);
    expect(stratifiedSplit(y, 0.7, 43)).not.toEqual(s);
  });

  it('fits a valid model: training z-scores, intercept = training prevalence, ICC filter removes unstable features, metrics per cohort/model', () => {
    const res = trainModel(c.features, labels, baseOpts({ reader2: c.reader2 }));
    const m = parseModel(JSON.parse(JSON.stringify(res.model))); // round-trips through the schema + hash
    expect(m.calibrated).toBe(true);
    expect(m.normalisation.source).toBe('training');
    expect(res.counts).toMatchObject({ abnormal: 86, normal: 74 });
    const trainIds = Object.entries(res.split).filter(([, v]) => v === 'training').map(([k]) => k);
    expect(trainIds).toHaveLength(112);
    const trainY = trainIds.map((id) => labels.find((l) => l.id === id)!.label!);
    expect(m.intercept).toBeCloseTo(mean(trainY), 12); // features centred on the training set
    for (const t of m.terms) {
      const j = c.features.columns.indexOf(`${t.sequence}_${t.feature}`);
      const v = trainIds.map((id) => c.features.values[c.features.ids.indexOf(id)]![j]!);
      expect(t.mean).toBeCloseTo(mean(v), 9);
      expect(t.sd).toBeCloseTo(sd(v), 9);
    }
    expect(res.filter.lowIcc.map((x) => x.column).sort()).toEqual(['T1', 'T2'].flatMap((q) => SYNTHETIC_UNSTABLE.map((f) => `${q}_${f}`)).sort());
    expect(res.filter.kept).toHaveLength(c.features.columns.length - 4);
    // cohorts and the contract's metric keys
    expect(res.cohorts.map((x) => x.name)).toEqual(['training', 'validation']);
    for (const co of res.cohorts)
      for (const k of ['combined', 't1', 't2'] as const) {
        const mm = co.metrics[k]!;
        for (const key of ['n', 'auc', 'auc_ci_lower', 'auc_ci_upper', 'cutoff', 'sensitivity', 'specificity', 'accuracy', 'hosmer_lemeshow_p'] as const)
          expect(Number.isFinite(mm[key]), `${co.name}.${k}.${key}`).toBe(true);
        expect(mm.auc_ci_lower).toBeLessThan(mm.auc);
        expect(mm.auc_ci_upper).toBeGreaterThan(mm.auc);
      }
    expect(res.cohorts[0]!.metrics.combined!.auc).toBeGreaterThan(0.7);
    expect(res.cohorts[1]!.metrics.combined!.n).toBe(48);
    expect(Object.keys(res.cohorts[1]!.delong).sort()).toEqual(['combined_vs_t1', 'combined_vs_t2', 't1_vs_t2']);
    // single-sequence models use one prefix each
    expect(m.singleSequence!.t1!.terms.every((t) => t.sequence === 'T1')).toBe(true);
    expect(m.singleSequence!.t2!.terms.every((t) => t.sequence === 'T2')).toBe(true);
    // the service scorer reproduces the training AUC from the written model
    const scores = trainIds.map((id) => {
      const r = scoreStudy(m, rowFeatures(c.features, c.features.ids.indexOf(id)));
      if (isNotAssessable(r)) throw new Error(r.notAssessable);
      return r.score;
    });
    expect(aucDelong(scores, trainY).auc).toBeCloseTo(res.cohorts[0]!.metrics.combined!.auc, 12);
    expect(m.cutoff).toBe(res.cohorts[0]!.metrics.combined!.cutoff);
  });

  it('--split none trains on all rows; a split column is honoured; fixed λ is used', () => {
    const all = trainModel(c.features, labels, baseOpts({ split: { kind: 'none' }, lambda: 0.05, nlambda: 30 }));
    expect(all.model.provenance.trainingN).toBe(160);
    expect(all.model.provenance.lambda).toBe(0.05);
    expect(all.cohorts.map((x) => x.name)).toEqual(['training']);
    const csv = labelsCsv(c.labels).trim().split('\n');
    const withSplit = [csv[0] + ',cohort', ...csv.slice(1).map((l, i) => `${l},${i < 100 ? 'training' : i < 130 ? 'validation' : 'external'}`)].join('\n');
    const res = trainModel(c.features, parseLabels(withSplit, 'l', 'cohort'), baseOpts({ split: { kind: 'column', column: 'cohort' }, nlambda: 30 }));
    expect(res.cohorts.map((x) => [x.name, x.n])).toEqual([
      ['training', 100],
      ['validation', 30],
      ['external', 30],
    ]);
  });

  it('is reproducible: the same seed gives the same split, terms and coefficients', () => {
    const a = trainModel(c.features, labels, baseOpts({ seed: 11, nlambda: 30 }));
    const b = trainModel(c.features, labels, baseOpts({ seed: 11, nlambda: 30 }));
    expect(b.split).toEqual(a.split);
    expect(b.model.terms).toEqual(a.model.terms);
    expect(b.model.cutoff).toBe(a.model.cutoff);
  });

  it('reports progress after every LASSO path; the default threshold (glmnet 1e-7) stays close to 1e-12', () => {
    const seen: string[] = [];
    const loose = trainModel(c.features, labels, baseOpts({ seed: 4, onProgress: (what, total) => seen.push(`${what} of ${total}`) }));
    // three models (combined, T1, T2) x (full path + 10 folds)
    expect(seen).toHaveLength(33);
    expect(seen.every((s) => s.endsWith(' of 33'))).toBe(true);
    expect(seen[0]).toMatch(/^combined \(\d+ columns\): full path/);
    expect(seen[32]).toMatch(/^t2 \(\d+ columns\): fold 10\/10/);
    expect(loose.model.provenance.notes).toContain('coordinate descent: thresh 1e-7');
    const tight = trainModel(c.features, labels, baseOpts({ seed: 4, thresh: 1e-12 }));
    expect(tight.fits.combined!.lambda).toBe(loose.fits.combined!.lambda);
    const coef = (m: typeof loose.model) => new Map(m.terms.map((t) => [`${t.sequence}_${t.feature}`, t.coefficient]));
    const a = coef(loose.model);
    const b = coef(tight.model);
    let worst = Math.abs(loose.model.intercept - tight.model.intercept);
    for (const k of new Set([...a.keys(), ...b.keys()])) worst = Math.max(worst, Math.abs((a.get(k) ?? 0) - (b.get(k) ?? 0)));
    process.stdout.write(`thresh 1e-7 vs 1e-12: ${a.size} vs ${b.size} terms, max |coefficient difference| ${worst.toExponential(2)}\n`);
    // The same terms, and about 100x the largest coefficient change measured on 2026-12-01 (6.98e-6, seed 4).
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect(worst).toBeLessThan(7e-4);
  });

  it('too large a λ selects nothing: a clear error', () => {
    expect(() => trainModel(c.features, labels, baseOpts({ lambda: 10 }))).toThrow(/selected no feature/);
  });
});

describe.skipIf(skipWithout(HAVE_R, 'Rscript with glmnet + pROC', 'Debian packages r-base-core r-cran-glmnet r-cran-proc'))('training pipeline against R (live Rscript)', () => {
  it('the trained model at λ = 0.13 equals glmnet on the same z-scored training matrix; validation AUC/CI and HL match pROC / the HL formula', () => {
    const c = syntheticCohort({ seed: 5, effect: 0.9 });
    const labels = parseLabels(labelsCsv(c.labels));
    const res = trainModel(c.features, labels, baseOpts({ lambda: 0.13, thresh: 1e-12 }));
    const m = res.model;
    const trainIds = Object.entries(res.split).filter(([, v]) => v === 'training').map(([k]) => k);
    const valIds = Object.entries(res.split).filter(([, v]) => v === 'validation').map(([k]) => k);
    const cols = res.fits.combined!.columns;
    const rowsOf = (ids: string[]) => ids.map((id) => c.features.values[c.features.ids.indexOf(id)]!);
    const colIdx = cols.map((col) => c.features.columns.indexOf(col));
    const Xtr = rowsOf(trainIds).map((r) => colIdx.map((j) => r[j]!));
    const ytr = trainIds.map((id) => labels.find((l) => l.id === id)!.label!);
    const yval = valIds.map((id) => labels.find((l) => l.id === id)!.label!);
    const val = res.cohorts.find((x) => x.name === 'validation')!;
    const valScores = valIds.map((id) => {
      const r = scoreStudy(m, rowFeatures(c.features, c.features.ids.indexOf(id)));
      if (isNotAssessable(r)) throw new Error('na');
      return r.score;
    });
    const valProb = valScores.map((s) => toProbability(s, m.probability));
    const r = runR(
      `Z <- scale(D$X)  # training mean and sample SD (n - 1)
       f <- glmnet(Z, D$y, lambda = 0.13, standardize = FALSE, thresh = 1e-12, maxit = 1e7)
       out("b", as.numeric(as.matrix(coef(f))))
       rv <- roc(D$yv, D$sv, direction = "<", levels = c(0, 1), quiet = TRUE)
       out("ci", ci.auc(rv, method = "delong"))
       qq <- unique(quantile(D$pv, probs = seq(0, 1, 0.1))); cy <- cut(D$pv, breaks = qq, include.lowest = TRUE)
       o <- xtabs(cbind(1 - D$yv, D$yv) ~ cy); e <- xtabs(cbind(1 - D$pv, D$pv) ~ cy)
       chisq <- sum((o - e)^2 / e); out("hl", c(chisq, 1 - pchisq(chisq, 8)))
       g <- glm(D$y ~ D$st, family = binomial, control = glm.control(epsilon = 1e-14)); out("glm", coef(g))`,
      { X: Xtr, y: ytr, yv: yval, sv: valScores, pv: valProb, st: res.cohorts[0]!.curves.radscores.combined ? trainIds.map((id) => {
        const s = scoreStudy(m, rowFeatures(c.features, c.features.ids.indexOf(id)));
        return isNotAssessable(s) ? NaN : s.score;
      }) : [] },
    );
    const mine = [m.intercept, ...cols.map((col) => m.terms.find((t) => `${t.sequence}_${t.feature}` === col)?.coefficient ?? 0)];
    const dCoef = maxAbsDiff(mine, r.b!);
    const vm = val.metrics.combined!;
    const dAuc = maxAbsDiff([vm.auc_ci_lower, vm.auc, vm.auc_ci_upper], r.ci!);
    const dHl = maxAbsDiff([vm.hosmer_lemeshow_statistic, vm.hosmer_lemeshow_p], r.hl!);
    const dGlm = maxAbsDiff([m.probability!.a, m.probability!.b], r.glm!);
    process.stdout.write(`train vs R: coef ${dCoef} (terms ${m.terms.length}), validation AUC/CI ${dAuc}, HL ${dHl}, recalibration glm ${dGlm}\n`);
    expect(m.terms.length).toBeGreaterThan(0);
    expect(dCoef).toBeLessThan(1e-5);
    expect(dAuc).toBeLessThan(1e-6);
    expect(dHl).toBeLessThan(1e-6);
    expect(dGlm).toBeLessThan(1e-6);
  });
});

