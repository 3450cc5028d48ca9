/**
 * How well the radscore screens at this site: scored studies labelled by matched DXA outcomes (src/outcomes/match.ts),
 * grouped by scanner and model version. Per group: n per class, AUC with DeLong 95 % CI, sensitivity, specificity,
 * PPV and NPV at the cut-off in use with Wilson 95 % CIs, Hosmer–Lemeshow and a calibration plot, the same over
 * rolling windows of MRI dates, and ROC / calibration charts drawn by the research report's chart code. All statistics
 * come from src/model/stats (the research path's, checked against R).
 */
import type { Config } from '../config/schema.js';
import type { Store, ScreenedStudy } from '../store/index.js';
import { loadModel, type RadscoreModel } from '../model/index.js';
import type { ProbabilityMap } from '../model/schema.js';
import { toProbability, HOSMER_LEMESHOW_METHOD } from '../model/evaluate.js';
import { aucDelong, rocCurve } from '../model/stats/roc.js';
import { confusionAt, type Proportion } from '../model/stats/proportion.js';
import { hosmerLemeshow } from '../model/stats/hosmer.js';
import { lineChart } from '../model/svg.js';
import { fhirSystemOf } from '../output/identity.js';
import { matchOutcomes, type MatchResult, type Pair } from '../outcomes/match.js';
import { scannerId } from './calibration.js';

export interface PerformanceDeps {
  config: Config;
  store: Store;
  /** The default (configured) model; null when it does not load. */
  model: RadscoreModel | null;
}

/** The label rule of the config. */
export function labelRule(config: Config) {
  const o = config.outcomes;
  return { tScoreAbnormalAtOrBelow: o.tScoreAbnormalAtOrBelow, zScoreAbnormalBelow: o.zScoreAbnormalBelow, tScoreAgeOver: o.tScoreAgeOver };
}

/** Issuers are compared by their FHIR system where one is known ("HOSP" = its urn:oid), else as written. */
export function issuerKeyOf(config: Config) {
  return (issuer: string) => {
    const s = fhirSystemOf(issuer, config.identity);
    return 'system' in s ? s.system : issuer;
  };
}

const cache = new WeakMap<Store, { sig: string; cfg: string; result: MatchResult }>();

/** Outcomes matched to screened studies (cached until outcomes or screened studies change). */
export function currentMatches(config: Config, store: Store): MatchResult {
  const sig = store.outcomes.signature();
  const cfg = JSON.stringify([config.outcomes.windowDays, labelRule(config), config.identity.issuerSystems]);
  const c = cache.get(store);
  if (c && c.sig === sig && c.cfg === cfg) return c.result;
  const result = matchOutcomes(store.outcomes.screened(), store.outcomes.list(), { windowDays: config.outcomes.windowDays, rule: labelRule(config), issuerKey: issuerKeyOf(config) });
  cache.set(store, { sig, cfg, result });
  return result;
}

const ci = (p: Proportion) => (Number.isFinite(p.ciLower) ? [p.ciLower, p.ciUpper] : null);
const val = (p: Proportion) => (Number.isFinite(p.p) ? p.p : null);

export interface LabelledPoint {
  score: number;
  label: 0 | 1;
  /** MRI date, YYYY-MM-DD. */
  date: string;
}

/** The statistics of one set of labelled scores at a cut-off (pure). */
export function performanceOf(points: LabelledPoint[], cutoff: number, probability?: ProbabilityMap) {
  const scores = points.map((p) => p.score);
  const y = points.map((p) => p.label);
  const nAbnormal = y.filter((v) => v === 1).length;
  const nNormal = y.length - nAbnormal;
  const problems: string[] = [];
  let auc: number | null = null;
  let aucCi: [number, number] | null = null;
  if (nAbnormal && nNormal) {
    const a = aucDelong(scores, y);
    auc = a.auc;
    if (nAbnormal > 1 && nNormal > 1) aucCi = [a.ciLower, a.ciUpper];
    else problems.push('DeLong CI needs at least 2 studies per class');
  } else problems.push(`AUC needs both classes (${nAbnormal} abnormal, ${nNormal} normal)`);
  const c = confusionAt(scores, y, cutoff);
  let hl: { statistic: number; df: number; p: number; method: string; groups: { n: number; meanPredicted: number; observedRate: number }[] } | null = null;
  if (points.length >= 10 && nAbnormal && nNormal) {
    const prob = scores.map((s) => toProbability(s, probability));
    const h = hosmerLemeshow(prob, y);
    hl = { statistic: h.statistic, df: h.df, p: h.p, method: probability ? 'logistic' : 'clipped', groups: h.groups.map((g) => ({ n: g.n, meanPredicted: g.meanPredicted, observedRate: g.observedRate })) };
  } else problems.push('Hosmer-Lemeshow needs at least 10 labelled studies with both classes');
  return {
    n: points.length,
    nAbnormal,
    nNormal,
    auc,
    aucCi,
    cutoff,
    sensitivity: val(c.sensitivity),
    sensitivityCi: ci(c.sensitivity),
    specificity: val(c.specificity),
    specificityCi: ci(c.specificity),
    ppv: val(c.ppv),
    ppvCi: ci(c.ppv),
    npv: val(c.npv),
    npvCi: ci(c.npv),
    confusion: { tp: c.tp, fn: c.fn, tn: c.tn, fp: c.fp },
    hosmerLemeshow: hl,
    problems,
  };
}

const DAY = 86_400_000;
const toDay = (iso: string) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY);
const isoOf = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

/** Consecutive windows of `days` days of MRI dates, the last ending at the newest study (oldest first; at most 24). */
export function rollingWindows(points: LabelledPoint[], cutoff: number, days: number) {
  if (!points.length) return [];
  const d = points.map((p) => toDay(p.date));
  const end = Math.max(...d);
  const first = Math.min(...d);
  const out = [];
  for (let k = 0; k < 24; k++) {
    const to = end - k * days;
    const from = to - days + 1;
    if (to < first) break;
    const inW = points.filter((_p, i) => d[i]! >= from && d[i]! <= to);
    const p = performanceOf(inW, cutoff);
    out.push({ from: isoOf(from), to: isoOf(to), n: p.n, nAbnormal: p.nAbnormal, auc: p.auc, aucCi: p.aucCi, sensitivity: p.sensitivity, sensitivityCi: p.sensitivityCi, specificity: p.specificity, specificityCi: p.specificityCi });
  }
  return out.reverse();
}

/** Models by hash (default and every approved calibration), for their probability maps. */
function modelsByHash(deps: PerformanceDeps): Map<string, RadscoreModel> {
  const m = new Map<string, RadscoreModel>();
  if (deps.model) m.set(deps.model.hash, deps.model);
  for (const d of deps.store.calibration.decisions()) {
    if (!d.modelFile || !d.modelHash || m.has(d.modelHash)) continue;
    try {
      const x = loadModel(d.modelFile);
      if (x.hash === d.modelHash) m.set(x.hash, x);
    } catch {
      /* a missing model file: Hosmer-Lemeshow then uses the clipped radscore */
    }
  }
  return m;
}

function rocSvg(title: string, points: LabelledPoint[], auc: number | null): string {
  const r = rocCurve(points.map((p) => p.score), points.map((p) => p.label));
  const idx = r.thresholds.map((_t, i) => i).reverse();
  return lineChart({
    title,
    xlabel: '1 − specificity',
    ylabel: 'sensitivity',
    series: [{ x: idx.map((i) => 1 - r.specificity[i]!), y: idx.map((i) => r.sensitivity[i]!), color: '#1f77b4', label: `AUC ${auc === null ? '—' : auc.toFixed(3)}` }],
    xDomain: [0, 1],
    yDomain: [0, 1],
    diagonal: true,
    width: 360,
    height: 340,
  });
}

function calibrationSvg(title: string, groups: { meanPredicted: number; observedRate: number }[], p: number): string {
  return lineChart({
    title,
    xlabel: 'predicted probability (decile groups)',
    ylabel: 'observed fraction abnormal',
    series: [{ x: groups.map((g) => g.meanPredicted), y: groups.map((g) => g.observedRate), color: '#d62728', points: true, label: `HL P ${p < 0.001 ? '< 0.001' : p.toFixed(3)}` }],
    xDomain: [0, 1],
    yDomain: [0, 1],
    diagonal: true,
    width: 360,
    height: 340,
  });
}

/** The labelled pairs (label known) of a match result. */
export function labelledPairs(m: MatchResult): (Pair & { label: 0 | 1 })[] {
  return m.pairs.filter((p): p is Pair & { label: 0 | 1 } => p.label !== null);
}

/** GET /api/performance: one entry per scanner and model version with labelled studies. */
export function performanceReport(deps: PerformanceDeps, opts: { svg?: boolean } = {}) {
  const m = currentMatches(deps.config, deps.store);
  const groups = new Map<string, { scanner: string; modelName: string; modelVersion: string; modelHash: string; studies: (ScreenedStudy & { label: 0 | 1 })[] }>();
  for (const p of labelledPairs(m)) {
    const s = p.study;
    const k = `${s.scanner}\u0000${s.modelVersion}\u0000${s.modelHash}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { scanner: s.scanner, modelName: s.modelName, modelVersion: s.modelVersion, modelHash: s.modelHash, studies: [] }));
    g.studies.push({ ...s, label: p.label });
  }
  const models = groups.size ? modelsByHash(deps) : new Map<string, RadscoreModel>();
  return [...groups.values()]
    .sort((a, b) => a.scanner.localeCompare(b.scanner) || a.modelVersion.localeCompare(b.modelVersion))
    .map((g) => {
      const points: LabelledPoint[] = g.studies.map((s) => ({ score: s.score, label: s.label, date: s.studyDate! }));
      // The cut-off in use: a model version has one; should two differ, the newest study's is shown.
      const newest = g.studies.reduce((a, b) => (b.recordedAt > a.recordedAt ? b : a));
      const cutoffs = new Set(g.studies.map((s) => s.cutoff));
      const perf = performanceOf(points, newest.cutoff, models.get(g.modelHash)?.probability);
      if (cutoffs.size > 1) perf.problems.push(`the studies of this model version were scored with ${cutoffs.size} different cut-offs: the newest (${newest.cutoff}) is shown`);
      const dates = points.map((p) => p.date).sort();
      const title = `${g.scanner} — ${g.modelVersion}`;
      return {
        scanner: g.scanner,
        scannerId: scannerId(g.scanner),
        modelName: g.modelName,
        modelVersion: g.modelVersion,
        modelHash: g.modelHash,
        ...perf,
        hosmerLemeshowMethod: perf.hosmerLemeshow ? HOSMER_LEMESHOW_METHOD : null,
        firstStudyDate: dates[0] ?? null,
        lastStudyDate: dates[dates.length - 1] ?? null,
        windowDays: deps.config.outcomes.rollingDays,
        windows: rollingWindows(points, newest.cutoff, deps.config.outcomes.rollingDays),
        ...(opts.svg
          ? {
              rocSvg: perf.nAbnormal && perf.nNormal ? rocSvg(`ROC — ${title}`.slice(0, 80), points, perf.auc) : null,
              calibrationSvg: perf.hosmerLemeshow ? calibrationSvg(`Calibration — ${title}`.slice(0, 80), perf.hosmerLemeshow.groups, perf.hosmerLemeshow.p) : null,
            }
          : {}),
      };
    });
}

/** GET /api/outcomes: counts, the unmatched outcomes with the reason, and the matches with the choice made. */
export function outcomesReport(deps: PerformanceDeps, limit = 500) {
  const m = currentMatches(deps.config, deps.store);
  const labelled = labelledPairs(m).length;
  return {
    windowDays: deps.config.outcomes.windowDays,
    rule: labelRule(deps.config),
    counts: {
      outcomes: deps.store.outcomes.count(),
      unmatched: m.unmatched.length,
      screenedStudies: deps.store.outcomes.screened().length,
      matchedStudies: m.pairs.length,
      labelledStudies: labelled,
      matchedWithoutLabel: m.pairs.length - labelled,
      studiesWithoutIdentity: m.studiesWithout.identity,
      studiesWithoutDate: m.studiesWithout.date,
    },
    unmatched: m.unmatched.slice(0, limit).map((u) => ({
      id: u.outcome.id,
      patientId: u.outcome.patientId,
      issuer: u.outcome.issuer,
      dxaDate: u.outcome.dxaDate,
      source: u.outcome.source,
      sourceRef: u.outcome.sourceRef,
      reason: u.reason,
    })),
    matches: m.pairs.slice(0, limit).map((p) => ({
      studyInstanceUid: p.study.studyUid,
      jobId: p.study.jobId,
      scanner: p.study.scanner,
      modelVersion: p.study.modelVersion,
      studyDate: p.study.studyDate,
      outcomeId: p.outcome.id,
      dxaDate: p.outcome.dxaDate,
      days: p.days,
      tScore: p.outcome.tScore,
      zScore: p.outcome.zScore,
      label: p.label,
      rule: p.rule,
      choice: p.alternatives.length ? `nearest of ${p.alternatives.length + 1} DXA results in the window (others: ${p.alternatives.map((a) => `${a.dxaDate}, ${a.days} days`).join('; ')})` : 'the only DXA result in the window',
      alternatives: p.alternatives,
    })),
  };
}
