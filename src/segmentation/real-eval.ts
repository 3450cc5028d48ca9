/**
 * Real-data evaluation of the single-series analysis (`osteoscreen segment-eval`): every `caseNN/` of a folder laid
 * out like shared/real-lumbar-dev (a `dicom/` series and an expert level mask `*.nii.gz` on the same voxel grid,
 * labels L1..L5 = 1..5, T12 = 12, T11 = 11) is run through `analyseSeries` (segmentation, level labelling, QA
 * gate, ROI) and compared with the expert mask: verdict, reason, Dice per level, and whether each level is right.
 */
import type { RoiSpec } from './roi.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LabelMap, Volume } from '../volume/types.js';
import { readNiftiLabelMap } from '../volume/nifti.js';
import { analyseSeries, cutByEdge, type Sequence, type SeriesAnalysis } from './analyse.js';
import { bodiesFromLevelMap, DEFAULT_ROI_SPEC, roiHalfSlices } from './roi.js';
import { diceByLabel, labelAgreement } from './evaluate.js';
import { loadSeries } from './io.js';
import type { Segmenter } from './segmenter.js';

export interface RealCase {
  name: string;
  /** DICOM folder (or NIfTI volume) of the series */
  series: string;
  /** expert level mask on the series' voxel grid */
  mask: string;
}

/** Levels compared (label values of the expert masks and of our level map). */
export const EVAL_LEVELS: { name: string; label: number }[] = [
  { name: 'L1', label: 1 },
  { name: 'L2', label: 2 },
  { name: 'L3', label: 3 },
  { name: 'L4', label: 4 },
  { name: 'L5', label: 5 },
  { name: 'T12', label: 12 },
];

/** Finds `caseNN/` folders: a `dicom/` folder (or one *.nii / *.nii.gz image) and one mask whose name holds "mask", "vertebrae" or "label". */
export function findCases(dir: string): RealCase[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`cases folder not found: ${dir}`);
  const out: RealCase[] = [];
  for (const name of readdirSync(dir).sort()) {
    const d = path.join(dir, name);
    if (!statSync(d).isDirectory()) continue;
    const files = readdirSync(d);
    const mask = files.find((f) => /\.nii(\.gz)?$/i.test(f) && /(mask|vertebrae|label)/i.test(f));
    const dicom = path.join(d, 'dicom');
    const img = files.find((f) => /\.nii(\.gz)?$/i.test(f) && f !== mask);
    const series = existsSync(dicom) && statSync(dicom).isDirectory() ? dicom : img ? path.join(d, img) : undefined;
    if (!mask || !series) continue;
    out.push({ name, series, mask: path.join(d, mask) });
  }
  return out;
}

export interface CaseResult {
  name: string;
  ok: boolean;
  reason: string | null;
  /** Dice per level name (NaN when neither has the level) */
  dice: Record<string, number>;
  /** mean Dice of L1-L4 (over every case, accepted or not) */
  meanDiceL1L4: number;
  /** every expert body L1-L5 carries its own label and no expert body carries another level's label (null when refused) */
  levelsRight: boolean | null;
  /** expert level -> our label covering most of it, where they differ */
  wrongLevels: { truth: string; pred: string }[];
  /** CSF / L1-L4 median intensity ratio (the fat/water contrast check), when measured */
  csfToBodyRatio: number | null;
  /** CSF / subcutaneous fat median intensity ratio, when both were measured */
  csfToFatRatio: number | null;
  /** what the expert mask says is in the field of view (see `inView`) */
  inView: InView;
  seconds: number;
}

/**
 * Whether L1 and S1 are in the field of view, judged from the expert mask alone, by the product's own criteria:
 * - L1: the expert's L1 does not reach the in-plane edge on its mid-sagittal slice +- 1 (the gate's "cut by the
 *   edge" rule, `cutByEdge`, applied to the expert's L1);
 * - S1: at least half of S1 is in view: the centre of S1, one level below L5's centre along the column (L5's centre
 *   plus the L4->L5 step; neither site's experts trace S1), lies inside the image (the gate accepts an S1 at the
 *   lower edge with at least half a body height of it in view).
 * The issue's assessability target counts only series with both in view.
 */
export interface InView {
  l1: boolean;
  s1: boolean;
}

export function inView(truth: LabelMap): InView {
  const bodies = bodiesFromLevelMap(truth, [
    { level: 'L1', label: 1 },
    { level: 'L4', label: 4 },
    { level: 'L5', label: 5 },
  ]);
  const [l1, l4, l5] = ['L1', 'L4', 'L5'].map((lv) => bodies.find((b) => b.level === lv));
  const [nx, ny, nz] = truth.dims;
  const l1In = !!l1 && !cutByEdge(truth, l1, roiHalfSlices(DEFAULT_ROI_SPEC));
  let s1In = false;
  if (l4 && l5) {
    const c = [0, 1, 2].map((a) => 2 * l5.centroidIndex[a] - l4.centroidIndex[a]);
    s1In = c[0] >= 0 && c[0] <= nx - 1 && c[1] >= 0 && c[1] <= ny - 1 && c[2] >= 0 && c[2] <= nz - 1;
  }
  return { l1: l1In, s1: s1In };
}

const NAME_OF: Record<number, string> = { 0: 'none', 1: 'L1', 2: 'L2', 3: 'L3', 4: 'L4', 5: 'L5', 9: 'T9', 10: 'T10', 11: 'T11', 12: 'T12', 20: 'S1' };

/** Compares an analysis with the expert mask (same grid). */
export function scoreCase(name: string, res: SeriesAnalysis, truth: LabelMap, seconds: number): CaseResult {
  const empty: LabelMap = { ...truth, data: new Uint8Array(truth.data.length) };
  const pred = res.levels ?? empty;
  const labels = EVAL_LEVELS.map((l) => l.label);
  const d = diceByLabel(pred, truth, labels);
  const dice: Record<string, number> = {};
  for (const l of EVAL_LEVELS) dice[l.name] = d[l.label];
  const l14 = ['L1', 'L2', 'L3', 'L4'].map((n) => (Number.isNaN(dice[n]) ? 0 : dice[n]));
  const meanDiceL1L4 = l14.reduce((a, b) => a + b, 0) / 4;
  const wrongLevels: { truth: string; pred: string }[] = [];
  for (const { truth: t, pred: p } of labelAgreement(pred, truth, [...labels, 11]).wrong) {
    // Thoracic bodies may stay unlabelled (0) at the top of the chain; a lumbar body must carry its own label.
    if (!(t >= 1 && t <= 5) && p === 0) continue;
    wrongLevels.push({ truth: NAME_OF[t] ?? String(t), pred: NAME_OF[p] ?? String(p) });
  }
  return {
    name,
    ok: res.ok,
    reason: res.reason ?? null,
    dice,
    meanDiceL1L4,
    levelsRight: res.ok ? wrongLevels.length === 0 : null,
    wrongLevels,
    csfToBodyRatio: res.csfToBodyRatio ?? null,
    csfToFatRatio: res.csfToBodyRatio !== undefined && res.fatToBodyRatio ? res.csfToBodyRatio / res.fatToBodyRatio : null,
    inView: inView(truth),
    seconds,
  };
}

export interface EvaluatedCase {
  result: CaseResult;
  analysis: SeriesAnalysis;
  vol: Volume;
  truth: LabelMap;
}

/** Loads one case, runs the single-series analysis and scores it. */
export async function evaluateCase(c: RealCase, segmenter: Segmenter, opts: { sequence?: Sequence; roi?: RoiSpec } = {}): Promise<EvaluatedCase> {
  const vol = await loadSeries(c.series);
  const mask = readNiftiLabelMap(c.mask);
  if (mask.dims.join('x') !== vol.dims.join('x')) {
    throw new Error(`${c.name}: mask grid ${mask.dims.join('x')} differs from the series grid ${vol.dims.join('x')}`);
  }
  // The masks are on the series' voxel grid (same voxel order); their header geometry is not trusted.
  const truth: LabelMap = { dims: [...vol.dims], spacing: [...vol.spacing], origin: [...vol.origin], direction: [...vol.direction], data: mask.data };
  const t0 = performance.now();
  const analysis = await analyseSeries(vol, segmenter, opts.sequence, { roi: opts.roi });
  const seconds = (performance.now() - t0) / 1000;
  return { result: scoreCase(c.name, analysis, truth, seconds), analysis, vol, truth };
}

export interface EvalSummary {
  cases: number;
  assessable: number;
  /** mean Dice L1-L4 over the assessable cases (NaN when none) */
  meanDiceAccepted: number;
  /** mean Dice L1-L4 over every case (refused cases count with what the labelling produced, 0 where nothing) */
  meanDiceAll: number;
  levelsRight: number;
  /** accepted cases with any level wrong: the error that must never happen (counted apart from refusals) */
  wrongLevelAcceptances: number;
  /** cases with L1 and S1 in the field of view (by the expert mask, `inView`), and how many of them are assessable */
  inView: number;
  assessableInView: number;
  seconds: number;
}

export function summarise(results: CaseResult[]): EvalSummary {
  const acc = results.filter((r) => r.ok);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return {
    cases: results.length,
    assessable: acc.length,
    meanDiceAccepted: mean(acc.map((r) => r.meanDiceL1L4)),
    meanDiceAll: mean(results.map((r) => r.meanDiceL1L4)),
    levelsRight: acc.filter((r) => r.levelsRight).length,
    wrongLevelAcceptances: acc.filter((r) => r.levelsRight === false).length,
    inView: results.filter((r) => r.inView.l1 && r.inView.s1).length,
    assessableInView: acc.filter((r) => r.inView.l1 && r.inView.s1).length,
    seconds: results.reduce((a, r) => a + r.seconds, 0),
  };
}

const f3 = (x: number) => (Number.isNaN(x) ? '  -  ' : x.toFixed(3));

export function formatRow(r: CaseResult): string {
  const verdict = r.ok ? 'assessable' : 'refused   ';
  const dice = EVAL_LEVELS.map((l) => `${l.name} ${f3(r.dice[l.name])}`).join('  ');
  const levels = r.levelsRight === null ? 'levels -    ' : r.levelsRight ? 'levels right' : 'levels WRONG';
  const wrong = r.wrongLevels.length ? ` (${r.wrongLevels.map((w) => `${w.truth}->${w.pred}`).join(', ')})` : '';
  const csf = (r.csfToBodyRatio === null ? '' : `  CSF/body ${r.csfToBodyRatio.toFixed(2)}`) + (r.csfToFatRatio === null ? '' : `  CSF/fat ${r.csfToFatRatio.toFixed(2)}`);
  const view = r.inView.l1 && r.inView.s1 ? '' : `  (expert mask: ${[r.inView.l1 ? '' : 'L1 cut by the edge', r.inView.s1 ? '' : 'S1 not in view'].filter(Boolean).join(', ')})`;
  return `${r.name.padEnd(10)} ${verdict}  ${dice}  meanL1-L4 ${f3(r.meanDiceL1L4)}  ${levels}${wrong}${csf}${view}  ${r.seconds.toFixed(1)}s${r.reason ? `  reason: ${r.reason}` : ''}`;
}

/** One summary line; `label` names a site ("site NAME: ...") instead of the overall "summary: ...". */
export function formatSummary(s: EvalSummary, label?: string): string {
  return (
    `${label ? `site ${label}` : 'summary'}: assessable ${s.assessable}/${s.cases}; mean Dice L1-L4 ${f3(s.meanDiceAccepted)} (accepted), ${f3(s.meanDiceAll)} (all cases); ` +
    `levels correct ${s.levelsRight}/${s.assessable} accepted; wrong-level acceptances ${s.wrongLevelAcceptances}; refused ${s.cases - s.assessable}; ` +
    `with L1 and S1 in view (expert mask) assessable ${s.assessableInView}/${s.inView}; ${s.seconds.toFixed(1)} s analysis`
  );
}
