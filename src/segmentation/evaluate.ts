/**
 * Evaluation helpers (tests, scripts/segmentation/evaluate.mjs, model card): Dice per level, level-label
 * accuracy, and the deliberately bad inputs of the QA gate (truncated field of view without the sacrum,
 * blank series).
 */
import type { RoiSpec } from './roi.js';
import type { LabelMap, Volume } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { planeFrame } from './slices.js';

/** Dice of each label between a predicted and a truth level map on the same grid (NaN when both empty). */
export function diceByLabel(pred: LabelMap, truth: LabelMap, labels: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const l of labels) {
    let a = 0;
    let b = 0;
    let ab = 0;
    for (let v = 0; v < truth.data.length; v++) {
      const p = pred.data[v] === l;
      const t = truth.data[v] === l;
      if (p) a++;
      if (t) b++;
      if (p && t) ab++;
    }
    out[l] = a + b === 0 ? NaN : (2 * ab) / (a + b);
  }
  return out;
}

/**
 * Level-label correctness: each truth body (label in `labels`) is matched to the predicted label that covers
 * most of its voxels (0 = missed); correct when that label equals the truth label.
 */
export function labelAgreement(pred: LabelMap, truth: LabelMap, labels: number[]): { correct: number; total: number; wrong: { truth: number; pred: number }[] } {
  let correct = 0;
  let total = 0;
  const wrong: { truth: number; pred: number }[] = [];
  for (const l of labels) {
    const counts = new Map<number, number>();
    let n = 0;
    for (let v = 0; v < truth.data.length; v++) {
      if (truth.data[v] !== l) continue;
      n++;
      const p = pred.data[v];
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    if (n === 0) continue;
    total++;
    let best = 0;
    let bestN = -1;
    for (const [p, c] of counts) if (c > bestN) [best, bestN] = [p, c];
    if (best === l) correct++;
    else wrong.push({ truth: l, pred: best });
  }
  return { correct, total, wrong };
}

/** Sub-volume of rows [r0, r1) along native in-plane axis `axis` (0 = i, 1 = j). */
export function cropInPlane<T extends Volume | LabelMap>(vol: T, axis: 0 | 1, r0: number, r1: number): T {
  const [nx, ny, nz] = vol.dims;
  const dims: [number, number, number] = axis === 0 ? [r1 - r0, ny, nz] : [nx, r1 - r0, nz];
  const Ctor = vol.data.constructor as new (n: number) => T['data'];
  const data = new Ctor(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const si = axis === 0 ? i + r0 : i;
        const sj = axis === 1 ? j + r0 : j;
        data[i + j * dims[0] + k * dims[0] * dims[1]] = vol.data[si + sj * nx + k * nx * ny];
      }
  const origin = indexToPoint(vol, axis === 0 ? r0 : 0, axis === 1 ? r0 : 0, 0);
  return { ...vol, dims, origin, data } as T;
}

/**
 * Truncates the field of view from below so that no voxel of the sacrum (truth labels `sacral`) remains:
 * keeps only the rows superior to the most superior sacral row. Returns null for a non-sagittal geometry.
 */
export function truncateAboveSacrum<T extends Volume>(vol: T, truth: LabelMap, sacral = [20, 21]): { vol: T; truth: LabelMap } | null {
  const fr = planeFrame(vol);
  if ('error' in fr) return null;
  const axis = fr.rowAxis;
  const [nx, ny] = vol.dims;
  const n = vol.dims[axis];
  const has = new Uint8Array(n);
  const set = new Set(sacral);
  for (let v = 0; v < truth.data.length; v++) {
    if (!set.has(truth.data[v])) continue;
    const r = v % (nx * ny);
    const idx = axis === 0 ? r % nx : Math.floor(r / nx);
    has[idx] = 1;
  }
  // rowSign 1: increasing index goes inferior -> keep [0, first sacral row)
  if (fr.rowSign === 1) {
    let first = has.indexOf(1);
    if (first < 0) first = n;
    return { vol: cropInPlane(vol, axis, 0, first), truth: cropInPlane(truth, axis, 0, first) };
  }
  let last = has.lastIndexOf(1);
  return { vol: cropInPlane(vol, axis, last + 1, n), truth: cropInPlane(truth, axis, last + 1, n) };
}

export function blankLike(vol: Volume): Volume {
  return { ...vol, data: new Float32Array(vol.data.length) };
}

export interface HeldOutOptions {
  /** phantom generator seed (never used for training: training used namespace "segtrain" and seed 424242) */
  seed: number;
  first?: number;
  count: number;
  /** also run the deliberately bad inputs on every `badEvery`-th study (default 1 = all; 0 = none) */
  badEvery?: number;
  /** ROI rule (default DEFAULT_ROI_SPEC) */
  roi?: RoiSpec;
  log?: (s: string) => void;
}

export interface HeldOutReport {
  studies: number;
  /** Dice per level (L1..L4) over the series (T1 and T2) of studies accepted by the QA gate */
  dice: Record<'L1' | 'L2' | 'L3' | 'L4', { mean: number; min: number; n: number }>;
  /** same over every series where the level was labelled, accepted or not */
  diceAll: Record<'L1' | 'L2' | 'L3' | 'L4', { mean: number; min: number; n: number }>;
  /** level labels L1-L5 correct / total over series of accepted studies */
  labels: { correct: number; total: number; accuracy: number };
  good: { total: number; rejected: number; reasons: string[] };
  bad: Record<'truncated' | 't2AsT1' | 'blank', { total: number; rejected: number; accepted: string[] }>;
  seconds: number;
}

/** Runs the QA-gated analysis on held-out phantom studies and the bad-input variants. */
export async function evaluateHeldOut(segmenter: import('./segmenter.js').Segmenter, o: HeldOutOptions): Promise<HeldOutReport> {
  const { generateStudy, VENDORS } = await import('../phantom/index.js');
  const { analyseSpine } = await import('./analyse.js');
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const diceVals: Record<string, number[]> = { L1: [], L2: [], L3: [], L4: [] };
  const diceAllVals: Record<string, number[]> = { L1: [], L2: [], L3: [], L4: [] };
  const labels = { correct: 0, total: 0, accuracy: NaN };
  const good = { total: 0, rejected: 0, reasons: [] as string[] };
  const bad = {
    truncated: { total: 0, rejected: 0, accepted: [] as string[] },
    t2AsT1: { total: 0, rejected: 0, accepted: [] as string[] },
    blank: { total: 0, rejected: 0, accepted: [] as string[] },
  };
  const first = o.first ?? 0;
  const badEvery = o.badEvery ?? 1;
  for (let n = first; n < first + o.count; n++) {
    const st = generateStudy({ seed: o.seed, index: n, vendor: VENDORS[n % VENDORS.length], bone: n % 2 ? 'low' : 'normal', roles: ['t1', 't2'] });
    const ser = (role: string) => {
      const s = st.series.find((x) => x.role === role)!;
      return { vol: { ...s.geometry!, data: s.image } as Volume, truth: { ...s.geometry!, data: s.levels } as LabelMap };
    };
    const t1 = ser('t1');
    const t2 = ser('t2');
    const res = await analyseSpine(t1.vol, t2.vol, { segmenter, roi: o.roi });
    good.total++;
    const id = `seed ${o.seed} #${n} ${st.vendor} ${st.bone}`;
    for (const [a, t] of [
      [res.t1, t1.truth],
      [res.t2, t2.truth],
    ] as const) {
      if (!a.levels) continue;
      const d = diceByLabel(a.levels, t, [1, 2, 3, 4]);
      const lv = new Set(a.bodies.map((b) => b.label));
      for (const l of [1, 2, 3, 4]) {
        if (!lv.has(l) || !Number.isFinite(d[l])) continue;
        diceAllVals[`L${l}`].push(d[l]);
        if (res.ok) diceVals[`L${l}`].push(d[l]);
      }
      if (res.ok) {
        const la = labelAgreement(a.levels, t, [1, 2, 3, 4, 5]);
        labels.correct += la.correct;
        labels.total += la.total;
      }
    }
    if (!res.ok) {
      good.rejected++;
      good.reasons.push(`${id}: ${res.reason}`);
    }
    log(`${id}: ${res.ok ? 'ok' : `rejected (${res.reason})`} agreement=${JSON.stringify(res.agreement ?? {})}`);
    if (badEvery > 0 && (n - first) % badEvery === 0) {
      const tr1 = truncateAboveSacrum(t1.vol, t1.truth);
      const tr2 = truncateAboveSacrum(t2.vol, t2.truth);
      if (tr1 && tr2) {
        const r = await analyseSpine(tr1.vol, tr2.vol, { segmenter, roi: o.roi });
        bad.truncated.total++;
        if (!r.ok) bad.truncated.rejected++;
        else bad.truncated.accepted.push(id);
        log(`${id} truncated: ${r.ok ? 'ACCEPTED' : r.reason}`);
      }
      const r2 = await analyseSpine(t2.vol, t2.vol, { segmenter, roi: o.roi });
      bad.t2AsT1.total++;
      if (!r2.ok) bad.t2AsT1.rejected++;
      else bad.t2AsT1.accepted.push(id);
      log(`${id} T2 as T1: ${r2.ok ? 'ACCEPTED' : r2.reason}`);
      const r3 = await analyseSpine(blankLike(t1.vol), t2.vol, { segmenter, roi: o.roi });
      bad.blank.total++;
      if (!r3.ok) bad.blank.rejected++;
      else bad.blank.accepted.push(id);
    }
  }
  labels.accuracy = labels.total ? labels.correct / labels.total : NaN;
  const summarise = (vals: Record<string, number[]>) => {
    const out = {} as HeldOutReport['dice'];
    for (const l of ['L1', 'L2', 'L3', 'L4'] as const) {
      const xs = vals[l];
      out[l] = { mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN, min: xs.length ? Math.min(...xs) : NaN, n: xs.length };
    }
    return out;
  };
  return { studies: o.count, dice: summarise(diceVals), diceAll: summarise(diceAllVals), labels, good, bad, seconds: (performance.now() - t0) / 1000 };
}

/** Markdown table of a held-out report (printed by the test and pasted into the model card). */
export function reportTable(r: HeldOutReport): string {
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)} % (${a}/${b})` : 'n/a');
  const rows = [
    '| metric | value | target |',
    '|---|---|---|',
    ...(['L1', 'L2', 'L3', 'L4'] as const).map(
      (l) =>
        `| Dice ${l}: accepted studies (mean, min; n series) / all labelled series | ${r.dice[l].mean.toFixed(3)}, ${r.dice[l].min.toFixed(3)}; ${r.dice[l].n} / ${r.diceAll[l].mean.toFixed(3)}, ${r.diceAll[l].min.toFixed(3)}; ${r.diceAll[l].n} | mean >= 0.90 |`,
    ),
    `| level labels L1-L5 correct (accepted studies) | ${pct(r.labels.correct, r.labels.total)} | >= 98 % |`,
    `| good studies rejected by QA | ${pct(r.good.rejected, r.good.total)} | < 5 % |`,
    `| bad: truncated FOV without sacrum rejected | ${pct(r.bad.truncated.rejected, r.bad.truncated.total)} | >= 95 % |`,
    `| bad: T2 series passed as T1 rejected | ${pct(r.bad.t2AsT1.rejected, r.bad.t2AsT1.total)} | >= 95 % |`,
    `| bad: blank series rejected | ${pct(r.bad.blank.rejected, r.bad.blank.total)} | >= 95 % |`,
  ];
  return rows.join('\n');
}
