/**
 * Evaluation overlay (PNG): one sagittal slice shown in the canonical orientation (anterior left, superior up),
 * the network's raw sacrum (green) and CSF (blue) classes, our level labels as coloured fills with their names,
 * and the expert outlines (cyan), so a person can see what the labelling did and why.
 */
import { createCanvas } from '@napi-rs/canvas';
import type { LabelMap, Volume } from '../volume/types.js';
import { CLASS } from './segmenter.js';
import { planeFrame } from './slices.js';

const LEVEL_RGB: Record<number, [number, number, number]> = {
  1: [255, 77, 77],
  2: [255, 210, 31],
  3: [61, 220, 132],
  4: [53, 197, 255],
  5: [213, 140, 255],
  12: [255, 159, 64],
  11: [200, 120, 60],
  10: [160, 100, 60],
  20: [120, 255, 200],
};
const LEVEL_NAME: Record<number, string> = { 1: 'L1', 2: 'L2', 3: 'L3', 4: 'L4', 5: 'L5', 12: 'T12', 11: 'T11', 10: 'T10', 9: 'T9', 8: 'T8', 20: 'S1' };

/** Slice (k) with the most voxels of `labels` in `map` (middle slice when none). */
export function busiestSlice(map: LabelMap, labels: Set<number>): number {
  const [nx, ny, nz] = map.dims;
  let best = Math.floor(nz / 2);
  let bestN = 0;
  for (let k = 0; k < nz; k++) {
    let n = 0;
    for (let v = k * nx * ny; v < (k + 1) * nx * ny; v++) if (labels.has(map.data[v])) n++;
    if (n > bestN) [best, bestN] = [k, n];
  }
  return best;
}

export interface OverlayInput {
  vol: Volume;
  /** raw network classes */
  classes?: LabelMap;
  /** our level labels */
  levels?: LabelMap;
  /** expert level mask */
  truth?: LabelMap;
  slice: number;
  title: string;
  lines?: string[];
  /** tags drawn beside a point (voxel indices; drawn whatever its slice), e.g. the S1 evidence votes */
  markers?: { index: [number, number, number]; text: string; color: string }[];
}

/** Renders the overlay; returns PNG bytes. */
export function renderOverlay(o: OverlayInput): Buffer {
  const [nx, ny] = o.vol.dims;
  const fr = planeFrame(o.vol);
  const frame = 'error' in fr ? { colAxis: 0 as const, colSign: 1 as const, rowAxis: 1 as const, rowSign: 1 as const } : fr;
  const W = o.vol.dims[frame.colAxis];
  const H = o.vol.dims[frame.rowAxis];
  const spCol = o.vol.spacing[frame.colAxis];
  const spRow = o.vol.spacing[frame.rowAxis];
  // display pixel (x, y) -> native (i, j)
  const nat = (x: number, y: number): number => {
    const c = frame.colSign === 1 ? x : W - 1 - x;
    const r = frame.rowSign === 1 ? y : H - 1 - y;
    const i = frame.colAxis === 0 ? c : r;
    const j = frame.colAxis === 0 ? r : c;
    return i + j * nx + o.slice * nx * ny;
  };
  const scale = 2 * Math.max(spCol, spRow) / Math.min(spCol, spRow);
  const sx = scale * (spCol / Math.max(spCol, spRow));
  const sy = scale * (spRow / Math.max(spCol, spRow));
  const pw = Math.round(W * sx);
  const ph = Math.round(H * sy);
  const top = 18 + 14 * (o.lines?.length ?? 0) + 6;
  const canvas = createCanvas(Math.max(pw, 480), ph + top);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  // grey window from the slice's 1st/99th percentiles
  const vals: number[] = [];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) vals.push(o.vol.data[nat(x, y)]);
  const sorted = Float32Array.from(vals).sort();
  const lo = sorted[Math.floor(0.01 * (sorted.length - 1))];
  const hi = Math.max(lo + 1e-6, sorted[Math.ceil(0.995 * (sorted.length - 1))]);
  const img = ctx.createImageData(W, H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = nat(x, y);
      const g = Math.max(0, Math.min(255, ((o.vol.data[v] - lo) / (hi - lo)) * 255));
      let rgb: [number, number, number] = [g, g, g];
      const mix = (c: [number, number, number], a: number) => {
        rgb = [rgb[0] * (1 - a) + c[0] * a, rgb[1] * (1 - a) + c[1] * a, rgb[2] * (1 - a) + c[2] * a];
      };
      const cls = o.classes?.data[v];
      if (cls === CLASS.sacrum) mix([40, 220, 40], 0.45);
      else if (cls === CLASS.csf) mix([60, 80, 255], 0.3);
      else if (cls === CLASS.body && !o.levels?.data[v]) mix([255, 40, 40], 0.35);
      const lv = o.levels?.data[v];
      if (lv && LEVEL_RGB[lv]) mix(LEVEL_RGB[lv], 0.45);
      const t = o.truth?.data[v] ?? 0;
      if (t) {
        const edge =
          x === 0 || y === 0 || x === W - 1 || y === H - 1 || o.truth!.data[nat(x - 1, y)] !== t || o.truth!.data[nat(x + 1, y)] !== t || o.truth!.data[nat(x, y - 1)] !== t || o.truth!.data[nat(x, y + 1)] !== t;
        if (edge) rgb = [0, 255, 255];
      }
      const p = (x + y * W) * 4;
      img.data[p] = rgb[0];
      img.data[p + 1] = rgb[1];
      img.data[p + 2] = rgb[2];
      img.data[p + 3] = 255;
    }
  }
  const tile = createCanvas(W, H);
  tile.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tile, 0, top, pw, ph);
  // level names at their centroids on this slice
  if (o.levels) {
    const acc = new Map<number, [number, number, number]>();
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const lv = o.levels.data[nat(x, y)];
        if (!lv) continue;
        const a = acc.get(lv) ?? [0, 0, 0];
        a[0] += x;
        a[1] += y;
        a[2]++;
        acc.set(lv, a);
      }
    }
    ctx.font = 'bold 13px sans-serif';
    for (const [lv, [x, y, n]] of acc) {
      ctx.fillStyle = '#fff';
      ctx.fillText(LEVEL_NAME[lv] ?? String(lv), (x / n) * sx - 40, top + (y / n) * sy + 4);
    }
  }
  // markers: stacked tags to the right of their point, with a dot at the point
  if (o.markers?.length) {
    const disp = (ijk: [number, number, number]): [number, number] => {
      const c = frame.colAxis === 0 ? ijk[0] : ijk[1];
      const r = frame.colAxis === 0 ? ijk[1] : ijk[0];
      const x = frame.colSign === 1 ? c : W - 1 - c;
      const y = frame.rowSign === 1 ? r : H - 1 - r;
      return [x * sx, top + y * sy];
    };
    const stack = new Map<string, number>();
    ctx.font = 'bold 11px sans-serif';
    for (const m of o.markers) {
      const [x, y] = disp(m.index);
      const key = `${Math.round(x)},${Math.round(y)}`;
      const n = stack.get(key) ?? 0;
      stack.set(key, n + 1);
      ctx.fillStyle = m.color;
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, 2 * Math.PI);
      ctx.fill();
      const tx = Math.min(x + 60, canvas.width - ctx.measureText(m.text).width - 4);
      ctx.fillStyle = 'rgba(0,0,0,0.6)';
      ctx.fillRect(tx - 2, y - 9 + 12 * n, ctx.measureText(m.text).width + 4, 12);
      ctx.fillStyle = m.color;
      ctx.fillText(m.text, tx, y + 12 * n);
    }
  }
  ctx.font = 'bold 14px sans-serif';
  ctx.fillStyle = '#fff';
  ctx.fillText(o.title, 6, 15);
  ctx.font = '12px sans-serif';
  (o.lines ?? []).forEach((l, n) => ctx.fillText(l, 6, 31 + 14 * n));
  return canvas.toBuffer('image/png');
}
