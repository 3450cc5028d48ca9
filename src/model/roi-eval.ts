/**
 * Feature agreement between the automatic ROI and an expert ROI built by the same rule (`osteoscreen roi-eval`).
 *
 * For every labelled case the expert ROI is `buildRoi` applied to the expert level mask (mid slices from the expert
 * mask's own centroids) with the scoring model's `extraction.roi`; the automatic ROI is the one the analysis makes
 * (`analyseSeries`, as `osteoscreen segment --roi` writes it). Both are measured by the radiomics engine with the
 * model's extraction settings on the pooled L1-L4 ROI, as the pipeline's features stage does. Per feature: ICC(A,1)
 * with its McGraw-Wong 95 % CI, Bland-Altman bias and limits of agreement, median relative difference; for the
 * model's terms also the partial (T1-only / T2-only) radscores.
 */
import { extractFeatures, type RImage, type RMask } from '../radiomics/index.js';
import type { RadiomicsSettings } from '../radiomics/settings.js';
import type { RadscoreModel } from './schema.js';
import { blandAltman, iccA1, medianRelativeDifference, sampleSd, type BlandAltman, type IccResult } from './stats/icc.js';
import type { LabelMap, Volume } from '../volume/types.js';
import { bodiesFromLevelMap, buildRoi, roiMask, ROI_LEVELS, type RoiLevel, type RoiSpec } from '../segmentation/roi.js';
import type { Sequence, SeriesAnalysis } from '../segmentation/analyse.js';

export type FeatureValues = Record<string, number | null>;

/** Where the two ROIs of one case differ, per level. */
export interface RoiComparison {
  /** mid-sagittal slice per level: expert mask's centroid slice and ours (null where we have none) */
  expertMid: Partial<Record<RoiLevel, number>>;
  autoMid: Partial<Record<RoiLevel, number | null>>;
  /** ROI voxels per level */
  expertVoxels: Record<RoiLevel, number>;
  autoVoxels: Record<RoiLevel, number>;
  /** Dice of the two ROIs per level (NaN when both empty) */
  dice: Record<RoiLevel, number>;
  /** ROI voxels that the expert ROI has and ours lacks / ours has and the expert's lacks, pooled */
  expertOnly: number;
  autoOnly: number;
}

export interface CaseFeatures {
  name: string;
  /** the segmentation model was trained on this case (reported apart from the held-out ones) */
  trained: boolean;
  sequence: Sequence;
  /** the analysis accepted the series (QA gate) and made an ROI */
  ok: boolean;
  reason: string | null;
  /** accepted, but some level carries another level's label (its ROI measures the wrong body); null when unknown or refused */
  levelsWrong: boolean | null;
  expert: FeatureValues;
  /** null when the analysis refused the series */
  auto: FeatureValues | null;
  roi: RoiComparison;
  expertRoi: LabelMap;
  autoRoi: LabelMap | null;
}

/** The expert ROI of a level mask (labels 1..4 = L1..L4) by the analysis' own rule. */
export function expertRoi(truth: LabelMap, spec: RoiSpec): { roi: LabelMap; mids: Partial<Record<RoiLevel, number>>; voxels: Record<RoiLevel, number>; problems: string[] } {
  const bodies = bodiesFromLevelMap(truth);
  const r = buildRoi(truth, bodies, spec);
  const mids: Partial<Record<RoiLevel, number>> = {};
  for (const b of bodies) mids[b.level as RoiLevel] = b.midSlice;
  return { roi: r.roi, mids, voxels: r.voxels, problems: r.problems };
}

/** Per-level comparison of two ROI label maps (labels 1..4) on the same grid. */
export function compareRois(expert: LabelMap, auto: LabelMap | null, expertMid: Partial<Record<RoiLevel, number>>, autoMid: Partial<Record<RoiLevel, number | null>>): RoiComparison {
  const ev = { L1: 0, L2: 0, L3: 0, L4: 0 } as Record<RoiLevel, number>;
  const av = { L1: 0, L2: 0, L3: 0, L4: 0 } as Record<RoiLevel, number>;
  const both = { L1: 0, L2: 0, L3: 0, L4: 0 } as Record<RoiLevel, number>;
  let expertOnly = 0;
  let autoOnly = 0;
  for (let v = 0; v < expert.data.length; v++) {
    const e = expert.data[v]!;
    const a = auto ? auto.data[v]! : 0;
    if (e) ev[ROI_LEVELS[e - 1]!]++;
    if (a) av[ROI_LEVELS[a - 1]!]++;
    if (e && e === a) both[ROI_LEVELS[e - 1]!]++;
    if (e && !a) expertOnly++;
    if (a && !e) autoOnly++;
  }
  const dice = {} as Record<RoiLevel, number>;
  for (const l of ROI_LEVELS) dice[l] = ev[l] + av[l] ? (2 * both[l]) / (ev[l] + av[l]) : NaN;
  return { expertMid, autoMid, expertVoxels: ev, autoVoxels: av, dice, expertOnly, autoOnly };
}

export function toRImage(v: Volume): RImage {
  return { dims: v.dims, spacing: v.spacing, origin: v.origin, direction: v.direction, data: Float64Array.from(v.data), pixelType: 'float32' };
}

/** Measures the features of one sequence inside an ROI mask (label 1): `extractFeatures` or a radiomics pool's `extract`. */
export type FeatureExtractor = (img: RImage, mask: RMask, settings: RadiomicsSettings, opts: { only?: string[] }) => Promise<{ features: FeatureValues }> | { features: FeatureValues };

/**
 * Features of one sequence inside the pooled L1-L4 ROI (label 1), with the model's settings, as the pipeline's
 * features stage (pooledRoi) measures them.
 */
export async function roiFeatures(img: RImage, roi: LabelMap, settings: RadiomicsSettings, only: string[] | undefined, extract: FeatureExtractor = extractFeatures): Promise<FeatureValues> {
  return (await extract(img, roiMask(roi, 'all'), settings, only ? { only } : {})).features;
}

/** Feature names measured for one sequence: the model's terms of that sequence, or every feature of the extraction. */
export function featureList(model: RadscoreModel, sequence: Sequence, which: 'model' | 'all'): string[] | undefined {
  if (which === 'all') return undefined;
  return [...new Set(model.terms.filter((t) => t.sequence === sequence).map((t) => t.feature))];
}

/** The expert mask does not yield the ROI the rule asks for (a level missing, a slice outside the series). */
export class ExpertRoiError extends Error {}

/** Measures both ROIs of one analysed series (the two extractions run concurrently when `extract` is a pool's). */
export async function measureCase(o: {
  name: string;
  trained: boolean;
  sequence: Sequence;
  vol: Volume;
  truth: LabelMap;
  analysis: SeriesAnalysis;
  spec: RoiSpec;
  settings: RadiomicsSettings;
  only: string[] | undefined;
  extract?: FeatureExtractor;
  /** from the level comparison with the expert mask (segment-eval's `levelsRight`), when known */
  levelsRight?: boolean | null;
}): Promise<CaseFeatures> {
  const ex = expertRoi(o.truth, o.spec);
  if (ex.problems.length) throw new ExpertRoiError(`${o.name}: no expert ROI by the rule (${ex.problems.join('; ')}): case left out`);
  const a = o.analysis;
  const autoRoi = a.ok && a.roi ? a.roi : null;
  const autoMid: Partial<Record<RoiLevel, number | null>> = {};
  for (const l of ROI_LEVELS) autoMid[l] = a.bodies.find((b) => b.level === l)?.midSlice ?? null;
  const img = toRImage(o.vol);
  const [expert, auto] = await Promise.all([roiFeatures(img, ex.roi, o.settings, o.only, o.extract), autoRoi ? roiFeatures(img, autoRoi, o.settings, o.only, o.extract) : null]);
  return {
    name: o.name,
    trained: o.trained,
    sequence: o.sequence,
    ok: !!autoRoi,
    reason: a.ok ? null : a.reason ?? 'not assessable',
    levelsWrong: autoRoi && o.levelsRight !== undefined && o.levelsRight !== null ? !o.levelsRight : null,
    expert,
    auto,
    roi: compareRois(ex.roi, autoRoi, ex.mids, autoMid),
    expertRoi: ex.roi,
    autoRoi,
  };
}

export interface Agreement {
  /** feature name, or "partial radscore T1/T2" */
  feature: string;
  sequence: Sequence;
  /** a term of the model (coefficient), or null */
  coefficient: number | null;
  n: number;
  icc: IccResult;
  ba: BlandAltman;
  /** SD of the expert values across cases (between-patient SD) */
  sdExpert: number;
  /** bias / between-patient SD */
  biasOverSd: number;
  meanExpert: number;
  meanAuto: number;
  medianRelDiff: number;
}

const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** Agreement of one feature over the accepted cases (auto vs expert). */
export function agreementOf(feature: string, sequence: Sequence, coefficient: number | null, pairs: { expert: number; auto: number }[]): Agreement {
  const ok = pairs.filter((p) => Number.isFinite(p.expert) && Number.isFinite(p.auto));
  const e = ok.map((p) => p.expert);
  const a = ok.map((p) => p.auto);
  const ba = blandAltman(a, e);
  const sdExpert = sampleSd(e);
  const mean = (x: number[]) => (x.length ? x.reduce((s, t) => s + t, 0) / x.length : NaN);
  return {
    feature,
    sequence,
    coefficient,
    n: ok.length,
    icc: iccA1(ok.map((p) => [p.expert, p.auto])),
    ba,
    sdExpert,
    biasOverSd: ba.bias / sdExpert,
    meanExpert: mean(e),
    meanAuto: mean(a),
    medianRelDiff: medianRelativeDifference(a, e),
  };
}

/**
 * Partial radscore of one sequence: sum of coefficient x z over the model's terms of that sequence, z with a
 * normalisation (mean, SD) fitted on the expert values of the same cases, the same one applied to both ROIs.
 * Returns per case [expert, auto] (NaN where a term is missing).
 */
export function partialRadscores(model: RadscoreModel, sequence: Sequence, cases: CaseFeatures[]): { expert: number; auto: number }[] {
  const terms = model.terms.filter((t) => t.sequence === sequence);
  const norm = terms.map((t) => {
    const e = cases.map((c) => num(c.expert[t.feature])).filter(Number.isFinite);
    const m = e.reduce((s, x) => s + x, 0) / e.length;
    return { m, s: sampleSd(e) };
  });
  const score = (f: FeatureValues | null) => (f ? terms.reduce((s, t, i) => s + t.coefficient * ((num(f[t.feature]) - norm[i]!.m) / norm[i]!.s), 0) : NaN);
  return cases.map((c) => ({ expert: score(c.expert), auto: score(c.auto) }));
}

/** Agreement of every measured feature (model terms first) and of the partial radscore of each sequence with terms. */
export function agreementTable(model: RadscoreModel, cases: CaseFeatures[]): Agreement[] {
  const out: Agreement[] = [];
  const acc = cases.filter((c) => c.auto);
  const seqs = [...new Set(acc.map((c) => c.sequence))];
  for (const seq of seqs) {
    const cs = acc.filter((c) => c.sequence === seq);
    const names: string[] = [];
    for (const c of cs) for (const k of Object.keys(c.expert)) if (!names.includes(k)) names.push(k);
    const termCoef = new Map(model.terms.filter((t) => t.sequence === seq).map((t) => [t.feature, t.coefficient]));
    names.sort((x, y) => Number(termCoef.has(y)) - Number(termCoef.has(x)));
    for (const f of names) out.push(agreementOf(f, seq, termCoef.get(f) ?? null, cs.map((c) => ({ expert: num(c.expert[f]), auto: num(c.auto![f]) }))));
    if (termCoef.size && [...termCoef.keys()].every((f) => names.includes(f))) {
      // a centred score: relative differences and the ratio of means say nothing
      out.push({ ...agreementOf(`partial radscore ${seq}`, seq, null, partialRadscores(model, seq, cs)), medianRelDiff: NaN, meanAuto: NaN, meanExpert: NaN });
    }
  }
  return out;
}

const fx = (x: number, d = 3) => (Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(d)) : '-');

/** Markdown table of an agreement list (ICC > 0.75 is the reference study's inclusion rule). */
export function agreementMarkdown(rows: Agreement[]): string {
  const lines = [
    '| sequence | feature | n | ICC(A,1) [95 % CI] | bias (auto - expert) | 95 % limits of agreement | bias / between-patient SD | median rel. diff. | mean auto / mean expert | study rule ICC > 0.75 |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const pass = Number.isFinite(r.icc.icc) ? (r.icc.icc > 0.75 ? 'kept' : 'fails') : '-';
    lines.push(
      `| ${r.sequence} | ${r.feature}${r.coefficient !== null ? ` (coef ${r.coefficient})` : ''} | ${r.n} | ${fx(r.icc.icc, 2)} [${fx(r.icc.lower, 2)}, ${fx(r.icc.upper, 2)}] | ${fx(r.ba.bias)} | ${fx(r.ba.loaLower)} to ${fx(r.ba.loaUpper)} | ${fx(r.biasOverSd, 2)} | ${fx(r.medianRelDiff, 3)} | ${fx(r.meanAuto / r.meanExpert, 2)} | ${pass} |`,
    );
  }
  return lines.join('\n');
}

/** Wide CSV: one row per case; ROI comparison per level, then expert/auto value of every feature. */
export function casesCsv(cases: CaseFeatures[], model: RadscoreModel): string {
  const feats: string[] = [];
  for (const c of cases) for (const k of Object.keys(c.expert)) if (!feats.includes(`${c.sequence}:${k}`)) feats.push(`${c.sequence}:${k}`);
  const seqs = [...new Set(cases.map((c) => c.sequence))].filter((s) => model.terms.some((t) => t.sequence === s));
  const partial = new Map<string, { expert: number; auto: number }>();
  for (const s of seqs) {
    const cs = cases.filter((c) => c.sequence === s);
    partialRadscores(model, s, cs).forEach((p, i) => partial.set(`${cs[i]!.name}:${s}`, p));
  }
  const head = ['case', 'sequence', 'trained', 'ok', 'levels_wrong', 'reason'];
  for (const l of ROI_LEVELS) head.push(`${l}_mid_expert`, `${l}_mid_auto`, `${l}_roi_voxels_expert`, `${l}_roi_voxels_auto`, `${l}_roi_dice`);
  head.push('roi_expert_only_voxels', 'roi_auto_only_voxels');
  for (const f of feats) head.push(`${f}:expert`, `${f}:auto`);
  head.push('partial_radscore:expert', 'partial_radscore:auto');
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const v = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? String(x) : '');
  const lines = [head.map(q).join(',')];
  for (const c of cases) {
    const row = [c.name, c.sequence, String(c.trained), String(c.ok), c.levelsWrong === null ? '' : String(c.levelsWrong), c.reason ?? ''];
    for (const l of ROI_LEVELS) row.push(v(c.roi.expertMid[l]), v(c.roi.autoMid[l]), v(c.roi.expertVoxels[l]), v(c.roi.autoVoxels[l]), v(c.roi.dice[l]));
    row.push(v(c.roi.expertOnly), v(c.roi.autoOnly));
    for (const f of feats) {
      const [seq, name] = [f.slice(0, 2), f.slice(3)];
      row.push(seq === c.sequence ? v(c.expert[name]) : '', seq === c.sequence && c.auto ? v(c.auto[name]) : '');
    }
    const p = partial.get(`${c.name}:${c.sequence}`);
    row.push(v(p?.expert), v(p?.auto));
    lines.push(row.map(q).join(','));
  }
  return lines.join('\n') + '\n';
}

