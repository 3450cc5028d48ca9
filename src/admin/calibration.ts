/**
 * Per-scanner population calibration with admin approval.
 *
 * The pipeline records every assessable study's raw model-term values under its scanner key (src/store/calibration.ts,
 * the same key as drift: src/common/scanner.ts). Once a scanner has `calibration.minStudies` of them, a proposal is
 * computed on read: the default model re-normalised on that scanner's studies by `calibrateModel` (the code of
 * `osteoscreen calibrate`) with robust statistics, median and MAD × 1.4826, coefficients, intercept and cut-off
 * kept. An admin approves it (the model file is written to <data>/models/, with its own version and hash, so its
 * outputs go to new series) or dismisses it; both are audit-logged by the caller (routes / CLI). From the approval on,
 * that scanner's studies are scored with the approved model (src/pipeline/model-choice.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { CalibrationRow, Store } from '../store/index.js';
import { OsteoError } from '../common/errors.js';
import {
  calibrateModel,
  formatFeatureTable,
  isNotAssessable,
  loadModel,
  rowFeatures,
  saveModel,
  scoreOptionsFrom,
  scoreStudy,
  termStatistics,
  type FeatureTable,
  type RadscoreModel,
} from '../model/index.js';
import { histogramSvg } from './calibration-svg.js';
import type { ScannerModelRef } from '../pipeline/model-choice.js';

export const CALIBRATION_STATISTICS = 'median-mad' as const;
export const CALIBRATION_STATISTICS_TEXT = 'median and MAD x 1.4826 per term (robust: studies far out of range barely move them)';

export interface CalibrationDeps {
  config: Config;
  store: Store;
  /** The default (configured) model; null when it does not load. */
  model: RadscoreModel | null;
}

/** Short stable id of a scanner key, for URLs and the CLI. */
export function scannerId(scanner: string): string {
  return 'sc-' + createHash('sha256').update(scanner).digest('hex').slice(0, 10);
}

/** Version of a per-scanner calibration: "<base X.Y.Z>-site.s<6 hex of the scanner>.n<studies>". */
export function calibratedVersion(base: string, scanner: string, n: number): string {
  const core = /^\d+\.\d+\.\d+/.exec(base)?.[0] ?? '0.0.0';
  return `${core}-site.s${scannerId(scanner).slice(3, 9)}.n${n}`;
}

/** A scanner's recorded term values as a feature table (ids "job-<id>", one column per model term). */
export function scannerFeatureTable(store: Store, scanner: string, model: Pick<RadscoreModel, 'terms'>): FeatureTable {
  const columns = model.terms.map((t) => `${t.sequence}_${t.feature}`);
  const studies = store.calibration.studies(scanner);
  return {
    ids: studies.map((s) => `job-${s.jobId}`),
    columns,
    values: studies.map((s) => model.terms.map((t) => s.terms.find((v) => v.sequence === t.sequence && v.feature === t.feature)?.value ?? null)),
  };
}

/** The features CSV of a scanner's proposal, byte for byte what `calibrate --robust` reproduces the model from. */
export function proposalCsv(store: Store, scanner: string, model: RadscoreModel, n: number): { name: string; text: string; hash: string } {
  const text = formatFeatureTable(scannerFeatureTable(store, scanner, model));
  return { name: `calibration-${scannerId(scanner)}-n${n}.csv`, text, hash: 'sha256:' + createHash('sha256').update(text).digest('hex') };
}

/** The proposed model of a scanner: the default model calibrated on its recorded studies (same code as `calibrate --robust`). */
export function proposeModel(deps: CalibrationDeps, scanner: string) {
  const base = requireModel(deps);
  const table = scannerFeatureTable(deps.store, scanner, base);
  const csv = proposalCsv(deps.store, scanner, base, table.ids.length);
  // The time of the cohort's last study: the same data give the same model, hash included.
  const last = Math.max(0, ...deps.store.calibration.studies(scanner).map((s) => s.recordedAt));
  const date = new Date(last).toISOString();
  const res = calibrateModel(base, table, undefined, {
    date,
    statistics: CALIBRATION_STATISTICS,
    scanner,
    featuresName: csv.name,
    featuresHash: csv.hash,
    version: calibratedVersion(base.version, scanner, table.ids.length),
    minRows: Math.max(2, Math.min(10, deps.config.calibration.minStudies)),
  });
  return { base, table, csv, date, result: res };
}

function requireModel(deps: CalibrationDeps): RadscoreModel {
  if (!deps.model) throw new OsteoError('model-unavailable', 'the default radscore model is not loaded: no calibration possible', 503);
  return deps.model;
}

/** Flag counts of a model over a feature table, with the service's scoring options. */
function flagCounts(model: RadscoreModel, table: FeatureTable, config: Config) {
  const c = { n: 0, flagged: 0, notFlagged: 0, noFlag: 0, outOfRange: 0, aboveCutoff: 0 };
  const opts = scoreOptionsFrom(config.model);
  table.ids.forEach((_id, r) => {
    const s = scoreStudy(model, rowFeatures(table, r), opts);
    if (isNotAssessable(s)) return;
    c.n++;
    if (s.score > s.cutoff) c.aboveCutoff++;
    if (s.flag === true) c.flagged++;
    else if (s.flag === false) c.notFlagged++;
    else c.noFlag++;
    if (s.outOfRange?.length) c.outOfRange++;
  });
  const rate = (k: number) => (c.n ? k / c.n : null);
  return { ...c, flagRate: rate(c.flagged), noFlagRate: rate(c.noFlag), aboveCutoffRate: rate(c.aboveCutoff) };
}

/** The active model of a scanner: its approved calibration, else the default. */
export function activeCalibration(store: Store, scanner: string): CalibrationRow | null {
  return store.calibration.approved().find((a) => a.scanner === scanner) ?? null;
}

function loadApproved(row: CalibrationRow): RadscoreModel {
  const m = loadModel(row.modelFile!);
  if (m.hash !== row.modelHash) throw new OsteoError('model-hash-mismatch', `calibrated model ${row.modelFile} has hash ${m.hash}, approved was ${row.modelHash}`);
  return m;
}

function modelRef(m: RadscoreModel) {
  return { name: m.name, version: m.version, hash: m.hash, calibrated: m.calibrated, normalisation: m.normalisation.source };
}

/** Everything `GET /api/calibration` (and `osteoscreen calibration status`) shows. */
export function calibrationReport(deps: CalibrationDeps, opts: { histograms?: boolean; /** false: states only (no proposal computed) */ proposals?: boolean } = {}) {
  const { store, config } = deps;
  const min = config.calibration.minStudies;
  const scanners = store.calibration.scanners().map((s) => {
    const decisions = store.calibration.decisions(s.scanner);
    const approved = decisions.find((d) => d.state === 'approved') ?? null;
    const last = decisions.find((d) => d.state === 'approved' || d.state === 'dismissed') ?? null;
    const due = last ? last.n + min : min;
    let activeModel: RadscoreModel | null = deps.model;
    let activeError: string | null = null;
    if (approved) {
      try {
        activeModel = loadApproved(approved);
      } catch (e) {
        activeError = (e as Error).message;
      }
    }
    const state = s.studies < due ? (last ? last.state : 'collecting') : 'proposal';
    const entry = {
      scannerId: scannerId(s.scanner),
      scanner: s.scanner,
      studies: s.studies,
      lastStudyAt: new Date(s.lastAt).toISOString(),
      state,
      /** Studies still needed before the (next) proposal. */
      studiesNeeded: Math.max(0, due - s.studies),
      active: approved
        ? { source: 'scanner-calibration', calibrationId: approved.id, approvedAt: new Date(approved.at).toISOString(), approvedBy: approved.actor, n: approved.n, file: approved.modelFile, ...(activeModel && !activeError ? modelRef(activeModel) : {}), error: activeError }
        : deps.model
          ? { source: 'default', ...modelRef(deps.model) }
          : null,
      decisions: decisions.map((d) => ({ id: d.id, state: d.state, n: d.n, at: new Date(d.at).toISOString(), actor: d.actor, version: d.modelVersion, hash: d.modelHash })),
      proposal: null as ReturnType<typeof proposalView> | { error: string } | null,
    };
    if (state === 'proposal' && deps.model && opts.proposals !== false) {
      try {
        entry.proposal = proposalView(deps, s.scanner, activeModel ?? deps.model, !!opts.histograms);
      } catch (e) {
        entry.proposal = { error: (e as Error).message };
      }
    }
    return entry;
  });
  return {
    minStudies: min,
    statistics: CALIBRATION_STATISTICS,
    statisticsText: CALIBRATION_STATISTICS_TEXT,
    defaultModel: deps.model ? modelRef(deps.model) : null,
    scanners,
  };
}

function proposalView(deps: CalibrationDeps, scanner: string, current: RadscoreModel, histograms: boolean) {
  const p = proposeModel(deps, scanner);
  const m = p.result.model;
  const terms = p.base.terms.map((t, i) => {
    const col = p.table.columns.indexOf(`${t.sequence}_${t.feature}`);
    const values = p.table.values.map((r) => r[col]).filter((v): v is number => v !== null && Number.isFinite(v));
    const site = termStatistics(values, CALIBRATION_STATISTICS);
    const nt = m.terms[i]!;
    return {
      sequence: t.sequence,
      feature: t.feature,
      n: values.length,
      site: { median: site.centre, robustSd: site.spread, min: Math.min(...values), max: Math.max(...values) },
      model: { mean: t.mean, sd: t.sd },
      /** Where the site's median lies on the default model's scale (z), and its spread relative to the model SD. */
      shiftZ: (site.centre - t.mean) / t.sd,
      spreadRatio: site.spread / t.sd,
      proposed: { mean: nt.mean, sd: nt.sd, observed: nt.observed ?? null },
      ...(histograms
        ? { histogramSvg: histogramSvg({ values, modelMean: t.mean, modelSd: t.sd, proposedMean: nt.mean, proposedSd: nt.sd, title: `${t.sequence} ${t.feature}` }) }
        : {}),
    };
  });
  return {
    n: p.result.n,
    excluded: p.result.excluded.length,
    warnings: p.result.warnings,
    model: { name: m.name, version: m.version, hash: m.hash, cutoff: m.cutoff, statistics: CALIBRATION_STATISTICS },
    features: { name: p.csv.name, hash: p.csv.hash },
    /** The calibration date (the cohort's last study): `calibrate --date` with it reproduces the model and its hash. */
    date: p.date,
    flagRate: { current: { model: modelRef(current), ...flagCounts(current, p.table, deps.config) }, proposed: flagCounts(m, p.table, deps.config) },
    terms,
  };
}

function findScanner(store: Store, id: string): string {
  const s = store.calibration.scanners().find((x) => scannerId(x.scanner) === id || x.scanner === id);
  if (!s) throw new OsteoError('not-found', `no scanner ${id} with recorded studies`, 404);
  return s.scanner;
}

function checkProposal(deps: CalibrationDeps, id: string, expectStudies?: number) {
  const scanner = findScanner(deps.store, id);
  const entry = calibrationReport(deps).scanners.find((s) => s.scanner === scanner)!;
  if (entry.state !== 'proposal') throw new OsteoError('no-proposal', `scanner ${scanner} has no calibration proposal (${entry.state}; ${entry.studiesNeeded} more studies needed)`, 409);
  if (expectStudies !== undefined && expectStudies !== entry.studies) {
    throw new OsteoError('proposal-changed', `the proposal now rests on ${entry.studies} studies, not ${expectStudies}: reload and review it again`, 409);
  }
  return { scanner, entry };
}

/**
 * Approve a scanner's proposal: writes the calibrated model to <data>/models/<name>-<version>.json (hash verified
 * on every later load) and records it as the scanner's model. The caller audit-logs it.
 */
export function approveCalibration(deps: CalibrationDeps, id: string, actor: string, expectStudies?: number) {
  const { scanner } = checkProposal(deps, id, expectStudies);
  const p = proposeModel(deps, scanner);
  const dir = path.join(deps.store.dir, 'models');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${p.result.model.name}-${p.result.model.version}.json`);
  const saved = saveModel(file, p.result.model);
  const row = deps.store.calibration.approve({
    scanner,
    n: p.result.n,
    modelFile: file,
    modelName: saved.name,
    modelVersion: saved.version,
    modelHash: saved.hash,
    baseHash: p.base.hash,
    actor,
    detail: { features: p.csv.name, featuresHash: p.csv.hash, statistics: CALIBRATION_STATISTICS },
  });
  return { scannerId: scannerId(scanner), scanner, calibrationId: row.id, n: row.n, model: { name: saved.name, version: saved.version, hash: saved.hash, file } };
}

/** Dismiss a scanner's proposal: it comes back after another calibration.minStudies studies. */
export function dismissCalibration(deps: CalibrationDeps, id: string, actor: string, expectStudies?: number) {
  const { scanner, entry } = checkProposal(deps, id, expectStudies);
  const row = deps.store.calibration.dismiss({ scanner, n: entry.studies, baseHash: requireModel(deps).hash, actor });
  return { scannerId: scannerId(scanner), scanner, calibrationId: row.id, n: row.n, proposalAgainAfter: row.n + deps.config.calibration.minStudies };
}

/** The features CSV of a scanner's recorded studies (the proposal's input). */
export function scannerCsv(deps: CalibrationDeps, id: string) {
  const scanner = findScanner(deps.store, id);
  const base = requireModel(deps);
  return proposalCsv(deps.store, scanner, base, deps.store.calibration.studies(scanner).length);
}

/** The approved per-scanner models as the pipeline passes them to the analysis. */
export function scannerModelRefs(store: Store): ScannerModelRef[] {
  return store.calibration
    .approved()
    .filter((a) => a.modelFile && a.modelHash)
    .map((a) => ({ scanner: a.scanner, file: a.modelFile!, hash: a.modelHash!, calibrationId: a.id, approvedAt: new Date(a.at).toISOString(), n: a.n }));
}
