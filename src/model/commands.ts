import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../common/command.js';
import { OsteoError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { calibrateModel } from './calibrate.js';
import { refitCutoff } from './recalibrate.js';
import { DEFAULT_EXTRACTION } from './defaults.js';
import { evaluateCohort, modelsOf } from './evaluate.js';
import { labelCounts, readLabels } from './labels.js';
import { loadModel, parseModel, saveModel } from './load.js';
import { metricsJson } from './metrics.js';
import { renderReport } from './report.js';
import { extractionSchema, type Extraction } from './schema.js';
import { DEFAULT_MAX_ABS_Z, isNotAssessable, scoreStudy, uncalibratedNotice } from './score.js';
import { formatCsv } from '../common/csv.js';
import { readFeatureTable, rowFeatures } from './table.js';
import { DEFAULT_THRESH, joinCohort, sha256File, trainModel, type SplitSpec } from './train.js';
import { Progress } from '../common/progress.js';

const log = logger('model');

function software(): string {
  try {
    return `osteoscreen ${createRequire(import.meta.url)('../../package.json').version}`;
  } catch {
    return 'osteoscreen';
  }
}

function writeJson(path: string, v: unknown): void {
  writeFileSync(path, JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n');
}

export const scoreCommand: Command = {
  name: 'score',
  summary: 'score a features CSV with a radscore model',
  help: `Usage: osteoscreen score --model M.json --features F.csv [--out scores.csv] [--require-calibrated] [--terms]

Scores every row of a feature table (an "id" column and T1_/T2_ feature columns) with a radscore model:
radscore = intercept + sum coefficient * (value - mean) / sd over the model's terms; flag = radscore > cut-off.
A row missing any term is "not assessable" (with the reason), never scored partially.

Options:
  --model M.json          radscore model (e.g. models/paper-t1t2.json)
  --features F.csv        feature table
  --out scores.csv        write the scores here (default: stdout)
  --require-calibrated    as config model.requireCalibrated: no flag from an uncalibrated model
  --max-abs-z N           out-of-range guard as config model.maxAbsZ (default 4): a term with |z| > N, or
                          outside the model's recorded calibration range + 1 SD, gives no flag ("suppressed",
                          the reason names the term and its z)
  --terms                 add each term's z-score and contribution (z_<T1|T2>_<feature>, c_<...>)

Output columns: id, assessable, radscore, cutoff, flag, calibrated, reason, model, model_hash.`,
  async run(argv) {
    const { values } = parseOptions(argv, { model: { type: 'string' }, features: { type: 'string' }, out: { type: 'string' }, 'require-calibrated': { type: 'boolean' }, terms: { type: 'boolean' }, 'max-abs-z': { type: 'string' } });
    const maxAbsZ = numberOption(values['max-abs-z'], '--max-abs-z', DEFAULT_MAX_ABS_Z);
    const model = loadModel(requireOption(values.model, '--model'));
    const table = readFeatureTable(requireOption(values.features, '--features'));
    const rows: (string | number | boolean | null)[][] = [];
    let na = 0;
    table.ids.forEach((id, r) => {
      const s = scoreStudy(model, rowFeatures(table, r), { requireCalibrated: values['require-calibrated'], maxAbsZ });
      const detail = (v: (t: { z: number; contribution: number }) => number[]) =>
        values.terms ? (isNotAssessable(s) ? model.terms.flatMap(() => [null, null]) : s.terms.flatMap(v)) : [];
      if (isNotAssessable(s)) {
        na++;
        rows.push([id, false, null, model.cutoff, null, model.calibrated, s.notAssessable, model.name, model.hash, ...detail(() => [])]);
      } else {
        rows.push([id, true, s.score, s.cutoff, s.flag === null ? 'suppressed' : s.flag, s.calibrated, s.flagSuppressed ?? '', model.name, model.hash, ...detail((t) => [t.z, t.contribution])]);
      }
    });
    const termCols = values.terms ? model.terms.flatMap((t) => [`z_${t.sequence}_${t.feature}`, `c_${t.sequence}_${t.feature}`]) : [];
    const csv = formatCsv(['id', 'assessable', 'radscore', 'cutoff', 'flag', 'calibrated', 'reason', 'model', 'model_hash', ...termCols], rows);
    if (values.out) writeFileSync(values.out, csv);
    else process.stdout.write(csv);
    if (!model.calibrated) process.stderr.write(`WARNING: ${uncalibratedNotice(model)}\n`);
    process.stderr.write(`scored ${table.ids.length - na} of ${table.ids.length} studies (${na} not assessable)\n`);
    return 0;
  },
};

function parseSplit(v: string | undefined, fraction: number): SplitSpec {
  if (v === undefined || v === 'random') return { kind: 'random', fraction };
  if (v === 'none') return { kind: 'none' };
  return { kind: 'column', column: v };
}

function readExtraction(path: string | undefined): Extraction {
  if (!path) return DEFAULT_EXTRACTION;
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const r = extractionSchema.safeParse('extraction' in json ? json.extraction : json);
  if (!r.success) throw new UsageError(`--extraction ${path}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'fit a LASSO radscore model with the reference study statistics',
  help: `Usage: osteoscreen train --features F.csv --labels L.csv --out model.json --report DIR [options]

Fits the radscore as the reference study did: reproducibility filter (ICC), stratified 7:3 split,
Z-score on the training set, LASSO with 10-fold CV, combined T1+T2 and single-sequence T1/T2 models, then
ROC/AUC (DeLong CI), Youden cut-off, DeLong tests, Hosmer-Lemeshow, calibration and decision curves,
Mann-Whitney, for training/validation (and external rows, with --split COLUMN).

Inputs:
  --features F.csv      one row per study: "id" + feature columns prefixed T1_ / T2_
  --labels L.csv        id, sex (F/M), age, t_score, z_score [, label 0/1 (wins)] [, split column]
                        label: women and patients > 50 y: T-score <= -1 -> abnormal; others: Z-score < -2
Outputs:
  --out model.json      the model in the format the service loads
  --report DIR          DIR/report.html (self-contained, SVG plots) and DIR/metrics.json
Options:
  --seed S              seed for split and CV folds (default 42)
  --split random|none|COLUMN
                        random: stratified split (default); none: train on all rows;
                        COLUMN: a labels column with training/validation/external per row
  --train-fraction F    training share of the random split (default 0.7)
  --reader2 F2.csv      second reader's (or perturbed-ROI) feature table: keep ICC(2,1) > --icc
  --icc X               ICC threshold (default 0.75)
  --lambda X            fixed lambda (the reference study used 0.13); default: chosen by CV
  --lambda-rule min|1se CV rule when --lambda is not given (default min)
  --family gaussian|binomial
                        least-squares LASSO on the 0/1 label (default, as the study) or logistic
  --folds K             CV folds (default 10)
  --thresh X            coordinate-descent convergence threshold (default 1e-7, glmnet's default; 1e-12
                        to compare with glmnet(thresh = 1e-12): slower, minutes on ~3000 columns)
  --name NAME --version X.Y.Z --description TEXT
  --extraction FILE     JSON with the extraction settings the features were made with (or a model file);
                        default: the product defaults (same as models/paper-t1t2.json)`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      features: { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      seed: { type: 'string' },
      split: { type: 'string' },
      'train-fraction': { type: 'string' },
      reader2: { type: 'string' },
      icc: { type: 'string' },
      lambda: { type: 'string' },
      'lambda-rule': { type: 'string' },
      family: { type: 'string' },
      folds: { type: 'string' },
      thresh: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      description: { type: 'string' },
      extraction: { type: 'string' },
    });
    const featuresPath = requireOption(values.features, '--features');
    const labelsPath = requireOption(values.labels, '--labels');
    const outPath = requireOption(values.out, '--out');
    const reportDir = requireOption(values.report, '--report');
    const seed = Math.trunc(numberOption(values.seed, '--seed', 42));
    const fraction = numberOption(values['train-fraction'], '--train-fraction', 0.7);
    if (!(fraction > 0 && fraction < 1)) throw new UsageError('--train-fraction must be between 0 and 1');
    const split = parseSplit(values.split, fraction);
    const rule = values['lambda-rule'] ?? 'min';
    if (rule !== 'min' && rule !== '1se') throw new UsageError('--lambda-rule must be min or 1se');
    const family = values.family ?? 'gaussian';
    if (family !== 'gaussian' && family !== 'binomial') throw new UsageError('--family must be gaussian or binomial');
    const lambda = values.lambda !== undefined ? numberOption(values.lambda, '--lambda', 0) : undefined;
    if (lambda !== undefined && !(lambda > 0)) throw new UsageError('--lambda must be > 0');
    const nfolds = Math.trunc(numberOption(values.folds, '--folds', 10));
    if (nfolds < 3) throw new UsageError('--folds must be at least 3');
    const thresh = numberOption(values.thresh, '--thresh', DEFAULT_THRESH);
    if (!(thresh > 0 && thresh < 1)) throw new UsageError('--thresh must be between 0 and 1 (e.g. 1e-7)');
    const features = readFeatureTable(featuresPath);
    const labels = readLabels(labelsPath, split.kind === 'column' ? split.column : undefined);
    const reader2 = values.reader2 ? readFeatureTable(values.reader2) : undefined;
    const iccThreshold = numberOption(values.icc, '--icc', 0.75);
    const settings = {
      features: basename(featuresPath),
      labels: basename(labelsPath),
      reader2: values.reader2 ? basename(values.reader2) : '(none)',
      seed: String(seed),
      split: split.kind === 'random' ? `stratified random, training fraction ${fraction}` : split.kind === 'none' ? 'none' : `column "${split.column}"`,
      lambda: lambda !== undefined ? `${lambda} (fixed)` : `CV, lambda.${rule}`,
      family,
      folds: String(nfolds),
      thresh: String(thresh),
      icc: reader2 ? `ICC(2,1) > ${iccThreshold}` : 'off',
    };
    log.info('training', { features: features.ids.length, columns: features.columns.length, seed });
    let progress: Progress | undefined;
    const res = trainModel(features, labels, {
      thresh,
      onProgress: (what, total) => (progress ??= new Progress('train: LASSO fits', total)).tick(what),
      seed,
      split,
      lambda,
      lambdaRule: rule,
      family,
      nfolds,
      nlambda: 100,
      iccThreshold,
      reader2,
      name: values.name ?? 'site-radscore',
      version: values.version ?? '1.0.0',
      description: values.description,
      extraction: readExtraction(values.extraction),
      software: software(),
      featuresHash: sha256File(readFileSync(featuresPath)),
    });
    saveModel(outPath, res.model);
    mkdirSync(reportDir, { recursive: true });
    writeJson(join(reportDir, 'metrics.json'), metricsJson(res.model, res.cohorts, { counts: res.counts, train: res, settings }));
    writeFileSync(
      join(reportDir, 'report.html'),
      renderReport({ title: `Radscore training report — ${res.model.name} ${res.model.version}`, kind: 'train', model: res.model, cohorts: res.cohorts, fits: res.fits, filter: res.filter, counts: res.counts, dropped: res.dropped, warnings: res.warnings, settings, generated: new Date().toISOString() }),
    );
    const c = res.counts;
    process.stderr.write(`labels: ${c.total} studies, ${c.abnormal} abnormal / ${c.normal} normal (T-score rule ${c.byRule['t-score']}, Z-score rule ${c.byRule['z-score']}, given ${c.byRule.given})\n`);
    for (const co of res.cohorts) {
      const m = co.metrics.combined;
      if (m) process.stderr.write(`${co.name}: n=${m.n} AUC ${m.auc.toFixed(3)} (${m.auc_ci_lower.toFixed(3)}-${m.auc_ci_upper.toFixed(3)}) cut-off > ${m.cutoff.toFixed(3)} sens ${m.sensitivity.toFixed(3)} spec ${m.specificity.toFixed(3)}\n`);
    }
    process.stderr.write(`model: ${res.model.terms.length} terms, lambda ${res.fits.combined!.lambda.toPrecision(4)} -> ${resolve(outPath)}\nreport: ${resolve(reportDir, 'report.html')}\n`);
    for (const w of res.warnings) process.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'evaluate a model on a labelled feature table',
  help: `Usage: osteoscreen evaluate --model M.json --features F.csv --labels L.csv --out metrics.json [--report DIR] [--cohort NAME]

Evaluates the model (and its single-sequence T1/T2 models, when the file carries them) on a labelled
cohort: ROC/AUC with DeLong 95% CI, Youden cut-off with sensitivity/specificity/accuracy, performance at the
model's cut-off, DeLong paired tests, Hosmer-Lemeshow, Mann-Whitney, calibration and decision curves.

Options:
  --cohort NAME   key of the cohort in metrics.json (default external)
  --report DIR    also write DIR/report.html (self-contained)`,
  async run(argv) {
    const { values } = parseOptions(argv, { model: { type: 'string' }, features: { type: 'string' }, labels: { type: 'string' }, out: { type: 'string' }, report: { type: 'string' }, cohort: { type: 'string' } });
    const model = loadModel(requireOption(values.model, '--model'));
    const featuresPath = requireOption(values.features, '--features');
    const features = readFeatureTable(featuresPath);
    const labels = readLabels(requireOption(values.labels, '--labels'));
    const outPath = requireOption(values.out, '--out');
    const cohort = values.cohort ?? 'external';
    const { ids, byId, dropped } = joinCohort(features, labels);
    if (!ids.length) throw new OsteoError('evaluate-empty', 'no study has both features and a label');
    const ev = evaluateCohort(cohort, modelsOf(model), features, byId, ids);
    const counts = labelCounts(ids.map((id) => byId.get(id)!));
    const settings = { model: basename(values.model!), features: basename(featuresPath), labels: basename(values.labels!), cohort };
    writeJson(outPath, metricsJson(model, [ev], { counts, settings }));
    if (values.report) {
      mkdirSync(values.report, { recursive: true });
      writeFileSync(
        join(values.report, 'report.html'),
        renderReport({ title: `Radscore evaluation — ${model.name} ${model.version} on ${cohort}`, kind: 'evaluate', model, cohorts: [ev], counts, dropped, warnings: ev.notAssessable.map((n) => `${n.id}: not assessable (${n.reason})`), settings, generated: new Date().toISOString() }),
      );
    }
    const m = ev.metrics.combined;
    if (m) process.stderr.write(`${cohort}: n=${m.n} AUC ${m.auc.toFixed(3)} (${m.auc_ci_lower.toFixed(3)}-${m.auc_ci_upper.toFixed(3)}) Youden cut-off > ${m.cutoff.toFixed(3)}; at model cut-off ${model.cutoff}: sens ${m.sensitivity_at_model_cutoff.toFixed(3)} spec ${m.specificity_at_model_cutoff.toFixed(3)}\n`);
    else process.stderr.write(`${cohort}: not enough assessable studies of both classes for ROC analysis\n`);
    if (ev.notAssessable.length) process.stderr.write(`${ev.notAssessable.length} studies not assessable (missing model terms)\n`);
    return 0;
  },
};

export const calibrateCommand: Command = {
  name: 'calibrate',
  summary: 'learn site feature means/SDs (and cut-off) for a model',
  help: `Usage: osteoscreen calibrate --model M.json --features F.csv [--labels L.csv] --out M2.json [options]

Keeps the coefficients and intercept; learns each term's mean and sample SD from the site's feature table
and, with labels, a Youden cut-off (and the logistic probability map used for Hosmer-Lemeshow/DCA).
Marks the model calibrated: true with provenance (normalisation.source = calibration).

Options:
  --placeholder      fill means/SDs from a non-site cohort (e.g. phantoms) but keep calibrated: false
                     (normalisation.source = placeholder)
  --robust           median and MAD x 1.4826 instead of mean and SD (robust to a few wild studies; the
                     statistics of the service's per-scanner calibration proposals, which this reproduces
                     on the proposal's features CSV: GET /api/calibration/<id>/features.csv)
  --scanner KEY      record the scanner key the calibration is for (normalisation.scanner)
  --date ISO         date of the calibration (default now); with the proposal's date, name, version,
                     scanner and features CSV file name the model (and its hash) equals the proposal's
  --name NAME        new model name;  --version X.Y.Z  new version
  --rehash           only re-compute the content hash of a hand-edited model (no --features needed)
  --cutoff-only      with --labels: keep the model's normalisation (means/SDs); only re-fit the cut-off on the
                     labelled rows (and the logistic probability map): the service's labelled proposal
                     (GET /api/performance/proposals), reproduced from its features.csv and labels.csv with its
                     --date, --name, --version, --scanner and --method
  --method youden|sensitivity   how --cutoff-only chooses the cut-off (default youden)
  --target-sensitivity X        with --method sensitivity: the highest cut-off keeping sensitivity >= X`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      model: { type: 'string' },
      features: { type: 'string' },
      labels: { type: 'string' },
      out: { type: 'string' },
      placeholder: { type: 'boolean' },
      name: { type: 'string' },
      version: { type: 'string' },
      rehash: { type: 'boolean' },
      robust: { type: 'boolean' },
      scanner: { type: 'string' },
      date: { type: 'string' },
      'cutoff-only': { type: 'boolean' },
      method: { type: 'string' },
      'target-sensitivity': { type: 'string' },
    });
    const modelPath = requireOption(values.model, '--model');
    const outPath = requireOption(values.out, '--out');
    if (values.rehash) {
      const m = parseModel(JSON.parse(readFileSync(modelPath, 'utf8')), modelPath, { verifyHash: false });
      const saved = saveModel(outPath, m);
      process.stderr.write(`re-hashed ${modelPath}: ${saved.hash}\n`);
      return 0;
    }
    const model = loadModel(modelPath);
    const featuresPath = requireOption(values.features, '--features');
    const features = readFeatureTable(featuresPath);
    const labels = values.labels ? readLabels(values.labels) : undefined;
    if (values['cutoff-only']) {
      if (!labels || !values.labels) throw new UsageError('--cutoff-only needs --labels');
      const method = values.method ?? 'youden';
      if (method !== 'youden' && method !== 'sensitivity') throw new UsageError('--method must be youden or sensitivity');
      const r = refitCutoff(model, features, labels, {
        method,
        targetSensitivity: values['target-sensitivity'] === undefined ? undefined : numberOption(values['target-sensitivity'], '--target-sensitivity', 0),
        date: values.date ?? new Date().toISOString(),
        name: values.name,
        version: values.version,
        scanner: values.scanner,
        featuresName: basename(featuresPath),
        labelsName: basename(values.labels),
        labelsHash: sha256File(readFileSync(values.labels)),
      });
      const saved = saveModel(outPath, r.model);
      process.stderr.write(`cut-off ${r.before} -> ${r.after} on ${r.n} labelled studies (${r.nAbnormal} abnormal / ${r.nNormal} normal), normalisation kept -> ${resolve(outPath)} ${saved.hash}\n`);
      return 0;
    }
    const res = calibrateModel(model, features, labels, {
      placeholder: values.placeholder,
      featuresName: basename(featuresPath),
      featuresHash: sha256File(readFileSync(featuresPath)),
      name: values.name,
      version: values.version,
      statistics: values.robust ? 'median-mad' : 'mean-sd',
      scanner: values.scanner,
      date: values.date,
    });
    const saved = saveModel(outPath, res.model);
    process.stderr.write(`${values.placeholder ? 'placeholder means/SDs from' : 'calibrated on'} ${res.n} studies (${res.excluded.length} excluded for missing terms) -> ${resolve(outPath)} ${saved.hash}\n`);
    if (res.cutoff) process.stderr.write(`cut-off: ${res.cutoff.before} -> ${res.cutoff.after.toFixed(4)} (Youden on ${res.cutoff.n} labelled studies: sens ${res.cutoff.sensitivity.toFixed(3)} spec ${res.cutoff.specificity.toFixed(3)})\n`);
    for (const w of res.warnings) process.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

// Placeholder until the lead's cohort command lands (it runs the whole pipeline over a folder of studies).
export const cohortCommand: Command = {
  name: 'cohort',
  summary: 'cohort',
  help: 'Usage: osteoscreen cohort [options]\n\n(not implemented yet)',
  async run() {
    process.stderr.write('osteoscreen cohort: not implemented yet\n');
    return 3;
  },
};
