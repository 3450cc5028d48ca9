/**
 * The vertebral column as a list of vertebrae ("elements"), top to bottom, measured once for every piece of level
 * evidence (./evidence/) to read.
 *
 * 1. Components of the body and sacrum classes, split at thin bridges (../components.ts `splitComponents`).
 * 2. Only those on the spinal column (../spine-chain.ts: a body's depth in front of the thecal sac).
 * 3. Pieces of one vertebra are merged into it BEFORE anything is counted or spaced: a body cut in two by a dark
 *    marrow focus, a Schmorl's node or an endplate defect, and partial-volume pieces on lateral slices. Two pieces
 *    belong to one vertebra when together they are no taller than one vertebral body (1.3 x the median body height
 *    along the column): two bodies with a disc between them are about twice as tall. Heights are measured along
 *    the column where the pieces are (the direction through the pieces around them), not along the image's z:
 *    a lordotic column tilts its bodies by 20-40 degrees, and a tilted body's z extent takes in most of its depth
 *    (at 3 T the median z extent was 42-49 mm for 26-30 mm tall bodies), so a partial T12 at the top of a tight
 *    field of view passed for a piece of L1.
 *    The other way round, a piece the network calls body that is taller than one vertebra can be holds two
 *    vertebrae joined across a disc (through an osteophyte or partial volume): it is cut at its waist, where its
 *    cross-section along the column is narrowest (under half the widest of its narrower side).
 * 4. Fragments (< 30 % of the median element volume) are dropped, with the reason.
 * 5. Per element: volume, sacrum-class fraction, centroid and height along the column; per link between
 *    neighbours: its direction (the lumbosacral angle reads it) and the gap between the two elements along it, i.e.
 *    the disc height where a disc is (the disc pattern reads it).
 */
import type { LabelMap, Vec3 } from '../../volume/types.js';
import { indexToPoint } from '../../volume/types.js';
import { splitComponents, type Component, type Components } from '../components.js';
import { CHAIN_DEFAULTS, dist, findCanal, linkAngle, onColumn, type Canal, type Candidate, type ChainOptions } from '../spine-chain.js';
import { CLASS } from '../segmenter.js';

export interface ColumnOptions {
  /** components smaller than this are ignored (mm^3), default 2000 */
  minBodyMm3?: number;
  /** in-plane erosion (mm) that cuts thin bridges between bodies before labelling components (default 2.5) */
  splitErosionMm?: number;
  /** erosion across slices (mm, rounded to whole slices, at least 1) for the same purpose (default 11) */
  splitLateralMm?: number;
  /** elements smaller than this fraction of the median element volume are fragments (default 0.3) */
  minRelativeVolume?: number;
  /** two pieces are one vertebra when together no taller than this many median body heights (default 1.3) */
  mergeHeight?: number;
  chain?: Partial<ChainOptions>;
}

/** One vertebra on the column: one or more components. */
export interface Element {
  parts: Candidate[];
  /** mm^3 */
  vol: number;
  voxels: number;
  /** fraction of its voxels in the network's sacrum class */
  sacFrac: number;
  /** the same fraction in its cranial half only (above its centroid along the column): partial volume at a lower
   * endplate next to the sacrum does not reach it, a vertebra the network takes for sacrum does */
  sacFracUpper: number;
  /** LPS centroid (mm) */
  centroid: Vec3;
  centroidIndex: Vec3;
  /** LPS z range (mm) of its voxels */
  zMin: number;
  zMax: number;
  /** height along the local column axis (mm) */
  heightMm: number;
}

/** The link from element n-1 to element n (n >= 1). */
export interface Link {
  /** degrees from the cranio-caudal axis in the sagittal plane, + towards posterior */
  angle: number;
  /** change of direction from the link above (degrees, + = turns backwards); NaN for the first link */
  turn: number;
  /** centroid distance (mm) */
  lengthMm: number;
  /** free space between the two elements along the column through the upper one (mm): the disc height where
   * there is a disc; NaN where that line misses the lower element */
  gapMm: number;
}

export interface Column {
  /** top to bottom */
  elements: Element[];
  /** links[n] joins elements n-1 and n; links[0] is undefined */
  links: (Link | undefined)[];
  canal?: Canal;
  /** lowest z (mm) of the field of view */
  fovBottom: number;
  /** median centroid distance between neighbours (mm) */
  spacing: number;
  /** median height of the elements (mm) */
  bodyHeight: number;
  /** median gap of the links (mm) */
  discGap: number;
  /** component ids per voxel (for the level map) */
  cc: Components;
  debug: string[];
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
}

export const fmtZ = (z: number) => `z ${z.toFixed(0)} mm`;

/** Lowest z (mm) of the field of view (its lowest corner; sagittal stacks are near-upright). */
export function fovBottom(g: LabelMap): number {
  const [nx, ny, nz] = g.dims;
  let zMin = Infinity;
  for (const i of [0, nx - 1]) for (const j of [0, ny - 1]) for (const k of [0, nz - 1]) zMin = Math.min(zMin, indexToPoint(g, i, j, k)[2]);
  return zMin;
}

interface Piece {
  parts: Candidate[];
  zMin: number;
  zMax: number;
  vol: number;
  /** LPS centroid (mm), voxel-weighted over the parts */
  centroid: Vec3;
}

/** Voxel-weighted statistics of the components of one vertebra (or of pieces of it). */
function pooled(parts: Candidate[]): { voxels: number; sacFrac: number; centroid: Vec3; centroidIndex: Vec3 } {
  let voxels = 0;
  let sac = 0;
  const c: Vec3 = [0, 0, 0];
  const ci: Vec3 = [0, 0, 0];
  for (const x of parts) {
    voxels += x.c.voxels;
    sac += x.sacFrac * x.c.voxels;
    for (let a = 0; a < 3; a++) {
      c[a] += x.centroid[a] * x.c.voxels;
      ci[a] += x.c.centroidIndex[a] * x.c.voxels;
    }
  }
  for (let a = 0; a < 3; a++) {
    c[a] /= voxels;
    ci[a] /= voxels;
  }
  return { voxels, sacFrac: sac / voxels, centroid: c, centroidIndex: ci };
}

function mergePieces(a: Piece, b: Piece): Piece {
  const parts = [...a.parts, ...b.parts];
  return { parts, zMin: Math.min(a.zMin, b.zMin), zMax: Math.max(a.zMax, b.zMax), vol: a.vol + b.vol, centroid: pooled(parts).centroid };
}

/** Sagittal directions along which every component's extent is measured: tilted from the z axis towards posterior
 * by -60 ... +60 degrees in 10-degree steps (a lumbar body tilts by up to about 45 degrees in lordosis). */
const DIR_STEP_DEG = 10;
const DIR_MAX_DEG = 60;
const DIRS = (2 * DIR_MAX_DEG) / DIR_STEP_DEG + 1;
const DIR_SIN = Array.from({ length: DIRS }, (_, d) => Math.sin(((d * DIR_STEP_DEG - DIR_MAX_DEG) * Math.PI) / 180));
const DIR_COS = Array.from({ length: DIRS }, (_, d) => Math.cos(((d * DIR_STEP_DEG - DIR_MAX_DEG) * Math.PI) / 180));

/** bin (mm) of the projection histograms */
const T_BIN = 1;

/** per sagittal direction: the lowest projection of the image's corners, and the number of T_BIN bins that hold
 * every voxel's projection */
function projectionRange(g: LabelMap): [Float64Array, number] {
  const [nx, ny, nz] = g.dims;
  const lo = new Float64Array(DIRS).fill(Infinity);
  const hi = new Float64Array(DIRS).fill(-Infinity);
  for (const i of [0, nx - 1]) for (const j of [0, ny - 1]) for (const k of [0, nz - 1]) {
    const p = indexToPoint(g, i, j, k);
    for (let d = 0; d < DIRS; d++) {
      const t = p[1] * DIR_SIN[d] + p[2] * DIR_COS[d];
      lo[d] = Math.min(lo[d], t);
      hi[d] = Math.max(hi[d], t);
    }
  }
  let bins = 1;
  for (let d = 0; d < DIRS; d++) bins = Math.max(bins, Math.floor((hi[d] - lo[d]) / T_BIN) + 2);
  return [lo, bins];
}

/** the measured direction nearest to the one from `lower` to `upper` (LPS points) in the sagittal plane */
function dirIndex(upper: Vec3, lower: Vec3): number {
  const deg = (Math.atan2(upper[1] - lower[1], upper[2] - lower[2]) * 180) / Math.PI;
  return Math.max(0, Math.min(DIRS - 1, Math.round((deg + DIR_MAX_DEG) / DIR_STEP_DEG)));
}

/** at most this many joined vertebrae are split per series (a column of them is a failed segmentation) */
const MAX_SPLITS = 4;
/** a joined piece is cut where its cross-section is under this fraction of the widest cross-section of its narrower
 * side: across a disc two bodies touch through a bridge, within one body the cross-section stays near its width */
export const WAIST_RATIO = 0.5;

/**
 * The waist of a cross-section profile (voxels per bin along the column, caudal to cranial): the bin whose
 * cross-section (mean of 3 bins) is the smallest fraction of the widest cross-section on its narrower side, among the
 * bins that leave at least `minSide` voxels on either side. Cut there, bins below `bin` are one vertebra and the
 * rest the other. Undefined when no bin is under `maxRatio`.
 */
export function findWaist(profile: ArrayLike<number>, minSide: number, maxRatio = WAIST_RATIO): { bin: number; ratio: number } | undefined {
  const n = profile.length;
  const s = new Float64Array(n);
  for (let b = 0; b < n; b++) s[b] = ((b > 0 ? profile[b - 1] : 0) + profile[b] + (b + 1 < n ? profile[b + 1] : 0)) / 3;
  // widest cross-section and voxels strictly below bin b, and strictly above it
  const wideBelow = new Float64Array(n);
  const nBelow = new Float64Array(n);
  for (let b = 1; b < n; b++) {
    wideBelow[b] = Math.max(wideBelow[b - 1], s[b - 1]);
    nBelow[b] = nBelow[b - 1] + profile[b - 1];
  }
  let wideAbove = 0;
  let nAbove = 0;
  let best: { bin: number; ratio: number } | undefined;
  for (let b = n - 1; b >= 0; b--) {
    if (nAbove >= minSide && nBelow[b] >= minSide) {
      const ratio = s[b] / Math.min(wideAbove, wideBelow[b]);
      if (ratio < maxRatio && (!best || ratio < best.ratio)) best = { bin: b, ratio };
    }
    wideAbove = Math.max(wideAbove, s[b]);
    nAbove += profile[b];
  }
  return best;
}

export function buildColumn(classes: LabelMap, opts: ColumnOptions = {}): Column {
  const minBody = opts.minBodyMm3 ?? 2000;
  const minRel = opts.minRelativeVolume ?? 0.3;
  const mergeH = opts.mergeHeight ?? 1.3;
  const voxMm3 = classes.spacing[0] * classes.spacing[1] * classes.spacing[2];
  const debug: string[] = [];
  const lateral = Math.max(1, Math.round((opts.splitLateralMm ?? 11) / classes.spacing[2]));
  const cc = splitComponents(classes.data, classes.dims, classes.spacing, (v) => v === CLASS.body || v === CLASS.sacrum, opts.splitErosionMm ?? 2.5, lateral);
  const n = cc.list.reduce((m, c) => Math.max(m, c.id), 0); // the highest component id
  // room for the components that splitting joined vertebrae adds (at most MAX_SPLITS)
  const nSac = new Float64Array(n + 1 + MAX_SPLITS);
  const zLo = new Float64Array(n + 1 + MAX_SPLITS).fill(Infinity);
  const zHi = new Float64Array(n + 1 + MAX_SPLITS).fill(-Infinity);
  const [nx, ny] = classes.dims;
  const nxy = nx * ny;
  // z of a voxel is affine in (i, j, k): z = o + a i + b j + c k
  const z0 = indexToPoint(classes, 0, 0, 0)[2];
  const zi = indexToPoint(classes, 1, 0, 0)[2] - z0;
  const zj = indexToPoint(classes, 0, 1, 0)[2] - z0;
  const zk = indexToPoint(classes, 0, 0, 1)[2] - z0;
  const y0 = indexToPoint(classes, 0, 0, 0)[1];
  const yi = indexToPoint(classes, 1, 0, 0)[1] - y0;
  const yj = indexToPoint(classes, 0, 1, 0)[1] - y0;
  const yk = indexToPoint(classes, 0, 0, 1)[1] - y0;
  // per candidate component (large enough to count) and sagittal direction: a histogram of its voxels'
  // projections in T_BIN mm bins, from which robust extents (P5-P95) and cross-section profiles are read
  const slot = new Int32Array(n + 1 + MAX_SPLITS).fill(-1);
  let slots = 0;
  for (const c of cc.list) if (c.voxels * voxMm3 >= minBody) slot[c.id] = slots++;
  const [tMin, tBins] = projectionRange(classes);
  const hist = new Uint32Array(Math.max(1, (slots + MAX_SPLITS) * DIRS * tBins));
  /** projection (mm) of voxel (i, j, k) on sagittal direction d */
  const proj = (i: number, j: number, k: number, d: number) => (y0 + yi * i + yj * j + yk * k) * DIR_SIN[d] + (z0 + zi * i + zj * j + zk * k) * DIR_COS[d];
  const addVoxel = (v: number, id: number) => {
    if (classes.data[v] === CLASS.sacrum) nSac[id]++;
    const k = Math.floor(v / nxy);
    const r = v - k * nxy;
    const j = Math.floor(r / nx);
    const i = r - j * nx;
    const z = z0 + zi * i + zj * j + zk * k;
    if (z < zLo[id]) zLo[id] = z;
    if (z > zHi[id]) zHi[id] = z;
    if (slot[id] < 0) return;
    const y = y0 + yi * i + yj * j + yk * k;
    for (let d = 0, o = slot[id] * DIRS * tBins; d < DIRS; d++, o += tBins) {
      hist[o + Math.floor((y * DIR_SIN[d] + z * DIR_COS[d] - tMin[d]) / T_BIN)]++;
    }
  };
  for (let v = 0; v < cc.ids.length; v++) if (cc.ids[v]) addVoxel(v, cc.ids[v]);
  const candidate = (c: Component): Candidate => ({ c, vol: c.voxels * voxMm3, sacFrac: nSac[c.id] / c.voxels, centroid: indexToPoint(classes, ...c.centroidIndex) });
  /** split component `x` along sagittal direction d: its voxels below projection bin `bin` become component `newId`
   * (a new entry of cc.list); both are measured again. Returns [upper, lower]. */
  const splitComponent = (x: Candidate, d: number, bin: number, newId: number): [Candidate, Candidate] => {
    const id = x.c.id;
    const { min, max } = x.c;
    const stats = [id, newId].map((cid) => ({ id: cid, voxels: 0, s: [0, 0, 0], min: [Infinity, Infinity, Infinity], max: [-1, -1, -1] }));
    nSac[id] = 0;
    zLo[id] = Infinity;
    zHi[id] = -Infinity;
    hist.fill(0, slot[id] * DIRS * tBins, (slot[id] + 1) * DIRS * tBins);
    slot[newId] = slots++;
    for (let k = min[2]; k <= max[2]; k++)
      for (let j = min[1]; j <= max[1]; j++)
        for (let i = min[0], v = k * nxy + j * nx + min[0]; i <= max[0]; i++, v++) {
          if (cc.ids[v] !== id) continue;
          const low = Math.floor((proj(i, j, k, d) - tMin[d]) / T_BIN) < bin;
          if (low) cc.ids[v] = newId;
          const st = stats[low ? 1 : 0];
          st.voxels++;
          const ijk = [i, j, k];
          for (let a = 0; a < 3; a++) {
            st.s[a] += ijk[a];
            st.min[a] = Math.min(st.min[a], ijk[a]);
            st.max[a] = Math.max(st.max[a], ijk[a]);
          }
          addVoxel(v, st.id);
        }
    const comps = stats.map((st): Component => ({ id: st.id, voxels: st.voxels, centroidIndex: st.s.map((c) => c / st.voxels) as Vec3, min: st.min as Vec3, max: st.max as Vec3 }));
    cc.list[cc.list.indexOf(x.c)] = comps[0];
    cc.list.push(comps[1]);
    return [candidate(comps[0]), candidate(comps[1])];
  };
  const cands: Candidate[] = cc.list
    .map(candidate)
    .filter((x) => x.vol >= minBody);

  // 1. Only what lies on the spinal column.
  const canal = findCanal(classes, CLASS.csf);
  debug.push(canal ? `spinal canal (CSF) found from ${fmtZ(canal.zMax)} down to ${fmtZ(canal.zMin)}` : 'no spinal canal (CSF) found: column from the body centroids');
  const { on, off } = onColumn(cands, canal, { ...CHAIN_DEFAULTS, ...opts.chain });
  for (const o of off) debug.push(`dropped ${(o.x.vol / 1000).toFixed(1)} cm3 at ${fmtZ(o.x.centroid[2])}: ${o.why}`);

  // 2. Pieces of one vertebra merged: neighbours (in z) that together are no taller than one body.
  /** one component as a piece of its own */
  const pieceOf = (x: Candidate): Piece => ({ parts: [x], zMin: zLo[x.c.id], zMax: zHi[x.c.id], vol: x.vol, centroid: x.centroid });
  let pieces: Piece[] = on.sort((a, b) => b.centroid[2] - a.centroid[2]).map(pieceOf);
  /** the pieces' voxel counts per T_BIN bin along sagittal direction d: their cross-section profile */
  const profile = (ps: Piece[], d: number) => {
    const h = new Float64Array(tBins);
    for (const p of ps)
      for (const x of p.parts) {
        const o = (slot[x.c.id] * DIRS + d) * tBins;
        for (let b = 0; b < tBins; b++) h[b] += hist[o + b];
      }
    return h;
  };
  /** robust extent (mm) of a profile: from the 5th to the 95th percentile of its voxels' positions (a few stray
   * voxels at a lateral rim or in a disc do not make a body taller) */
  const profileExtent = (h: Float64Array) => {
    let total = 0;
    for (let b = 0; b < tBins; b++) total += h[b];
    let acc = 0;
    let lo = -1;
    let hi = -1;
    for (let b = 0; b < tBins; b++) {
      acc += h[b];
      if (lo < 0 && acc >= 0.05 * total) lo = b;
      if (acc >= 0.95 * total) {
        hi = b;
        break;
      }
    }
    return (hi - lo + 1) * T_BIN;
  };
  /** robust extent (mm) of pieces together along sagittal direction d */
  const extent = (ps: Piece[], d: number) => profileExtent(profile(ps, d));
  /** the column's direction at pieces a..b (top to bottom, b >= a): through the nearest pieces around them (one
   * above and one below; at an end of the column the next two inward); the z axis when there are too few */
  const axisAt = (a: number, b: number) => {
    const P = pieces.length;
    const through = (u: number, l: number) => dirIndex(pieces[u].centroid, pieces[l].centroid);
    if (a >= 1 && b + 1 < P) return through(a - 1, b + 1); // one above, one below
    if (a === 0 && b + 2 < P) return through(b + 1, b + 2); // top of the column: the next two below
    if (b + 1 >= P && a >= 2) return through(a - 2, a - 1); // bottom: the next two above
    return DIR_MAX_DEG / DIR_STEP_DEG; // the z axis
  };
  const bigVol = median(pieces.map((p) => p.vol));
  const refHeight = median(pieces.map((p, i) => (p.vol >= 0.6 * bigVol ? extent([p], axisAt(i, i)) : NaN)));
  // 2a. Two vertebrae joined across a disc. A piece that is taller than one vertebra can be (together with nothing
  // else it would not be merged: mergeH median bodies) and that the network calls body holds parts of two: most
  // often the part of T12 that the top edge of the field of view leaves, joined to L1 through an osteophyte or
  // partial volume at the disc. It is cut at its waist along the column: a disc joins two bodies through a thin
  // bridge only, one body keeps its cross-section from endplate to endplate.
  let splits = 0;
  for (let i = 0; i < pieces.length && splits < MAX_SPLITS; i++) {
    const p = pieces[i];
    if (p.parts.length !== 1 || p.parts[0].sacFrac >= 0.5) continue;
    const d = axisAt(i, i);
    const prof = profile([p], d);
    const h = profileExtent(prof);
    if (!(h > mergeH * refHeight)) continue;
    const w = findWaist(prof, minBody / voxMm3, Infinity);
    const tall = `${(p.vol / 1000).toFixed(1)} cm3 at ${fmtZ((p.zMin + p.zMax) / 2)} is ${h.toFixed(0)} mm tall (median body ${refHeight.toFixed(0)} mm)`;
    if (!w || w.ratio >= WAIST_RATIO) {
      debug.push(`${tall}: no waist (narrowest cross-section ${w ? `${Math.round(100 * w.ratio)} %` : '-'} of the narrower side's widest), kept whole`);
      continue;
    }
    const [upper, lower] = splitComponent(p.parts[0], d, w.bin, n + 1 + splits++).map(pieceOf);
    debug.push(`${tall}: two vertebrae joined, cut at its waist (cross-section ${Math.round(100 * w.ratio)} % of the narrower side's widest) into ${(upper.vol / 1000).toFixed(1)} + ${(lower.vol / 1000).toFixed(1)} cm3`);
    pieces.splice(i, 1, upper, lower);
    i++;
  }
  for (;;) {
    let best = -1;
    let bestH = Infinity;
    for (let i = 0; i + 1 < pieces.length; i++) {
      const h = extent([pieces[i], pieces[i + 1]], axisAt(i, i + 1));
      if (h <= mergeH * refHeight && h < bestH) {
        best = i;
        bestH = h;
      }
    }
    if (best < 0) break;
    const m = mergePieces(pieces[best], pieces[best + 1]);
    debug.push(`merged ${(pieces[best].vol / 1000).toFixed(1)} + ${(pieces[best + 1].vol / 1000).toFixed(1)} cm3 at ${fmtZ((m.zMin + m.zMax) / 2)}: together ${bestH.toFixed(0)} mm tall, one vertebra (median body ${refHeight.toFixed(0)} mm)`);
    pieces.splice(best, 2, m);
  }
  // 3. Fragments.
  const medVol = median(pieces.map((p) => p.vol));
  pieces = pieces.filter((p) => {
    if (p.vol >= minRel * medVol) return true;
    debug.push(`dropped ${(p.vol / 1000).toFixed(1)} cm3 at ${fmtZ((p.zMin + p.zMax) / 2)}: fragment (< ${Math.round(minRel * 100)} % of the median element)`);
    return false;
  });

  // 4. Per element statistics and per link geometry.
  const elements: Element[] = pieces.map((p) => ({ parts: p.parts, vol: p.vol, ...pooled(p.parts), zMin: p.zMin, zMax: p.zMax, sacFracUpper: 0, heightMm: 0 }));
  const gapBelow = measureExtents(classes, cc, elements);
  const links: (Link | undefined)[] = elements.map((e, i) => {
    if (i === 0) return undefined;
    const a = elements[i - 1];
    return { angle: linkAngle(a.centroid, e.centroid), turn: NaN, lengthMm: dist(a.centroid, e.centroid), gapMm: gapBelow[i - 1] };
  });
  for (let i = 2; i < links.length; i++) links[i]!.turn = links[i]!.angle - links[i - 1]!.angle;
  const col: Column = {
    elements,
    links,
    canal,
    fovBottom: fovBottom(classes),
    spacing: median(links.map((l) => l?.lengthMm ?? NaN)),
    bodyHeight: median(elements.map((e) => e.heightMm)),
    discGap: median(links.map((l) => l?.gapMm ?? NaN)),
    cc,
    debug,
  };
  debug.push(
    `column: ${elements.length} elements, top to bottom: ` +
      elements.map((e, i) => `${(e.vol / 1000).toFixed(0)}cm3/${e.heightMm.toFixed(0)}mm${e.sacFrac >= 0.05 ? `(${Math.round(100 * e.sacFrac)}% sacrum)` : ''}${i + 1 < elements.length ? ` [gap ${links[i + 1]!.gapMm.toFixed(0)} mm]` : ''}`).join(' '),
  );
  return col;
}

/** Heights and gaps are measured within this distance (mm) of the line through the centroid: the centre of the
 * endplates, not the corners (osteophytes, a tilted body's rim). */
const CORE_MM = 8;
const CORE2 = CORE_MM * CORE_MM;

/**
 * Heights along the local column axis (through the neighbours' centroids) and the free space below each element:
 * along the line that continues the column through it (from the element above through its centroid), the distance
 * from its lowest voxel to the first voxel of the element below, both near the line. At the lumbosacral junction
 * that line runs through L5 into the top of S1, so the gap is the L5/S1 disc height at its centre, whatever the
 * tilt of the sacrum. One pass over the component image.
 */
function measureExtents(g: LabelMap, cc: Components, elements: Element[]): number[] {
  const maxId = cc.list.reduce((m, c) => Math.max(m, c.id), 0);
  const elemOf = new Int32Array(maxId + 1).fill(-1);
  elements.forEach((e, i) => e.parts.forEach((p) => (elemOf[p.c.id] = i)));
  const unit = (a: Vec3, b: Vec3): Vec3 => {
    const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const l = Math.hypot(...d) || 1;
    return [d[0] / l, d[1] / l, d[2] / l];
  };
  const E = elements.length;
  // axis: cranial direction through the neighbours; down: the column's direction through the element, downwards
  const axis = elements.map((e, i) => unit(elements[Math.min(E - 1, i + 1)].centroid, elements[Math.max(0, i - 1)].centroid));
  const down = elements.map((e, i) => (i > 0 ? unit(elements[i - 1].centroid, e.centroid) : i + 1 < E ? unit(e.centroid, elements[i + 1].centroid) : ([0, 0, -1] as Vec3)));
  const upN = new Float64Array(E);
  const upSac = new Float64Array(E);
  const aLo = new Float64Array(E).fill(Infinity);
  const aHi = new Float64Array(E).fill(-Infinity);
  const bottom = new Float64Array(E).fill(-Infinity); // element i's lowest point along down[i]
  const nextTop = new Float64Array(E).fill(Infinity); // element i+1's highest point along down[i]
  const [nx, ny] = g.dims;
  const nxy = nx * ny;
  const along = (p: Vec3, c: Vec3, u: Vec3): number => {
    const d0 = p[0] - c[0];
    const d1 = p[1] - c[1];
    const d2 = p[2] - c[2];
    const t = d0 * u[0] + d1 * u[1] + d2 * u[2];
    return d0 * d0 + d1 * d1 + d2 * d2 - t * t <= CORE2 ? t : NaN;
  };
  for (let v = 0; v < cc.ids.length; v++) {
    const id = cc.ids[v];
    if (!id) continue;
    const e = elemOf[id];
    if (e < 0) continue;
    const k = Math.floor(v / nxy);
    const r = v - k * nxy;
    const j = Math.floor(r / nx);
    const p = indexToPoint(g, r - j * nx, j, k);
    const dc = (p[0] - elements[e].centroid[0]) * axis[e][0] + (p[1] - elements[e].centroid[1]) * axis[e][1] + (p[2] - elements[e].centroid[2]) * axis[e][2];
    if (dc >= 0) {
      upN[e]++;
      if (g.data[v] === CLASS.sacrum) upSac[e]++;
    }
    const a = along(p, elements[e].centroid, axis[e]);
    if (a < aLo[e]) aLo[e] = a;
    if (a > aHi[e]) aHi[e] = a;
    const b = along(p, elements[e].centroid, down[e]);
    if (b > bottom[e]) bottom[e] = b;
    if (e > 0) {
      const t = along(p, elements[e - 1].centroid, down[e - 1]);
      if (t < nextTop[e - 1]) nextTop[e - 1] = t;
    }
  }
  elements.forEach((el, i) => {
    el.heightMm = aHi[i] - aLo[i];
    el.sacFracUpper = upN[i] ? upSac[i] / upN[i] : el.sacFrac;
  });
  // gap below element i (NaN where the line misses the element below, e.g. a marked listhesis)
  return elements.map((_, i) => (i + 1 < E && Number.isFinite(nextTop[i]) && Number.isFinite(bottom[i]) ? nextTop[i] - bottom[i] : NaN));
}
