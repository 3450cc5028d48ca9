/**
 * The spinal column as a chain: which body/sacrum components belong to it, in cranio-caudal order.
 *
 * Every sagittal lumbar MRI shows the vertebral bodies stacked in front of the spinal canal. The canal's thecal
 * sac (the network's CSF class, bright on T2, dark on T1) is the guide: its largest connected component gives a
 * centreline, and a component whose centroid is not a body's depth in front of it (bowel, kidney, bladder in
 * front; posterior elements behind; far lateral structures) is dropped, with a reason. Below the end of the sac
 * (sacral canal, no CSF) and when no sac is found (the CSF class did not fire), the reference is a robust fit
 * through the centroids of the large components instead. All coordinates are LPS millimetres (+y posterior,
 * +z superior), so the rules do not depend on the series' voxel order.
 */
import type { LabelMap, Vec3 } from '../volume/types.js';
import { indexToPoint } from '../volume/types.js';
import { connectedComponents, type Component } from './components.js';

/** Per 2 mm of height (z) the canal centre (x, y), from the thecal sac. */
export interface Canal {
  zMin: number;
  zMax: number;
  /** centre x/y at z, or undefined outside [zMin, zMax] */
  at(z: number): { x: number; y: number } | undefined;
  voxels: number;
}

const Z_BIN = 2;

/** Thecal sac = the largest CSF component that is long in z (>= minLengthMm). */
export function findCanal(classes: LabelMap, csfClass: number, minLengthMm = 80): Canal | undefined {
  const cc = connectedComponents(classes.data, classes.dims, (v) => v === csfClass);
  if (!cc.list.length) return undefined;
  const best = cc.list.reduce((a, b) => (b.voxels > a.voxels ? b : a));
  const [nx, ny] = classes.dims;
  const nxy = nx * ny;
  let zMin = Infinity;
  let zMax = -Infinity;
  const pts: Vec3[] = [];
  for (let v = 0; v < cc.ids.length; v++) {
    if (cc.ids[v] !== best.id) continue;
    const k = Math.floor(v / nxy);
    const r = v - k * nxy;
    const j = Math.floor(r / nx);
    const p = indexToPoint(classes, r - j * nx, j, k);
    pts.push(p);
    if (p[2] < zMin) zMin = p[2];
    if (p[2] > zMax) zMax = p[2];
  }
  if (zMax - zMin < minLengthMm) return undefined;
  const nb = Math.floor((zMax - zMin) / Z_BIN) + 1;
  const sx = new Float64Array(nb);
  const sy = new Float64Array(nb);
  const n = new Float64Array(nb);
  for (const p of pts) {
    const b = Math.floor((p[2] - zMin) / Z_BIN);
    sx[b] += p[0];
    sy[b] += p[1];
    n[b]++;
  }
  // Smooth over +-10 mm (bins with few voxels borrow from their neighbours).
  const half = Math.round(10 / Z_BIN);
  const cx = new Float64Array(nb);
  const cy = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    let a = 0;
    let c = 0;
    let m = 0;
    for (let d = -half; d <= half; d++) {
      const q = b + d;
      if (q < 0 || q >= nb) continue;
      a += sx[q];
      c += sy[q];
      m += n[q];
    }
    cx[b] = m ? a / m : NaN;
    cy[b] = m ? c / m : NaN;
  }
  return {
    zMin,
    zMax,
    voxels: best.voxels,
    at(z: number) {
      if (z < zMin || z > zMax) return undefined;
      const b = Math.min(nb - 1, Math.floor((z - zMin) / Z_BIN));
      return Number.isFinite(cx[b]) ? { x: cx[b], y: cy[b] } : undefined;
    },
  };
}

/** Least-squares fit y = a + b z + c z^2 with iterative rejection of points off by more than `rejectMm`. */
export function robustCurve(pts: { z: number; v: number; w: number }[], rejectMm: number): ((z: number) => number) | undefined {
  let use = pts.slice();
  let f: ((z: number) => number) | undefined;
  for (let iter = 0; iter < 4 && use.length >= 3; iter++) {
    const deg = use.length >= 5 ? 2 : 1;
    const z0 = use.reduce((a, p) => a + p.z * p.w, 0) / use.reduce((a, p) => a + p.w, 0);
    // normal equations (<= 3 x 3)
    const m = deg + 1;
    const A = Array.from({ length: m }, () => new Array<number>(m).fill(0));
    const B = new Array<number>(m).fill(0);
    for (const p of use) {
      const t = p.z - z0;
      const basis = deg === 2 ? [1, t, t * t] : [1, t];
      for (let r = 0; r < m; r++) {
        B[r] += p.w * basis[r] * p.v;
        for (let c = 0; c < m; c++) A[r][c] += p.w * basis[r] * basis[c];
      }
    }
    const coef = solve(A, B);
    if (!coef) return f;
    f = (z: number) => {
      const t = z - z0;
      return coef[0] + coef[1] * t + (deg === 2 ? coef[2] * t * t : 0);
    };
    const next = pts.filter((p) => Math.abs(p.v - f!(p.z)) <= rejectMm);
    if (next.length === use.length) break;
    use = next;
  }
  return f;
}

function solve(A: number[][], B: number[]): number[] | undefined {
  const n = B.length;
  const M = A.map((r, i) => [...r, B[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-9) return undefined;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((r, i) => r[n] / r[i]);
}

export interface Candidate {
  c: Component;
  vol: number;
  /** fraction of the component's voxels in the sacrum class */
  sacFrac: number;
  centroid: Vec3;
}

export interface ChainOptions {
  /** accepted distance of a body centroid in front of the canal centre (mm) */
  canalOffsetMm: [number, number];
  /** accepted left-right distance from the canal / column centre (mm) */
  lateralMm: number;
  /** accepted antero-posterior distance from the robust column fit where no canal is known (mm) */
  columnMm: number;
}

export const CHAIN_DEFAULTS: ChainOptions = { canalOffsetMm: [6, 55], lateralMm: 22, columnMm: 25 };

/** Splits candidates into those on the spinal column and those off it (with the reason). */
export function onColumn(cands: Candidate[], canal: Canal | undefined, o: ChainOptions = CHAIN_DEFAULTS): { on: Candidate[]; off: { x: Candidate; why: string }[] } {
  const on: Candidate[] = [];
  const off: { x: Candidate; why: string }[] = [];
  // Column reference for heights without a canal: robust fits of y(z) and x(z) through the large components
  // that are on the canal where one is known, else through all large components.
  const refPts = cands.filter((x) => {
    if (!canal) return true;
    const c = canal.at(x.centroid[2]);
    if (!c) return false;
    const d = c.y - x.centroid[1];
    return d >= o.canalOffsetMm[0] && d <= o.canalOffsetMm[1] && Math.abs(c.x - x.centroid[0]) <= o.lateralMm;
  });
  const fy = robustCurve(refPts.map((x) => ({ z: x.centroid[2], v: x.centroid[1], w: x.vol })), o.columnMm);
  const fx = robustCurve(refPts.map((x) => ({ z: x.centroid[2], v: x.centroid[0], w: x.vol })), o.lateralMm);
  const zTop = refPts.length ? Math.max(...refPts.map((x) => x.centroid[2])) : Infinity;
  const zBottom = refPts.length ? Math.min(...refPts.map((x) => x.centroid[2])) : -Infinity;
  for (const x of cands) {
    const [px, py, pz] = x.centroid;
    const c = canal?.at(pz);
    if (c) {
      const d = c.y - py;
      // The sacrum (mostly sacrum class) tilts back along the end of the thecal sac: its centroid may lie level
      // with the sac's tip, so only the bounds in front and to the side apply to it.
      const sacral = x.sacFrac >= 0.5;
      if (d < o.canalOffsetMm[0] && !sacral) off.push({ x, why: `${d < 0 ? 'behind' : 'on'} the spinal canal (${d.toFixed(0)} mm in front of it): posterior elements?` });
      else if (d > o.canalOffsetMm[1]) off.push({ x, why: `${d.toFixed(0)} mm in front of the spinal canal: not a vertebral body (bowel, vessel, organ?)` });
      else if (Math.abs(c.x - px) > o.lateralMm) off.push({ x, why: `${Math.abs(c.x - px).toFixed(0)} mm lateral of the spinal canal` });
      else on.push(x);
      continue;
    }
    if (!fy || !fx) {
      on.push(x);
      continue;
    }
    // Beyond the sac (sacral canal) or without a sac: distance from the column through the bodies. The sacrum
    // continues posteriorly below the lowest body, so below the fitted range only the lateral test and an
    // anterior bound (nothing in front of the column) apply.
    const dy = py - fy(Math.max(zBottom, Math.min(zTop, pz)));
    const dx = Math.abs(px - fx(Math.max(zBottom, Math.min(zTop, pz))));
    if (dx > o.lateralMm) off.push({ x, why: `${dx.toFixed(0)} mm lateral of the vertebral column` });
    else if (dy < -o.columnMm) off.push({ x, why: `${(-dy).toFixed(0)} mm in front of the vertebral column: not a vertebral body` });
    else if (dy > o.columnMm && pz >= zBottom) off.push({ x, why: `${dy.toFixed(0)} mm behind the vertebral column: posterior elements?` });
    else on.push(x);
  }
  return { on, off };
}

/** Signed angle (degrees) of the link a -> b (b below a) from the cranio-caudal axis in the sagittal plane; + = towards posterior. */
export function linkAngle(a: Vec3, b: Vec3): number {
  return (Math.atan2(b[1] - a[1], a[2] - b[2]) * 180) / Math.PI;
}

export function dist(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
