/**
 * Labelled re-calibration of the cut-off (and the logistic probability map) of a model whose normalisation is kept:
 * the service's labelled proposal (src/outcomes/proposal.ts) and `osteoscreen calibrate --labels --cutoff-only`
 * both call this, so the same features, labels and options give the same model file, hash included.
 */
import { OsteoError } from '../common/errors.js';
import type { LabelRow } from './labels.js';
import { finaliseModel } from './load.js';
import type { RadscoreModel, UnhashedModel } from './schema.js';
import { fitProbabilityMap, scoreRows } from './evaluate.js';
import { rocCurve, youdenCutoff } from './stats/roc.js';
import { cutoffForSensitivity } from './stats/proportion.js';
import type { FeatureTable } from './table.js';

export type CutoffMethod = 'youden' | 'sensitivity';

export interface RefitOptions {
  method: CutoffMethod;
  /** With method "sensitivity": the sensitivity the new cut-off must keep. */
  targetSensitivity?: number;
  /** ISO date recorded in the provenance (the service passes the newest labelled study's time). */
  date: string;
  name?: string;
  version?: string;
  scanner?: string;
  /** Where features and labels came from (file names and hashes, no patient data). */
  featuresName?: string;
  labelsName?: string;
  labelsHash?: string;
  minRows?: number;
}

export interface RefitResult {
  model: RadscoreModel;
  n: number;
  nAbnormal: number;
  nNormal: number;
  before: number;
  after: number;
  /** The labelled rows' scores (with the model as given) and labels, in table order. */
  ids: string[];
  scores: number[];
  labels: (0 | 1)[];
}

/** Describes the cut-off rule in words (provenance, page). */
export function cutoffRuleText(method: CutoffMethod, target?: number): string {
  return method === 'youden' ? 'Youden (max sensitivity + specificity)' : `highest cut-off with sensitivity >= ${target}`;
}

export function refitCutoff(model: RadscoreModel, table: FeatureTable, labels: LabelRow[], opts: RefitOptions): RefitResult {
  if (Number.isNaN(Date.parse(opts.date))) throw new OsteoError('calibrate-bad-date', `not an ISO date: ${opts.date}`);
  if (opts.method === 'sensitivity' && !(opts.targetSensitivity! > 0 && opts.targetSensitivity! <= 1)) {
    throw new OsteoError('calibrate-bad-target', 'a target sensitivity in (0, 1] is needed');
  }
  const byId = new Map(labels.map((l) => [l.id, l]));
  const rows: number[] = [];
  table.ids.forEach((id, r) => {
    if (byId.get(id)?.label != null) rows.push(r);
  });
  const raw = scoreRows({ terms: model.terms, intercept: model.intercept, cutoff: model.cutoff }, table, rows);
  const keep = rows.map((_r, i) => i).filter((i) => raw[i] !== null);
  const ids = keep.map((i) => table.ids[rows[i]!]!);
  const scores = keep.map((i) => raw[i] as number);
  const y = ids.map((id) => byId.get(id)!.label as 0 | 1);
  const nAbnormal = y.filter((v) => v === 1).length;
  const nNormal = y.length - nAbnormal;
  const minRows = opts.minRows ?? 10;
  if (y.length < minRows || !nAbnormal || !nNormal) {
    throw new OsteoError('calibrate-too-few', `${y.length} labelled studies with every model term (${nAbnormal} abnormal, ${nNormal} normal): need at least ${minRows} with both classes`);
  }
  let after: number;
  if (opts.method === 'youden') after = youdenCutoff(scores, y).cutoff;
  else {
    const c = rocCurve(scores, y);
    const t = cutoffForSensitivity(c.thresholds, c.sensitivity, opts.targetSensitivity!);
    if (t === null) throw new OsteoError('calibrate-no-cutoff', `no cut-off reaches sensitivity ${opts.targetSensitivity}`);
    after = t;
  }
  const date = new Date(opts.date).toISOString();
  const next: UnhashedModel & { hash?: string } = structuredClone(model);
  delete next.hash;
  const before = next.cutoff;
  next.cutoff = after;
  next.probability = fitProbabilityMap(scores, y, `labelled cohort (${opts.labelsName ?? 'labels'})`);
  if (opts.name) next.name = opts.name;
  if (opts.version) next.version = opts.version;
  next.provenance = {
    ...next.provenance,
    notes: [
      ...(next.provenance.notes ?? []),
      `${date.slice(0, 10)}: cut-off re-fitted on ${y.length} labelled studies (${nAbnormal} abnormal / ${nNormal} normal)${opts.scanner ? ` of scanner ${opts.scanner}` : ''}, ` +
        `${cutoffRuleText(opts.method, opts.targetSensitivity)}: ${before} -> ${after}; normalisation kept` +
        `${opts.featuresName ? `; features ${opts.featuresName}` : ''}${opts.labelsName ? `; labels ${opts.labelsName}${opts.labelsHash ? ` (${opts.labelsHash})` : ''}` : ''}`,
    ],
    cutoffs: { ...(next.provenance.cutoffs ?? {}), labelled: after },
  };
  return { model: finaliseModel(next), n: y.length, nAbnormal, nNormal, before, after, ids, scores, labels: y };
}
