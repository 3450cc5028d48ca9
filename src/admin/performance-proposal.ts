/**
 * The labelled re-calibration proposal of a scanner: once it has config outcomes.minLabelled labelled studies with at
 * least outcomes.minPerClass per class, the cut-off of its active model (its approved calibration, else the default)
 * is re-fitted on them (Youden, or the highest cut-off keeping outcomes.targetSensitivity) with the logistic
 * probability map, normalisation kept: src/model/recalibrate.ts, the code of `osteoscreen calibrate --labels
 * --cutoff-only`, on the very CSV files the API offers (features.csv, labels.csv), so the research path reproduces the
 * model file byte for byte. Scores are recomputed from each study's recorded term values with the active model.
 * An admin approves it through the calibration approval flow (store.calibration.approve: a new model version and
 * hash, hence new output series; audit-logged by the route); an approval is refused when the proposal's hash is not
 * the one reviewed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { OsteoError } from '../common/errors.js';
import { formatCsv } from '../common/csv.js';
import { formatFeatureTable, loadModel, parseLabels, saveModel, type RadscoreModel } from '../model/index.js';
import { refitCutoff, cutoffRuleText } from '../model/recalibrate.js';
import { aucDelong } from '../model/stats/roc.js';
import { confusionAt, type Proportion } from '../model/stats/proportion.js';
import { activeCalibration, scannerFeatureTable, scannerId } from './calibration.js';
import { currentMatches, labelledPairs, type PerformanceDeps } from './performance.js';

const sha = (text: string) => 'sha256:' + createHash('sha256').update(text).digest('hex');
const LABELLED_KIND = 'labelled-cutoff';

function activeModel(deps: PerformanceDeps, scanner: string): RadscoreModel {
  const a = activeCalibration(deps.store, scanner);
  if (a?.modelFile) {
    const m = loadModel(a.modelFile);
    if (m.hash !== a.modelHash) throw new OsteoError('model-hash-mismatch', `calibrated model ${a.modelFile} has hash ${m.hash}, approved was ${a.modelHash}`);
    return m;
  }
  if (!deps.model) throw new OsteoError('model-unavailable', 'the default radscore model is not loaded', 503);
  return deps.model;
}

/** Version of a labelled re-calibration: the active version (without an earlier ".l<n>") + ".l<labelled>". */
export function labelledVersion(base: string, scanner: string, n: number): string {
  const core = base.replace(/\.l\d+$/, '');
  return core.includes('-') ? `${core}.l${n}` : `${core}-site.s${scannerId(scanner).slice(3, 9)}.l${n}`;
}

/** The labelled studies of a scanner (those whose term values are recorded), as the proposal's two CSV files. */
export function labelledInputs(deps: PerformanceDeps, scanner: string, model: RadscoreModel) {
  const pairs = labelledPairs(currentMatches(deps.config, deps.store)).filter((p) => p.study.scanner === scanner);
  const table = scannerFeatureTable(deps.store, scanner, model);
  const recorded = new Set(table.ids);
  const used = pairs.filter((p) => recorded.has(`job-${p.study.jobId}`)).sort((a, b) => a.study.jobId - b.study.jobId);
  const id = scannerId(scanner);
  const featuresText = formatFeatureTable(table);
  const labelsText = formatCsv(
    ['id', 'sex', 'age', 't_score', 'z_score', 'label'],
    used.map((p) => [`job-${p.study.jobId}`, p.outcome.sex, p.outcome.age, p.outcome.tScore, p.outcome.zScore, p.label]),
  );
  // The newest MRI or DXA date among the labelled studies: the same data give the same model, hash included.
  const newest = used.reduce((m, p) => [m, p.study.studyDate ?? '', p.outcome.dxaDate].sort().pop()!, '');
  return {
    table,
    pairs: used,
    nAbnormal: used.filter((p) => p.label === 1).length,
    nNormal: used.filter((p) => p.label === 0).length,
    features: { name: `labelled-${id}-features-n${table.ids.length}.csv`, text: featuresText, hash: sha(featuresText) },
    labels: { name: `labelled-${id}-labels-n${used.length}.csv`, text: labelsText, hash: sha(labelsText) },
    date: newest ? `${newest}T00:00:00.000Z` : null,
  };
}

function pci(p: Proportion) {
  return { value: Number.isFinite(p.p) ? p.p : null, ci: Number.isFinite(p.ciLower) ? [p.ciLower, p.ciUpper] : null };
}

/** The proposal of one scanner (throws when it cannot be made). */
export function buildLabelledProposal(deps: PerformanceDeps, scanner: string) {
  const o = deps.config.outcomes;
  const base = activeModel(deps, scanner);
  const inp = labelledInputs(deps, scanner, base);
  if (!inp.date) throw new OsteoError('no-proposal', 'no labelled studies', 409);
  const res = refitCutoff(base, inp.table, parseLabels(inp.labels.text, inp.labels.name), {
    method: o.cutoffMethod,
    targetSensitivity: o.cutoffMethod === 'sensitivity' ? o.targetSensitivity : undefined,
    date: inp.date,
    version: labelledVersion(base.version, scanner, inp.pairs.length),
    scanner,
    featuresName: inp.features.name,
    labelsName: inp.labels.name,
    labelsHash: inp.labels.hash,
    minRows: 2,
  });
  const now = confusionAt(res.scores, res.labels, res.before);
  const next = confusionAt(res.scores, res.labels, res.after);
  const auc = aucDelong(res.scores, res.labels);
  return {
    base,
    inputs: inp,
    result: res,
    view: {
      n: res.n,
      nAbnormal: res.nAbnormal,
      nNormal: res.nNormal,
      method: o.cutoffMethod,
      methodText: cutoffRuleText(o.cutoffMethod, o.targetSensitivity),
      auc: auc.auc,
      aucCi: [auc.ciLower, auc.ciUpper],
      current: { model: { name: base.name, version: base.version, hash: base.hash, calibrated: base.calibrated }, cutoff: res.before, sensitivity: pci(now.sensitivity), specificity: pci(now.specificity), ppv: pci(now.ppv), npv: pci(now.npv) },
      proposed: { model: { name: res.model.name, version: res.model.version, hash: res.model.hash }, cutoff: res.after, sensitivity: pci(next.sensitivity), specificity: pci(next.specificity), ppv: pci(next.ppv), npv: pci(next.npv), probability: res.model.probability ?? null },
      files: { features: { name: inp.features.name, hash: inp.features.hash }, labels: { name: inp.labels.name, hash: inp.labels.hash } },
      date: inp.date,
      /** The research path's command that writes the same model file (run on the two CSV files of the API). */
      command: `osteoscreen calibrate --model <active model file> --features ${inp.features.name} --labels ${inp.labels.name} --cutoff-only --method ${o.cutoffMethod}${o.cutoffMethod === 'sensitivity' ? ` --target-sensitivity ${o.targetSensitivity}` : ''} --scanner "${scanner}" --version ${res.model.version} --date ${inp.date} --out model.json`,
      warnings: [
        ...(base.calibrated ? [] : ['the active model is uncalibrated (placeholder normalisation): its studies get no flag whatever the cut-off; approve the scanner\'s calibration first']),
        'the expected sensitivity and specificity are measured on the same studies the cut-off was chosen on (optimistic)',
      ],
    },
  };
}

/** GET /api/performance/proposals: per scanner with labelled studies, its state and proposal. */
export function labelledProposals(deps: PerformanceDeps) {
  const o = deps.config.outcomes;
  const scanners = [...new Set(labelledPairs(currentMatches(deps.config, deps.store)).map((p) => p.study.scanner))].sort();
  return {
    minLabelled: o.minLabelled,
    minPerClass: o.minPerClass,
    method: o.cutoffMethod,
    targetSensitivity: o.targetSensitivity,
    scanners: scanners.map((scanner) => {
      const entry: Record<string, unknown> = { scanner, scannerId: scannerId(scanner) };
      try {
        const base = activeModel(deps, scanner);
        const inp = labelledInputs(deps, scanner, base);
        const last = deps.store.calibration.decisions(scanner).find((d) => d.state !== 'dismissed' && (d.detail as { kind?: string } | null)?.kind === LABELLED_KIND);
        const since = last ? ((last.detail as { labelled?: number }).labelled ?? 0) : 0;
        const enough = inp.pairs.length - since >= o.minLabelled && inp.nAbnormal >= o.minPerClass && inp.nNormal >= o.minPerClass;
        Object.assign(entry, {
          labelled: inp.pairs.length,
          nAbnormal: inp.nAbnormal,
          nNormal: inp.nNormal,
          active: { name: base.name, version: base.version, hash: base.hash, cutoff: base.cutoff },
          lastLabelledApproval: last ? { at: new Date(last.at).toISOString(), actor: last.actor, version: last.modelVersion, labelled: since } : null,
          state: enough ? 'proposal' : last ? 'approved' : 'collecting',
          needed: { labelled: Math.max(0, since + o.minLabelled - inp.pairs.length), abnormal: Math.max(0, o.minPerClass - inp.nAbnormal), normal: Math.max(0, o.minPerClass - inp.nNormal) },
          proposal: enough ? buildLabelledProposal(deps, scanner).view : null,
        });
      } catch (e) {
        Object.assign(entry, { state: 'error', error: (e as Error).message });
      }
      return entry;
    }),
  };
}

function findLabelledScanner(deps: PerformanceDeps, id: string): string {
  const s = [...new Set(labelledPairs(currentMatches(deps.config, deps.store)).map((p) => p.study.scanner))].find((x) => scannerId(x) === id || x === id);
  if (!s) throw new OsteoError('not-found', `no scanner ${id} with labelled studies`, 404);
  return s;
}

/** The proposal's input files (features.csv / labels.csv) of a scanner. */
export function labelledFile(deps: PerformanceDeps, id: string, which: 'features' | 'labels') {
  const scanner = findLabelledScanner(deps, id);
  const inp = labelledInputs(deps, scanner, activeModel(deps, scanner));
  return inp[which];
}

/**
 * Approve a scanner's labelled proposal: `expectHash` must be the proposed model hash the admin reviewed (409 when the
 * proposal changed since). Writes the model to <data>/models/ and makes it the scanner's model (new version and hash:
 * new output series). The caller audit-logs it.
 */
export function approveLabelledProposal(deps: PerformanceDeps, id: string, actor: string, expectHash: string | undefined) {
  const scanner = findLabelledScanner(deps, id);
  const entry = labelledProposals(deps).scanners.find((s) => s.scanner === scanner)!;
  if (entry.state !== 'proposal') throw new OsteoError('no-proposal', `scanner ${scanner} has no labelled proposal (${entry.state}${entry.error ? `: ${entry.error}` : ''})`, 409);
  if (!expectHash) throw new OsteoError('bad-request', 'expectHash (the proposed model hash that was reviewed) is required', 400);
  const p = buildLabelledProposal(deps, scanner);
  if (p.result.model.hash !== expectHash) {
    throw new OsteoError('proposal-changed', `the proposal changed since it was reviewed (now ${p.result.model.version}, hash ${p.result.model.hash}): reload and review it again`, 409);
  }
  const dir = path.join(deps.store.dir, 'models');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${p.result.model.name}-${p.result.model.version}.json`);
  const saved = saveModel(file, p.result.model);
  const studies = deps.store.calibration.studies(scanner).length;
  const row = deps.store.calibration.approve({
    scanner,
    // The studies recorded at approval: the unlabelled calibration flow proposes again only after minStudies more.
    n: studies,
    modelFile: file,
    modelName: saved.name,
    modelVersion: saved.version,
    modelHash: saved.hash,
    baseHash: p.base.hash,
    actor,
    detail: { kind: LABELLED_KIND, labelled: p.result.n, method: deps.config.outcomes.cutoffMethod, cutoffBefore: p.result.before, cutoffAfter: p.result.after, features: p.inputs.features.name, featuresHash: p.inputs.features.hash, labels: p.inputs.labels.name, labelsHash: p.inputs.labels.hash },
  });
  return { scannerId: scannerId(scanner), scanner, calibrationId: row.id, labelled: p.result.n, cutoff: { before: p.result.before, after: p.result.after }, model: { name: saved.name, version: saved.version, hash: saved.hash, file } };
}
