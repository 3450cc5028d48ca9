/**
 * Robust intensity normalisation inside the body: voxels above 10 % of the 99.5th percentile form the
 * "body" (foreground); its 1st and 99th percentiles map to 0 and 1. The training script
 * (scripts/segmentation/train.py, `normalise`) implements the same rule.
 */
export interface NormStats {
  lo: number;
  hi: number;
  /** fraction of voxels counted as foreground */
  foreground: number;
}

const MAX_SAMPLES = 262144;

function sortedSample(data: Float32Array, keep: (v: number) => boolean): Float32Array {
  const step = Math.max(1, Math.floor(data.length / MAX_SAMPLES));
  const tmp = new Float32Array(Math.ceil(data.length / step));
  let n = 0;
  for (let i = 0; i < data.length; i += step) {
    const v = data[i];
    if (Number.isFinite(v) && keep(v)) tmp[n++] = v;
  }
  return tmp.subarray(0, n).sort();
}

/** Percentile (0..100) of an ascending array, linear interpolation (numpy's default). */
export function percentileSorted(s: Float32Array, q: number): number {
  if (s.length === 0) return NaN;
  const x = (q / 100) * (s.length - 1);
  const a = Math.floor(x);
  const b = Math.min(a + 1, s.length - 1);
  return s[a] + (s[b] - s[a]) * (x - a);
}

export function normStats(data: Float32Array): NormStats {
  const all = sortedSample(data, () => true);
  const top = percentileSorted(all, 99.5);
  const thr = 0.1 * top;
  const fg = sortedSample(data, (v) => v > thr);
  return { lo: percentileSorted(fg, 1), hi: percentileSorted(fg, 99), foreground: all.length ? fg.length / all.length : 0 };
}

/** Normalised copy (x - lo) / (hi - lo), clipped to [-1, 3]. Throws nothing: check `hi > lo` first. */
export function normalise(data: Float32Array, st: NormStats): Float32Array {
  const out = new Float32Array(data.length);
  const s = 1 / (st.hi - st.lo);
  for (let i = 0; i < data.length; i++) {
    const v = (data[i] - st.lo) * s;
    out[i] = v < -1 ? -1 : v > 3 ? 3 : Number.isFinite(v) ? v : 0;
  }
  return out;
}
