import type { LabelCounts } from './labels.js';
import { radiomicsSettingsOf } from './extraction.js';
import type { RadscoreModel } from './schema.js';
import { uncalibratedNotice } from './score.js';
import { HOSMER_LEMESHOW_METHOD, MODEL_KEYS, type CohortEvaluation, type ModelKey } from './evaluate.js';
import type { FeatureFilterLog, FittedModel } from './train.js';
import { color, escapeXml as esc, lineChart, stripChart, type Series } from './svg.js';

export interface ReportInput {
  title: string;
  kind: 'train' | 'evaluate';
  model: RadscoreModel;
  cohorts: CohortEvaluation[];
  fits?: Partial<Record<ModelKey, FittedModel>>;
  filter?: FeatureFilterLog;
  counts?: LabelCounts;
  dropped?: { noLabel: string[]; noFeatures: string[]; labelMissing: string[]; notAssessed?: string[] };
  warnings: string[];
  settings: Record<string, string>;
  generated: string;
}

const MODEL_LABEL: Record<ModelKey, string> = { combined: 'T1+T2 (combined)', t1: 'T1 only', t2: 'T2 only' };
const MODEL_COLOR: Record<ModelKey, string> = { combined: '#d62728', t1: '#1f77b4', t2: '#2ca02c' };
const f3 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));
const pval = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? '–' : p < 0.001 ? '&lt; 0.001' : p.toFixed(3));
const msd = (v: [number, number] | null, d = 1) => (v ? `${v[0].toFixed(d)} ± ${Number.isFinite(v[1]) ? v[1].toFixed(d) : '–'}` : '–');
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

function table(head: string[], rows: string[][], caption: string): string {
  return `<table><caption>${caption}</caption><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function table2(cohorts: CohortEvaluation[]): string {
  const head = ['Characteristic'];
  for (const c of cohorts) for (const g of c.characteristics) head.push(`${cap(c.name)}: ${g.group} (n = ${g.n})`);
  const row = (label: string, fn: (c: CohortEvaluation, g: CohortEvaluation['characteristics'][number]) => string) => [label, ...cohorts.flatMap((c) => c.characteristics.map((g) => fn(c, g)))];
  const rows = [
    row('Sex, female / male', (_, g) => `${g.female} / ${g.male}`),
    row('Age (years), mean ± SD', (_, g) => msd(g.age)),
    row('DXA T-score, mean ± SD', (_, g) => msd(g.tScore, 2)),
    row('DXA Z-score, mean ± SD', (_, g) => msd(g.zScore, 2)),
    row('Radscore (combined), median', (c, g) => f3(g.group === 'abnormal' ? c.metrics.combined?.radscore_abnormal_median : c.metrics.combined?.radscore_normal_median)),
  ];
  const mw = ['Radscore abnormal vs normal, Mann–Whitney P', ...cohorts.flatMap((c) => [pval(c.metrics.combined?.mann_whitney_p), ''])];
  return table(head, [...rows, mw], 'Table 2. Characteristics of the cohorts by bone-mass group (label: women and patients &gt; 50 y: T-score ≤ −1; others: Z-score &lt; −2)');
}

function table3(model: RadscoreModel, fits?: ReportInput['fits']): string {
  const rows = model.terms.map((t, i) => [String(i + 1), t.sequence, `<code>${esc(t.feature)}</code>`, t.coefficient.toFixed(4), t.mean.toPrecision(6), t.sd.toPrecision(6)]);
  rows.push(['', '', 'Intercept', model.intercept.toFixed(4), '', '']);
  const formula = `Radscore = ${model.intercept.toFixed(3)} ${model.terms.map((t) => `${t.coefficient < 0 ? '−' : '+'} ${Math.abs(t.coefficient).toFixed(3)} × z(${t.sequence} ${esc(t.feature)})`).join(' ')}`;
  const lam = fits?.combined ? ` Selected at λ = ${fits.combined.lambda.toPrecision(4)} (${esc(fits.combined.lambdaChoice)}).` : '';
  let html = table(['#', 'Sequence', 'Feature (PyRadiomics name)', 'Coefficient', `Mean (${model.normalisation.source})`, 'SD'], rows, `Table 3. Features of the combined radscore and their coefficients.${lam}`);
  html += `<p class="formula">${formula}; z(x) = (x − mean)/SD; flag = radscore &gt; ${model.cutoff.toFixed(3)}.</p>`;
  for (const k of ['t1', 't2'] as const) {
    const sub = model.singleSequence?.[k];
    if (!sub) continue;
    html += `<p class="formula"><b>${MODEL_LABEL[k]}</b>: ${sub.intercept.toFixed(3)} ${sub.terms.map((t) => `${t.coefficient < 0 ? '−' : '+'} ${Math.abs(t.coefficient).toFixed(3)} × z(${esc(t.feature)})`).join(' ')}; cut-off ${sub.cutoff.toFixed(3)}.</p>`;
  }
  return html;
}

function table5(cohorts: CohortEvaluation[]): string {
  const rows: string[][] = [];
  for (const k of MODEL_KEYS)
    for (const c of cohorts) {
      const m = c.metrics[k];
      if (!m) continue;
      rows.push([
        MODEL_LABEL[k],
        `${cap(c.name)} (${m.n})`,
        `${f3(m.auc)} (${f3(m.auc_ci_lower)}–${f3(m.auc_ci_upper)})`,
        `&gt; ${f3(m.cutoff)}`,
        f3(m.sensitivity),
        f3(m.specificity),
        f3(m.accuracy),
        `${f3(m.sensitivity_at_model_cutoff)} / ${f3(m.specificity_at_model_cutoff)} / ${f3(m.accuracy_at_model_cutoff)}`,
        pval(m.hosmer_lemeshow_p),
      ]);
    }
  return table(
    ['Model', 'Cohort (n)', 'AUC (95% CI, DeLong)', 'Cut-off (Youden)', 'Sensitivity', 'Specificity', 'Accuracy', 'Sens / spec / acc at model cut-off', 'Hosmer–Lemeshow P'],
    rows,
    'Table 5. Diagnostic performance of the radscores (positive = radscore &gt; cut-off)',
  );
}

function delongTable(cohorts: CohortEvaluation[]): string {
  const rows = cohorts.flatMap((c) =>
    Object.entries(c.delong).map(([k, t]) => [cap(c.name), k.replace('_vs_', ' vs ').replace('combined', 'T1+T2').replace('t1', 'T1').replace('t2', 'T2'), `${f3(t.auc1)} vs ${f3(t.auc2)}`, t.z.toFixed(3), pval(t.p), String(t.n)]),
  );
  return rows.length ? table(['Cohort', 'Comparison', 'AUC', 'Z', 'P (DeLong, paired)', 'n'], rows, 'Table 4. Comparison of the ROC curves (DeLong test)') : '';
}

function coefPathSvg(fit: FittedModel): string {
  const x = fit.path.lambda.map((l) => Math.log(l));
  const chosen = new Set(fit.model.terms.map((t) => `${t.sequence}_${t.feature}`));
  const series: Series[] = [];
  let ci = 0;
  fit.columns.forEach((c, j) => {
    const y = fit.path.beta.map((b) => b[j]!);
    if (y.every((v) => v === 0)) return;
    if (chosen.has(c)) series.push({ x, y, color: color(ci++), label: c.length > 40 ? c.slice(0, 39) + '…' : c, width: 1.8 });
    else series.unshift({ x, y, color: '#bbb', width: 0.8 });
  });
  return lineChart({
    title: 'LASSO coefficient path (combined model)',
    xlabel: 'log(λ)',
    ylabel: 'coefficient of z-scored feature',
    series: series.length > 60 ? [...series.filter((s) => s.label), ...series.filter((s) => !s.label).slice(0, 60)] : series,
    vlines: [{ x: Math.log(fit.lambda), label: `λ = ${fit.lambda.toPrecision(3)}`, color: '#000' }],
    width: 700,
    height: 420,
    legend: series.filter((s) => s.label).length <= 14,
  });
}

function cvSvg(fit: FittedModel, title: string): string {
  const x = fit.cv.lambda.map((l) => Math.log(l));
  return lineChart({
    title,
    xlabel: 'log(λ)',
    ylabel: fit.cv.measure === 'mse' ? 'mean squared error (10-fold CV)' : 'binomial deviance (CV)',
    series: [{ x, y: fit.cv.cvm, errors: fit.cv.cvsd, color: '#d62728', points: true }],
    vlines: [
      { x: Math.log(fit.cv.lambdaMin), label: 'λ.min', color: '#1f77b4' },
      { x: Math.log(fit.cv.lambda1se), label: 'λ.1se', color: '#2ca02c' },
    ],
  });
}

function rocSvg(c: CohortEvaluation): string {
  const series: Series[] = [];
  for (const k of MODEL_KEYS) {
    const r = c.curves.roc[k];
    if (!r) continue;
    const order = r.fpr.map((_, i) => i).reverse();
    series.push({ x: order.map((i) => r.fpr[i]!), y: order.map((i) => r.tpr[i]!), color: MODEL_COLOR[k], label: `${MODEL_LABEL[k]} AUC ${r.auc.toFixed(3)}` });
  }
  return lineChart({ title: `ROC — ${c.name} (n = ${c.n})`, xlabel: '1 − specificity', ylabel: 'sensitivity', series, xDomain: [0, 1], yDomain: [0, 1], diagonal: true, width: 420, height: 400 });
}

function calibrationSvg(c: CohortEvaluation): string {
  const series: Series[] = [];
  for (const k of MODEL_KEYS) {
    const g = c.curves.calibration[k];
    if (!g) continue;
    series.push({ x: g.map((v) => v.meanPredicted), y: g.map((v) => v.observedRate), color: MODEL_COLOR[k], points: true, label: `${MODEL_LABEL[k]} (HL P ${pval(c.metrics[k]?.hosmer_lemeshow_p).replace('&lt;', '<')})` });
  }
  return lineChart({ title: `Calibration — ${c.name}`, xlabel: 'predicted probability (decile groups)', ylabel: 'observed fraction abnormal', series, xDomain: [0, 1], yDomain: [0, 1], diagonal: true, width: 420, height: 400 });
}

function dcaSvg(c: CohortEvaluation): string {
  const d = c.curves.dca;
  if (!d) return '';
  const series: Series[] = [
    { x: d.thresholds, y: d.treatAll, color: '#777', label: 'treat all' },
    { x: d.thresholds, y: d.treatNone, color: '#000', dash: true, label: 'treat none' },
  ];
  for (const k of MODEL_KEYS) if (d.models[k]) series.push({ x: d.thresholds, y: d.models[k]!, color: MODEL_COLOR[k], label: MODEL_LABEL[k] });
  const prev = d.treatAll[0]! + 0.05;
  return lineChart({ title: `Decision curve — ${c.name}`, xlabel: 'threshold probability', ylabel: 'net benefit', series, xDomain: [0, 1], yDomain: [-0.05, Math.max(0.1, prev)], width: 480, height: 380, legendPosition: 'top' });
}

export function renderReport(r: ReportInput): string {
  const m = r.model;
  const notice = m.calibrated ? '' : `<div class="warn">${esc(uncalibratedNotice(m))}</div>`;
  const sections: string[] = [];
  sections.push(`<h1>${esc(r.title)}</h1>
<p class="meta">Generated ${esc(r.generated)} · model <b>${esc(m.name)}</b> ${esc(m.version)} · <code>${esc(m.hash)}</code> · normalisation: ${esc(m.normalisation.source)} · ${m.calibrated ? 'calibrated' : '<b>UNCALIBRATED</b>'}</p>
<p class="disclaimer">Research report. UNVERIFIED — screening support, not a diagnosis.</p>${notice}`);
  sections.push(table(['Setting', 'Value'], Object.entries(r.settings).map(([k, v]) => [esc(k), esc(v)]), 'Settings'));
  if (r.counts) {
    const c = r.counts;
    let html = `<h2>Data</h2><p>${c.total} labelled studies with features: <b>${c.abnormal} abnormal</b> / <b>${c.normal} normal</b>. Label source: ${c.byRule['t-score']} by T-score (women and patients &gt; 50 y, ≤ −1 → abnormal), ${c.byRule['z-score']} by Z-score (men ≤ 50 y, &lt; −2 → abnormal), ${c.byRule.given} given in the label column.</p>`;
    if (r.dropped) html += `<p>Excluded: ${r.dropped.noLabel.length} feature rows without a labels row, ${r.dropped.labelMissing.length} with a label that cannot be derived (missing sex/age/score), ${r.dropped.noFeatures.length} labels rows without features, ${r.dropped.notAssessed?.length ?? 0} studies not assessable (no features).</p>`;
    html += `<p>Cohorts: ${r.cohorts.map((co) => `${co.name} ${co.n} (${co.characteristics[0]!.n} abnormal / ${co.characteristics[1]!.n} normal)`).join('; ')}.</p>`;
    sections.push(html);
  }
  if (r.filter) {
    const f = r.filter;
    sections.push(`<h2>Feature selection</h2><p>${f.candidates} candidate features; removed ${f.missingInTraining.length} with missing values in the training cohort, ${f.zeroVariance.length} constant;
${f.iccThreshold !== null ? `reproducibility: ICC(2,1) (two-way random, absolute agreement, single rater) between reader 1 and reader 2 on ${f.iccN} studies, kept ICC &gt; ${f.iccThreshold}: removed ${f.lowIcc.length} (+${f.notInReader2.length} absent from the reader-2 table);` : 'no reproducibility filter (no --reader2 table);'}
<b>${f.kept.length}</b> features entered the LASSO. Features were Z-scored with the training mean and sample SD (n − 1); LASSO objective ${r.fits?.combined?.cv.measure === 'deviance' ? '−(1/n)·log-likelihood + λ‖β‖₁ (logistic option; glmnet binomial, standardize = FALSE; the radscore is then the linear predictor, on the log-odds scale)' : '(1/2n)·RSS + λ‖β‖₁ on the 0/1 label (glmnet gaussian, standardize = FALSE)'}, intercept unpenalised, ${r.fits?.combined?.cv.nfolds ?? 10}-fold stratified CV over the λ path.</p>`);
  }
  if (r.cohorts.length) sections.push(`<h2>Cohorts</h2>${table2(r.cohorts)}`);
  sections.push(`<h2>Radscore</h2>${table3(m, r.fits)}`);
  if (r.fits?.combined) sections.push(`<div class="figs">${coefPathSvg(r.fits.combined)}${cvSvg(r.fits.combined, 'Cross-validation (combined model)')}</div>`);
  if (r.fits && (r.fits.t1 || r.fits.t2))
    sections.push(`<div class="figs">${r.fits.t1 ? cvSvg(r.fits.t1, 'Cross-validation (T1 only)') : ''}${r.fits.t2 ? cvSvg(r.fits.t2, 'Cross-validation (T2 only)') : ''}</div>`);
  if (r.cohorts.length) {
    sections.push(`<h2>Performance</h2>${table5(r.cohorts)}${delongTable(r.cohorts)}
<p class="note">AUC with DeLong 95% CI (direction fixed: higher radscore = abnormal); cut-off = Youden index maximum in each cohort (midpoints between observed scores, as pROC); “at model cut-off” applies the model's own cut-off (${m.cutoff.toFixed(3)}), which the service uses.
${esc(HOSMER_LEMESHOW_METHOD)} Decision curves use the same probabilities: net benefit = TP/n − FP/n · pt/(1 − pt).</p>`);
    for (const c of r.cohorts) {
      const strips = MODEL_KEYS.filter((k) => c.curves.radscores[k]).map((k) =>
        stripChart(`Radscore by group — ${c.name}, ${MODEL_LABEL[k]} (MW P ${pval(c.metrics[k]?.mann_whitney_p).replace('&lt;', '<')})`, [
          { label: 'abnormal', values: c.curves.radscores[k]!.abnormal, color: '#d62728' },
          { label: 'normal', values: c.curves.radscores[k]!.normal, color: '#1f77b4' },
        ], c.metrics[k]?.model_cutoff),
      );
      sections.push(`<h3>${cap(c.name)} cohort (n = ${c.n}${c.notAssessable.length ? `, ${c.notAssessable.length} not assessable` : ''})</h3><div class="figs">${rocSvg(c)}${calibrationSvg(c)}${dcaSvg(c)}${strips[0] ?? ''}</div>`);
    }
  }
  if (r.warnings.length) sections.push(`<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  sections.push(`<h2>Model file</h2><p>Extraction settings travel with the model: bin width ${radiomicsSettingsOf(m).setting.binWidth}, image types ${Object.keys(m.extraction.imageTypes).join(', ')}, ROI: ${esc(m.extraction.roi.description)}</p>`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title>
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}h3{font-size:15px}
table{border-collapse:collapse;margin:12px 0;font-size:13px}caption{text-align:left;font-weight:bold;padding:4px 0}
th,td{border-top:1px solid #999;border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #444;background:#f5f5f5}
.warn{background:#fff3cd;border:1px solid #e0b000;padding:8px 12px;margin:10px 0;font-weight:bold}
.meta{color:#555}.disclaimer{color:#a00}.formula{font-size:13px;background:#f8f8f8;padding:6px 10px}
.note{font-size:12px;color:#444}.figs{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
code{font-size:12px}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}
