/**
 * Level labelling: 3-D components of the body and sacrum classes, kept only where they lie on the spinal column
 * (./spine-chain.ts: a body's depth in front of the spinal canal), grouped per vertebra, ordered cranio-caudally
 * and counted upward from the lumbosacral junction: L5, L4, L3, L2, L1, T12, T11, ...
 *
 * S1 is found from two independent kinds of evidence, which must find the same element:
 *  - the network's sacrum class (the most cranial column element that is mostly "sacrum"): required;
 *  - the shape of the column: the lumbosacral angle. Above S1 the lumbar column bends gently (lordosis, a few
 *    degrees per level); the link from L5 to S1 turns sharply backwards, because the sacrum is tilted. The first
 *    sharp backward turn from the top marks S1. Where the column shows no such turn the sacrum class decides.
 * Either way S1 must have the sacrum below it in the field of view (its centre at least 0.8 level above the lower
 * edge): the network may call the last body of a field of view cut above the sacrum "sacrum".
 * Refuses (returns a reason) instead of guessing when neither finds the junction, when they disagree, when a
 * lumbar body is mixed with sacrum (transitional anatomy), when the spacing between bodies is irregular (a
 * missed or split body), or when fewer than five bodies lie above the sacrum.
 */
import type { LabelMap, Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { splitComponents, type Component } from './components.js';
import { CHAIN_DEFAULTS, dist, findCanal, linkAngle, onColumn, type Candidate, type ChainOptions } from './spine-chain.js';
import { CLASS } from './segmenter.js';

export type LumbarLevel = 'L1' | 'L2' | 'L3' | 'L4' | 'L5';
/** Level label values, as in the phantom ground truth: L1=1..L5=5, T12=12, T11=11 (..T1=1 is never used), S1=20. */
export const LEVEL_LABEL: Record<string, number> = { L1: 1, L2: 2, L3: 3, L4: 4, L5: 5, T12: 12, T11: 11, T10: 10, T9: 9, T8: 8, S1: 20 };
export const LUMBAR_LEVELS: LumbarLevel[] = ['L1', 'L2', 'L3', 'L4', 'L5'];

export interface BodyInfo {
  /** 'L1'..'L5', 'T12', 'T11', ... or 'S1' */
  level: string;
  label: number;
  volumeMm3: number;
  /** LPS centroid (mm) */
  centroid: Vec3;
  /** centroid in voxel indices */
  centroidIndex: Vec3;
  /** slice (k) through the body's centre */
  midSlice: number;
  /** component id in `ids` */
  componentId: number;
  /** voxels of the component */
  voxels: number;
  bbox: { min: Vec3; max: Vec3 };
}

export interface LevelResult {
  ok: boolean;
  reason?: string;
  /** level label map on the series grid (values of LEVEL_LABEL) */
  levels: LabelMap;
  bodies: BodyInfo[];
  /** components kept / dropped and why */
  debug?: string[];
}

export interface LevelOptions {
  /** components smaller than this are treated as fragments and ignored (mm^3) */
  minBodyMm3?: number;
  /** minimum sacrum component volume (mm^3) */
  minSacrumMm3?: number;
  /** allowed ratio of each inter-body distance to the median (default [0.6, 1.5]) */
  spacingRatio?: [number, number];
  /** maximal fraction of the minority class in a body/sacrum component (transitional anatomy), default 0.3 */
  maxMixedFraction?: number;
  /** in-plane erosion (mm) that cuts thin bridges between bodies before labelling components (default 2.5) */
  splitErosionMm?: number;
  /** erosion across slices (mm, rounded to whole slices, at least 1) for the same purpose (default 11) */
  splitLateralMm?: number;
  /** components smaller than this fraction of the median component volume are fragments (default 0.3) */
  minRelativeVolume?: number;
  /** backward turn of the column (degrees) that marks the lumbosacral junction (default 20) */
  sacralTurnDeg?: number;
  /** S1's centre must lie at least this many level spacings above the lower edge of the field of view (default 0.8) */
  minSacralRoomLevels?: number;
  /** which components count as on the spinal column */
  chain?: Partial<ChainOptions>;
}

function emptyLike(g: LabelMap): LabelMap {
  return { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction], data: new Uint8Array(g.data.length) };
}

/** One vertebra on the column: one or more components (a body split by the bridge cutting stays one vertebra). */
interface Element {
  parts: Candidate[];
  vol: number;
  sacVox: number;
  voxels: number;
  centroid: Vec3;
  centroidIndex: Vec3;
}

function element(parts: Candidate[]): Element {
  let vol = 0;
  let voxels = 0;
  let sacVox = 0;
  const c: Vec3 = [0, 0, 0];
  const ci: Vec3 = [0, 0, 0];
  for (const p of parts) {
    vol += p.vol;
    voxels += p.c.voxels;
    sacVox += p.sacFrac * p.c.voxels;
    for (let a = 0; a < 3; a++) {
      c[a] += p.centroid[a] * p.c.voxels;
      ci[a] += p.c.centroidIndex[a] * p.c.voxels;
    }
  }
  for (let a = 0; a < 3; a++) {
    c[a] /= voxels;
    ci[a] /= voxels;
  }
  return { parts, vol, sacVox, voxels, centroid: c, centroidIndex: ci };
}

const sacFrac = (e: Element) => e.sacVox / e.voxels;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

function zRange(g: LabelMap, e: Element): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of e.parts) for (const i of [p.c.min[0], p.c.max[0]]) for (const j of [p.c.min[1], p.c.max[1]]) for (const k of [p.c.min[2], p.c.max[2]]) {
    const z = indexToPoint(g, i, j, k)[2];
    lo = Math.min(lo, z);
    hi = Math.max(hi, z);
  }
  return [lo, hi];
}

const fmtZ = (p: Vec3) => `z ${p[2].toFixed(0)} mm`;

/** Lowest z (mm) of the field of view (its lowest corner; sagittal stacks are near-upright). */
function fovBottom(g: LabelMap): number {
  const [nx, ny, nz] = g.dims;
  let zMin = Infinity;
  for (const i of [0, nx - 1]) for (const j of [0, ny - 1]) for (const k of [0, nz - 1]) zMin = Math.min(zMin, indexToPoint(g, i, j, k)[2]);
  return zMin;
}

export function labelLevels(classes: LabelMap, opts: LevelOptions = {}): LevelResult {
  const minBody = opts.minBodyMm3 ?? 2000;
  const minSacrum = opts.minSacrumMm3 ?? 4000;
  const [rLo, rHi] = opts.spacingRatio ?? [0.6, 1.5];
  const maxMixed = opts.maxMixedFraction ?? 0.3;
  const minRel = opts.minRelativeVolume ?? 0.3;
  const splitMm = opts.splitErosionMm ?? 2.5;
  const turnDeg = opts.sacralTurnDeg ?? 20;
  const minRoomLevels = opts.minSacralRoomLevels ?? 0.8;
  const voxMm3 = classes.spacing[0] * classes.spacing[1] * classes.spacing[2];
  const levels = emptyLike(classes);
  const debug: string[] = [];
  const fail = (reason: string, bodies: BodyInfo[] = []): LevelResult => ({ ok: false, reason, levels, bodies, debug });

  const lateral = Math.max(1, Math.round((opts.splitLateralMm ?? 11) / classes.spacing[2]));
  const cc = splitComponents(classes.data, classes.dims, classes.spacing, (v) => v === CLASS.body || v === CLASS.sacrum, splitMm, lateral);
  const nSac = new Float64Array(cc.list.length + 1);
  for (let v = 0; v < cc.ids.length; v++) if (cc.ids[v] && classes.data[v] === CLASS.sacrum) nSac[cc.ids[v]]++;
  const cands: Candidate[] = cc.list
    .map((c) => ({ c, vol: c.voxels * voxMm3, sacFrac: nSac[c.id] / c.voxels, centroid: indexToPoint(classes, ...c.centroidIndex) }))
    .filter((x) => x.vol >= minBody);

  // 1. Only what lies on the spinal column.
  const canal = findCanal(classes, CLASS.csf);
  debug.push(canal ? `spinal canal (CSF) found from ${fmtZ([0, 0, canal.zMax])} down to ${fmtZ([0, 0, canal.zMin])}` : 'no spinal canal (CSF) found: column from the body centroids');
  const { on, off } = onColumn(cands, canal, { ...CHAIN_DEFAULTS, ...opts.chain });
  for (const o of off) debug.push(`dropped ${(o.x.vol / 1000).toFixed(1)} cm3 at ${fmtZ(o.x.centroid)}: ${o.why}`);

  // 2. Group into vertebrae (pieces closer than half a level belong together), top to bottom; drop fragments.
  on.sort((a, b) => b.centroid[2] - a.centroid[2]);
  const bigVol = median(on.filter((x) => x.vol >= 10000).map((x) => x.vol));
  const big = on.filter((x) => x.vol >= 0.4 * (bigVol || 0));
  const spacing0 = median(big.slice(1).map((x, n) => dist(x.centroid, big[n].centroid)));
  const groups: { parts: Candidate[] }[] = [];
  for (const x of on) {
    const last = groups[groups.length - 1];
    if (last && Number.isFinite(spacing0) && dist(element(last.parts).centroid, x.centroid) < 0.45 * spacing0) last.parts.push(x);
    else groups.push({ parts: [x] });
  }
  let elems = groups.map((g) => element(g.parts));
  const medVol = median(elems.map((e) => e.vol));
  elems = elems.filter((e) => {
    if (e.vol >= minRel * medVol) return true;
    debug.push(`dropped ${(e.vol / 1000).toFixed(1)} cm3 at ${fmtZ(e.centroid)}: fragment (< ${Math.round(minRel * 100)} % of the median element)`);
    return false;
  });
  debug.push(`column: ${elems.length} elements, ` + elems.map((e) => `${(e.vol / 1000).toFixed(0)}cm3${sacFrac(e) >= 0.05 ? `(${Math.round(100 * sacFrac(e))}% sacrum)` : ''}`).join(' '));
  if (elems.length < 2) return fail('sacrum (S1) not found in the field of view: lumbar levels cannot be identified');

  // 3. The lumbosacral junction. Angles of each link (n-1 -> n) and the turn at n.
  const angle = elems.map((e, n) => (n ? linkAngle(elems[n - 1].centroid, e.centroid) : NaN));
  const turn = elems.map((_, n) => (n >= 2 ? angle[n] - angle[n - 1] : NaN));
  const zFov = fovBottom(classes);
  const spacing = median(elems.slice(1).map((e, n) => dist(e.centroid, elems[n].centroid)));
  // S1 needs the sacrum below it in the field of view: with S2 (and more) below it, S1's centre lies at least
  // about one level above the lower edge. A field of view that ends in the L5/S1 disc leaves the last body's centre
  // about half a level above the edge, and the network may call that body "sacrum": it is not accepted as S1.
  const roomBelow = (e: Element) => e.centroid[2] - zFov >= minRoomLevels * spacing;
  const sacral = (e: Element, n: number) => n >= 1 && sacFrac(e) >= 0.5 && e.vol >= minSacrum;
  const netAny = elems.findIndex(sacral);
  const netIdx = elems.findIndex((e, n) => sacral(e, n) && roomBelow(e));
  // The lumbosacral angle: a sharp backward turn at the junction. Above S1 the lumbar column bends gently, below it
  // the sacral segments curve on (kyphosis), and higher up a stray turn (thoracolumbar kyphosis, a fragment) says
  // nothing about S1: where the sacrum class marks S1, only turns from the element above it to the element below it
  // count (a turn next to it disagrees and is refused: e.g. L5 called "sacrum", the real turn one element lower);
  // without a sacrum class, the first sharp turn from the top.
  let geoIdx = -1;
  const from = netIdx >= 0 ? Math.max(2, netIdx - 1) : 2;
  const to = netIdx >= 0 ? Math.min(elems.length - 1, netIdx + 1) : elems.length - 1;
  for (let n = from; n <= to; n++) {
    if (!(turn[n] >= turnDeg) || !roomBelow(elems[n])) continue;
    geoIdx = n;
    break;
  }
  debug.push(
    'links (deg from cranio-caudal, + backwards): ' + angle.slice(1).map((a, n) => `${a.toFixed(0)}${n >= 1 ? ` (turn ${turn[n + 1].toFixed(0)})` : ''}`).join(', '),
  );
  debug.push(`S1 by sacrum class: ${netIdx >= 0 ? fmtZ(elems[netIdx].centroid) : 'none'}; by lumbosacral angle: ${geoIdx >= 0 ? fmtZ(elems[geoIdx].centroid) : 'none'}`);
  // The sacrum class is required, and where the column shows a lumbosacral angle it must be at the same element.
  if (netAny >= 0 && netIdx !== netAny) {
    return fail(`level identification uncertain: the sacrum class marks an element at the lower edge of the field of view (${fmtZ(elems[netAny].centroid)}): the sacrum is cut off, S1 cannot be confirmed`);
  }
  if (netIdx < 0 && geoIdx < 0) return fail('sacrum (S1) not found in the field of view: lumbar levels cannot be identified');
  if (netIdx >= 0 && geoIdx >= 0 && netIdx !== geoIdx) {
    return fail(`level identification ambiguous: the sacrum class and the lumbosacral angle point to different S1 (${fmtZ(elems[netIdx].centroid)} vs ${fmtZ(elems[geoIdx].centroid)}): transitional anatomy?`);
  }
  if (geoIdx < 0) debug.push('S1 from the sacrum class; the column shows no sharp lumbosacral angle');
  if (netIdx < 0) {
    return fail(`level identification uncertain: the column turns back at ${fmtZ(elems[geoIdx].centroid)} but no sacrum is recognised there`);
  }
  const s1Idx = netIdx;
  const sacrum = elems[s1Idx];
  const chain = elems.slice(0, s1Idx).reverse(); // L5 first
  for (const [n, e] of chain.entries()) {
    if (n < 5 && sacFrac(e) > maxMixed && e.vol >= minSacrum) {
      return fail('level identification ambiguous: a body merges with the sacrum (transitional L5/S1 anatomy or fused segment)');
    }
  }
  if (chain.length < 5) return fail(`only ${chain.length} vertebral bodies found above the sacrum: L1-L5 are not all in the field of view`);

  // 4. Regular spacing L5..L1 (a missed body doubles a gap, a split body halves it). Above L1 only a split is
  // checked: thin thoracic discs may let T12/T11 merge, which does not affect L1-L4.
  const gaps: number[] = [];
  for (let n = 1; n < Math.min(chain.length, 5); n++) gaps.push(dist(chain[n].centroid, chain[n - 1].centroid));
  const med = median(gaps);
  for (let n = 0; n < gaps.length; n++) {
    const r = gaps[n] / med;
    if (r < rLo || r > rHi) {
      return fail(`level identification ambiguous: irregular spacing between bodies ${n + 1} and ${n + 2} above the sacrum (ratio ${r.toFixed(2)}): missed or split body`);
    }
  }
  if (chain.length > 5) {
    const r = dist(chain[5].centroid, chain[4].centroid) / med;
    if (r < rLo) return fail(`level identification ambiguous: the body above L1 is too close (ratio ${r.toFixed(2)}): split body`);
  }
  const l5Gap = dist(chain[0].centroid, sacrum.centroid) / med;
  const overlapMm = zRange(classes, sacrum)[1] - zRange(classes, chain[0])[0];
  debug.push(
    `L5-S1: centroid distance ${l5Gap.toFixed(2)} x the median level spacing; S1's top ${overlapMm.toFixed(0)} mm above L5's lowest point; S1 ${Math.round(100 * sacFrac(sacrum))}% sacrum`,
  );
  if (l5Gap < 0.5 || l5Gap > 1.6) {
    return fail(`level identification ambiguous: lowest lumbar body is not adjacent to the sacrum (distance ratio ${l5Gap.toFixed(2)})`);
  }

  // 5. Labels.
  const names = ['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'T10', 'T9', 'T8'];
  const labelOf = new Int32Array(cc.list.length + 1);
  const infos: BodyInfo[] = [];
  const info = (e: Element, level: string): BodyInfo => {
    const min: Vec3 = [Infinity, Infinity, Infinity];
    const max: Vec3 = [-Infinity, -Infinity, -Infinity];
    for (const p of e.parts) for (let a = 0; a < 3; a++) [min[a], max[a]] = [Math.min(min[a], p.c.min[a]), Math.max(max[a], p.c.max[a])];
    const main = e.parts.reduce((a, b) => (b.c.voxels > a.c.voxels ? b : a));
    return {
      level,
      label: LEVEL_LABEL[level],
      volumeMm3: e.vol,
      centroid: e.centroid,
      centroidIndex: [...e.centroidIndex] as Vec3,
      midSlice: Math.round(e.centroidIndex[2]),
      componentId: main.c.id,
      voxels: e.voxels,
      bbox: { min, max },
    };
  };
  for (let n = 0; n < chain.length && n < names.length; n++) {
    for (const p of chain[n].parts) labelOf[p.c.id] = LEVEL_LABEL[names[n]];
    infos.push(info(chain[n], names[n]));
  }
  for (const p of sacrum.parts) labelOf[p.c.id] = LEVEL_LABEL.S1;
  infos.push(info(sacrum, 'S1'));
  for (let v = 0; v < cc.ids.length; v++) {
    const id = cc.ids[v];
    if (id) levels.data[v] = labelOf[id];
  }
  return { ok: true, levels, bodies: infos, debug };
}
