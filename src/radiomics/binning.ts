/**
 * Gray-level discretisation exactly as PyRadiomics `imageoperations.getBinEdges` + `numpy.digitize`.
 *
 * Fixed bin width W: edges = lo, lo+W, …  with lo = min − (min mod W) (floored modulo), so
 * bin(x) = floor(x/W) − floor(min/W) + 1. Fixed bin count N: edges = linspace(min, max, N+1) with the last
 * edge + 1 (so max falls in bin N); flat region → edges [min−0.5, min+0.5].
 */
export interface Discretized {
  /** Bin number per voxel of the cropped box (0 outside the ROI). */
  bins: Int32Array;
  /** Highest bin number present (PyRadiomics `Ng`). */
  ng: number;
  /** Bin numbers present in the ROI, ascending (PyRadiomics `grayLevels`). */
  levels: Int32Array;
  /** The bin edges used. */
  edges: Float64Array;
}

/** Python floored modulo. */
function pyMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}

/** numpy.arange(start, stop, step) values: start + i*step for i < ceil((stop-start)/step). */
function npArange(start: number, stop: number, step: number): Float64Array {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return out;
}

/** numpy.linspace(start, stop, num) (endpoint included, last value set to stop exactly). */
function npLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** Bin edges for the ROI values (PyRadiomics getBinEdges). */
export function binEdges(values: ArrayLike<number>, opts: { binWidth: number; binCount: number | null }): Float64Array {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (opts.binCount !== null && opts.binCount !== undefined) {
    let lo = min;
    let hi = max;
    if (lo === hi) {
      lo -= 0.5;
      hi += 0.5;
    }
    const e = npLinspace(lo, hi, opts.binCount + 1);
    e[e.length - 1]! += 1;
    return e;
  }
  const w = opts.binWidth;
  const lowBound = min - pyMod(min, w);
  let e = npArange(lowBound, max + 2 * w, w);
  if (e.length === 1) e = Float64Array.of(e[0]! - 0.5, e[0]! + 0.5);
  return e;
}

/** numpy.digitize(x, edges) for increasing edges: number of edges <= x. */
export function digitize(x: number, edges: Float64Array): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Discretise the ROI voxels of `values` (mask != 0). */
export function discretize(values: Float64Array, mask: Uint8Array, opts: { binWidth: number; binCount: number | null }): Discretized {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  const roiVals = new Float64Array(n);
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i]) roiVals[k++] = values[i]!;
  const edges = binEdges(roiVals, opts);
  const bins = new Int32Array(values.length);
  let ng = 0;
  const seen = new Uint8Array(edges.length + 2);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const b = digitize(values[i]!, edges);
    bins[i] = b;
    seen[b] = 1;
    if (b > ng) ng = b;
  }
  let cnt = 0;
  for (let b = 0; b < seen.length; b++) if (seen[b]) cnt++;
  const levels = new Int32Array(cnt);
  for (let b = 0, k = 0; b < seen.length; b++) if (seen[b]) levels[k++] = b;
  return { bins, ng, levels, edges };
}
