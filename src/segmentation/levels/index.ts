/**
 * Level labelling: which vertebral body is L1, L2, ... L5. Read it in this order:
 *  1. ./column.ts      the column as vertebrae (components on the column, pieces of one vertebra merged,
 *                      fragments dropped), with heights, links, angles and disc gaps;
 *  2. ./evidence/      each piece of anatomical evidence about S1 on its own (network sacrum class, lumbosacral
 *                      angle, disc pattern, end of the thecal sac), voting for or against elements as S1;
 *  3. ./decide.ts      the one place where the votes are combined: accept, or refuse naming the conflict;
 *  4. here             counting up from S1 (L5, L4, ... T11) and the integrity checks of the count (five bodies
 *                      above S1, regular spacing, L5 next to S1), then the level map.
 * Refuses (ok = false, with the reason in words) instead of guessing.
 */
import type { LabelMap, Vec3 } from '../../volume/types.js';
import { buildColumn, fmtZ, median, type ColumnOptions, type Element } from './column.js';
import { decideS1 } from './decide.js';
import { S1_EVIDENCE } from './evidence/index.js';
import { dist } from '../spine-chain.js';

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
  /** how the column was read and what each piece of evidence said */
  debug?: string[];
  /** every vote of every piece of S1 evidence, placed at the element it is about (for the overlay) */
  evidence?: EvidenceMark[];
}

export interface EvidenceMark {
  evidence: string;
  support: 'for' | 'against';
  strength: 'strong' | 'weak';
  why: string;
  /** the element voted on, as S1: its centroid in voxel indices */
  centroidIndex: Vec3;
  /** whether the decision took this element as S1 */
  chosen: boolean;
}

export interface LevelOptions extends ColumnOptions {
  /** allowed ratio of each inter-body distance L5..L1 to their median (default [0.6, 1.5]) */
  spacingRatio?: [number, number];
}

function emptyLike(g: LabelMap): LabelMap {
  return { dims: [...g.dims], spacing: [...g.spacing], origin: [...g.origin], direction: [...g.direction], data: new Uint8Array(g.data.length) };
}

/** L5 must be next to S1: at most this much free space (in median body heights) between them along the column, or
 * where the column line misses S1, a centroid distance of at most this many level spacings. No two of L1..S1 may
 * overlap along the column by more than `maxOverlapHeights` body heights (measured healthy overlaps, from tilted
 * endplates near the line: up to 4 mm, about 0.13 body heights). */
export const L5_S1 = { maxFreeHeights: 0.8, maxCentroidSpacings: 1.6, maxOverlapHeights: 0.2 };

const NAMES = ['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'T10', 'T9', 'T8'];

export function labelLevels(classes: LabelMap, opts: LevelOptions = {}): LevelResult {
  const [rLo, rHi] = opts.spacingRatio ?? [0.6, 1.5];
  const levels = emptyLike(classes);
  const col = buildColumn(classes, opts);
  const debug = col.debug;
  const marks: EvidenceMark[] = [];
  const fail = (reason: string): LevelResult => ({ ok: false, reason, levels, bodies: [], debug, evidence: marks });
  const elems = col.elements;
  if (elems.length < 2) return fail('sacrum (S1) not found in the field of view: lumbar levels cannot be identified');

  // S1 from the combined evidence.
  const evidence = S1_EVIDENCE.map((f) => f(col));
  const decision = decideS1(col, evidence);
  debug.push(...decision.lines);
  for (const ev of evidence) {
    for (const v of ev.votes) marks.push({ evidence: ev.name, support: v.support, strength: v.strength, why: v.why, centroidIndex: elems[v.s1].centroidIndex, chosen: v.s1 === decision.s1 });
  }
  if (decision.s1 === undefined) return fail(decision.reason!);
  const s1 = decision.s1;
  const sacrum = elems[s1];
  const chain = elems.slice(0, s1).reverse(); // L5 first
  if (chain.length < 5) return fail(`only ${chain.length} vertebral bodies found above the sacrum: L1-L5 are not all in the field of view`);

  // Integrity of the count: regular spacing L5..L1 (a missed body doubles a gap; pieces of one body were merged in
  // ./column.ts, so a halved gap is a split that merging could not explain). Above L1 only a split is checked:
  // thin thoracic discs may let T12/T11 merge, which does not affect L1-L4.
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
  // No two vertebrae overlap along the column: a disc separates them. A large overlap means an element holds parts of
  // two vertebrae (a body split across a disc, or two bodies joined), so the count cannot be trusted.
  for (let n = Math.max(1, s1 - 5); n <= s1; n++) {
    const g = col.links[n]!.gapMm;
    if (g < -L5_S1.maxOverlapHeights * col.bodyHeight) {
      const name = (i: number) => (i === s1 ? 'S1' : NAMES[s1 - 1 - i]);
      return fail(`level identification ambiguous: ${name(n - 1)} and ${name(n)} overlap by ${(-g).toFixed(0)} mm along the column: a body split or joined across a disc`);
    }
  }
  // L5 next to S1: the free space between them along the column is a disc, not a missed body (a body and two discs
  // are about a body height or more). Where the column line misses S1 (a marked listhesis), the centroid distance
  // (S1's centroid lies lower in a large sacral element) must stay within 1.6 level spacings.
  const l5Gap = dist(chain[0].centroid, sacrum.centroid) / med;
  const disc = col.links[s1]!.gapMm;
  debug.push(`L5-S1: free space ${disc.toFixed(0)} mm along the column (median body height ${col.bodyHeight.toFixed(0)} mm); centroid distance ${l5Gap.toFixed(2)} x the median level spacing; S1 ${Math.round(100 * sacrum.sacFrac)}% sacrum at ${fmtZ(sacrum.centroid[2])}`);
  if (Number.isFinite(disc) ? disc > L5_S1.maxFreeHeights * col.bodyHeight : l5Gap > L5_S1.maxCentroidSpacings) {
    return fail(`level identification ambiguous: lowest lumbar body is not adjacent to the sacrum (${Number.isFinite(disc) ? `${disc.toFixed(0)} mm free space between them` : `centroid distance ratio ${l5Gap.toFixed(2)}`}): missed body?`);
  }
  if (l5Gap < 0.5) return fail(`level identification ambiguous: lowest lumbar body is too close to the sacrum (distance ratio ${l5Gap.toFixed(2)})`);

  // Labels.
  const maxId = col.cc.list.reduce((m, c) => Math.max(m, c.id), 0);
  const labelOf = new Int32Array(maxId + 1);
  const infos: BodyInfo[] = [];
  for (let n = 0; n < chain.length && n < NAMES.length; n++) {
    for (const p of chain[n].parts) labelOf[p.c.id] = LEVEL_LABEL[NAMES[n]];
    infos.push(bodyInfo(chain[n], NAMES[n]));
  }
  for (const p of sacrum.parts) labelOf[p.c.id] = LEVEL_LABEL.S1;
  infos.push(bodyInfo(sacrum, 'S1'));
  for (let v = 0; v < col.cc.ids.length; v++) {
    const id = col.cc.ids[v];
    if (id) levels.data[v] = labelOf[id];
  }
  return { ok: true, levels, bodies: infos, debug, evidence: marks };
}

function bodyInfo(e: Element, level: string): BodyInfo {
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
}
