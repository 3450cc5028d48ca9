/**
 * Sagittal slice stack <-> model grid.
 *
 * The model sees every sagittal slice in one canonical in-plane orientation at a fixed isotropic spacing:
 * image columns run anterior -> posterior (LPS +y), image rows run superior -> inferior (LPS -z).
 * `planeFrame` finds which native in-plane axis plays which role (and its sign); `toModelGrid` resamples
 * (bilinear) each native slice onto a centred model grid whose sides are multiples of `multiple`;
 * `fromModelGrid` maps per-class model outputs back onto the native voxel grid (bilinear on probabilities).
 */
import type { Geometry, Volume } from '../volume/types.js';

export interface PlaneFrame {
  /** Native in-plane axis (0 = i, 1 = j) that runs along the model's columns (anterior -> posterior). */
  colAxis: 0 | 1;
  /** +1 when the native axis already points posterior, -1 when it must be flipped. */
  colSign: 1 | -1;
  /** Native in-plane axis that runs along the model's rows (superior -> inferior). */
  rowAxis: 0 | 1;
  rowSign: 1 | -1;
}

export interface ModelGrid {
  frame: PlaneFrame;
  /** model spacing (mm, isotropic) */
  spacing: number;
  /** model image width (columns) and height (rows) */
  width: number;
  height: number;
  /** offset (mm) of the native image edge inside the model grid, along columns / rows */
  offCol: number;
  offRow: number;
  /** native sizes along the column / row roles */
  nCol: number;
  nRow: number;
  spCol: number;
  spRow: number;
}

/** Cosine above which an axis counts as aligned with a patient axis. */
const ALIGN_MIN = 0.6;

/** Which component (0 x, 1 y, 2 z) of native axis `axis` (0 i, 1 j, 2 k). */
function comp(g: Geometry, axis: number, c: number): number {
  return g.direction[c * 3 + axis];
}

/** Returns the sagittal frame, or a reason why the series is not a sagittal stack. */
export function planeFrame(g: Geometry): PlaneFrame | { error: string } {
  if (Math.abs(comp(g, 2, 0)) < ALIGN_MIN) return { error: 'series is not a sagittal stack (slice normal is not left-right)' };
  const y0 = comp(g, 0, 1);
  const y1 = comp(g, 1, 1);
  const colAxis: 0 | 1 = Math.abs(y0) >= Math.abs(y1) ? 0 : 1;
  const rowAxis: 0 | 1 = colAxis === 0 ? 1 : 0;
  const cy = comp(g, colAxis, 1);
  const rz = comp(g, rowAxis, 2);
  if (Math.abs(cy) < ALIGN_MIN || Math.abs(rz) < ALIGN_MIN) return { error: 'series in-plane axes are not anterior-posterior / superior-inferior' };
  return { colAxis, colSign: cy >= 0 ? 1 : -1, rowAxis, rowSign: rz <= 0 ? 1 : -1 };
}

export function modelGrid(g: Geometry, frame: PlaneFrame, spacing: number, multiple = 16): ModelGrid {
  const nCol = g.dims[frame.colAxis];
  const nRow = g.dims[frame.rowAxis];
  const spCol = g.spacing[frame.colAxis];
  const spRow = g.spacing[frame.rowAxis];
  const lCol = nCol * spCol;
  const lRow = nRow * spRow;
  const width = Math.max(multiple, Math.ceil(Math.ceil(lCol / spacing) / multiple) * multiple);
  const height = Math.max(multiple, Math.ceil(Math.ceil(lRow / spacing) / multiple) * multiple);
  return {
    frame,
    spacing,
    width,
    height,
    offCol: (width * spacing - lCol) / 2,
    offRow: (height * spacing - lRow) / 2,
    nCol,
    nRow,
    spCol,
    spRow,
  };
}

/** Native continuous index along a role axis for a model pixel centre. */
function nativeCoord(pModel: number, h: number, off: number, sp: number, n: number, sign: 1 | -1): number {
  const t = (pModel + 0.5) * h - off; // mm from the canonical edge of the native image
  const idx = t / sp - 0.5;
  return sign === 1 ? idx : n - 1 - idx;
}

/** Model continuous coordinate for a native index along a role axis. */
function modelCoord(idxNative: number, h: number, off: number, sp: number, n: number, sign: 1 | -1): number {
  const idx = sign === 1 ? idxNative : n - 1 - idxNative;
  const t = (idx + 0.5) * sp;
  return (t + off) / h - 0.5;
}

interface Interp {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
  valid: Uint8Array;
}

function interpTable(count: number, map: (p: number) => number, n: number): Interp {
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const w1 = new Float32Array(count);
  const valid = new Uint8Array(count);
  for (let p = 0; p < count; p++) {
    const x = map(p);
    if (x < -0.5 || x > n - 0.5) continue;
    valid[p] = 1;
    const xc = Math.min(Math.max(x, 0), n - 1);
    const a = Math.floor(xc);
    const b = Math.min(a + 1, n - 1);
    i0[p] = a;
    i1[p] = b;
    w1[p] = xc - a;
  }
  return { i0, i1, w1, valid };
}

/**
 * Resamples native slices [k0, k1) onto the model grid. Output layout: [slice][row][col] (Float32),
 * pixels outside the native field of view get `fill`.
 */
export function toModelGrid(vol: Volume, grid: ModelGrid, k0: number, k1: number, fill: number, out?: Float32Array): Float32Array {
  const { width: W, height: H, frame } = grid;
  const n = k1 - k0;
  const res = out ?? new Float32Array(n * W * H);
  const cols = interpTable(W, (p) => nativeCoord(p, grid.spacing, grid.offCol, grid.spCol, grid.nCol, frame.colSign), grid.nCol);
  const rows = interpTable(H, (p) => nativeCoord(p, grid.spacing, grid.offRow, grid.spRow, grid.nRow, frame.rowSign), grid.nRow);
  const [nx, ny] = vol.dims;
  const strideCol = frame.colAxis === 0 ? 1 : nx;
  const strideRow = frame.rowAxis === 0 ? 1 : nx;
  const d = vol.data;
  for (let s = 0; s < n; s++) {
    const base = (k0 + s) * nx * ny;
    const ob = s * W * H;
    for (let r = 0; r < H; r++) {
      const rowOk = rows.valid[r];
      const ra = base + rows.i0[r] * strideRow;
      const rb = base + rows.i1[r] * strideRow;
      const wr = rows.w1[r];
      for (let c = 0; c < W; c++) {
        if (!rowOk || !cols.valid[c]) {
          res[ob + r * W + c] = fill;
          continue;
        }
        const ca = cols.i0[c] * strideCol;
        const cb = cols.i1[c] * strideCol;
        const wc = cols.w1[c];
        const top = d[ra + ca] * (1 - wc) + d[ra + cb] * wc;
        const bot = d[rb + ca] * (1 - wc) + d[rb + cb] * wc;
        res[ob + r * W + c] = top * (1 - wr) + bot * wr;
      }
    }
  }
  return res;
}

/**
 * Nearest-neighbour resampling of a label volume onto the model grid (used to export training targets).
 */
export function labelsToModelGrid(data: Uint8Array, g: Geometry, grid: ModelGrid): Uint8Array {
  const { width: W, height: H, frame } = grid;
  const nz = g.dims[2];
  const [nx, ny] = g.dims;
  const res = new Uint8Array(nz * W * H);
  const strideCol = frame.colAxis === 0 ? 1 : nx;
  const strideRow = frame.rowAxis === 0 ? 1 : nx;
  const colIdx = new Int32Array(W).map((_, p) => Math.round(nativeCoord(p, grid.spacing, grid.offCol, grid.spCol, grid.nCol, frame.colSign)));
  const rowIdx = new Int32Array(H).map((_, p) => Math.round(nativeCoord(p, grid.spacing, grid.offRow, grid.spRow, grid.nRow, frame.rowSign)));
  for (let k = 0; k < nz; k++) {
    for (let r = 0; r < H; r++) {
      const ri = rowIdx[r];
      if (ri < 0 || ri >= grid.nRow) continue;
      for (let c = 0; c < W; c++) {
        const ci = colIdx[c];
        if (ci < 0 || ci >= grid.nCol) continue;
        res[k * W * H + r * W + c] = data[k * nx * ny + ri * strideRow + ci * strideCol];
      }
    }
  }
  return res;
}

/**
 * Maps per-class model probabilities of native slice `k` (layout [class][row][col] for one slice) back to the
 * native grid and writes the arg-max class into `out` (native layout, slice k).
 */
export function argmaxToNative(probs: Float32Array, nClasses: number, grid: ModelGrid, dims: [number, number, number], k: number, out: Uint8Array): void {
  const { width: W, height: H, frame } = grid;
  const [nx, ny] = dims;
  const nA = dims[frame.colAxis];
  const nB = dims[frame.rowAxis];
  const colT = interpTable(nA, (i) => modelCoord(i, grid.spacing, grid.offCol, grid.spCol, grid.nCol, frame.colSign), W);
  const rowT = interpTable(nB, (i) => modelCoord(i, grid.spacing, grid.offRow, grid.spRow, grid.nRow, frame.rowSign), H);
  const plane = W * H;
  for (let b = 0; b < nB; b++) {
    const ra = rowT.i0[b] * W;
    const rb = rowT.i1[b] * W;
    const wr = rowT.w1[b];
    for (let a = 0; a < nA; a++) {
      const ca = colT.i0[a];
      const cb = colT.i1[a];
      const wc = colT.w1[a];
      let best = 0;
      let bestV = -Infinity;
      for (let c = 0; c < nClasses; c++) {
        const o = c * plane;
        const v =
          (probs[o + ra + ca] * (1 - wc) + probs[o + ra + cb] * wc) * (1 - wr) + (probs[o + rb + ca] * (1 - wc) + probs[o + rb + cb] * wc) * wr;
        if (v > bestV) {
          bestV = v;
          best = c;
        }
      }
      const i = frame.colAxis === 0 ? a : b;
      const j = frame.colAxis === 0 ? b : a;
      out[k * nx * ny + j * nx + i] = best;
    }
  }
}
