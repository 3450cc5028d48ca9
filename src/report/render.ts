/**
 * Renders the summary panel (mid-sagittal T1 slice with L1–L4 ROI outlines + the result in words) to 8-bit RGB.
 * Uses @napi-rs/canvas (Skia, prebuilt binary shipped as an npm optional dependency) and the DejaVu Sans font
 * shipped by the npm package @fontsource/dejavu-sans (OFL/Bitstream Vera licence), so it needs no system fonts.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { DISCLAIMER_TEXT, UNCALIBRATED_TEXT, UNVERIFIED_TEXT, noFlagReasons, resultPhrase } from './header.js';
import { scoreVsCutoff } from './numbers.js';
import type { ReportInput, SummarySlice } from './types.js';

export const FONT_FAMILY = 'OsteoScreenSans';
export const SUMMARY_WIDTH = 1024;
export const SUMMARY_HEIGHT = 768;
const IMAGE_PANEL = 480;

/** Outline colours per label 1..4 (L1..L4), also used for the level names. */
export const LEVEL_COLOURS = ['#ff4d4d', '#ffd21f', '#3ddc84', '#35c5ff', '#d58cff', '#ff9f40'];

let fontsLoaded = false;
function ensureFonts(): void {
  if (fontsLoaded) return;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@fontsource/dejavu-sans/package.json')), 'files');
  for (const w of ['400', '700']) {
    const key = GlobalFonts.registerFromPath(join(dir, `dejavu-sans-latin-${w}-normal.woff2`), FONT_FAMILY);
    if (!key) throw new Error(`could not load font dejavu-sans-latin-${w}-normal.woff2`);
  }
  fontsLoaded = true;
}

export interface RgbImage {
  rows: number;
  columns: number;
  /** Interleaved R,G,B bytes, row-major. */
  rgb: Uint8Array;
  /** The same picture as PNG (for previews and tests). */
  png: Buffer;
}

/** Robust display window: the 0.5th and 99.5th percentiles. */
function windowOf(data: Float32Array): [number, number] {
  const vals = Float32Array.from(data.filter((v) => Number.isFinite(v))).sort();
  if (vals.length === 0) return [0, 1];
  const lo = vals[Math.floor(0.005 * (vals.length - 1))]!;
  const hi = vals[Math.ceil(0.995 * (vals.length - 1))]!;
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/** Words wider than the line (long feature names) are split after '_' or '-'. */
function pieces(ctx: SKRSContext2D, word: string, maxWidth: number): string[] {
  if (ctx.measureText(word).width <= maxWidth) return [word];
  const parts = word.split(/(?<=[_-])/);
  const out: string[] = [];
  let cur = '';
  for (const p of parts) {
    if (cur && ctx.measureText(cur + p).width > maxWidth) {
      out.push(cur);
      cur = p;
    } else cur += p;
  }
  if (cur) out.push(cur);
  return out;
}

function wrap(ctx: SKRSContext2D, text: string, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').flatMap((w) => pieces(ctx, w, maxWidth))) {
    const candidate = line ? `${line} ${word}` : word;
    if (ctx.measureText(candidate).width <= maxWidth || !line) line = candidate;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function drawSlice(ctx: SKRSContext2D, s: SummarySlice, x0: number, y0: number, w: number, h: number): void {
  const { rows, columns } = s;
  if (s.slice.length !== rows * columns) throw new Error(`summary slice has ${s.slice.length} pixels, expected ${rows}x${columns}`);
  const [rowMm, colMm] = s.pixelSpacing;
  const scale = Math.min(w / (columns * colMm), h / (rows * rowMm)); // display px per mm
  const dw = columns * colMm * scale;
  const dh = rows * rowMm * scale;
  const ox = x0 + (w - dw) / 2;
  const oy = y0 + (h - dh) / 2;
  const sx = dw / columns;
  const sy = dh / rows;

  const [lo, hi] = windowOf(s.slice);
  const src = createCanvas(columns, rows);
  const sctx = src.getContext('2d');
  const img = sctx.createImageData(columns, rows);
  for (let i = 0; i < rows * columns; i++) {
    const v = Math.round((255 * (s.slice[i]! - lo)) / (hi - lo));
    const g = v < 0 ? 0 : v > 255 ? 255 : v;
    img.data[4 * i] = g;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(src, ox, oy, dw, dh);

  const roi = s.roiOutline;
  if (!roi) return;
  if (roi.length !== rows * columns) throw new Error('roiOutline size differs from the slice');
  // Vector outline: one segment per pixel edge between a label and anything else.
  const bbox = new Map<number, { r0: number; r1: number; c0: number; c1: number }>();
  const paths = new Map<number, Array<[number, number, number, number]>>();
  const at = (r: number, c: number) => (r < 0 || c < 0 || r >= rows || c >= columns ? 0 : roi[r * columns + c]!);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const l = roi[r * columns + c]!;
      if (!l) continue;
      const b = bbox.get(l);
      if (!b) bbox.set(l, { r0: r, r1: r, c0: c, c1: c });
      else {
        b.r1 = Math.max(b.r1, r);
        b.c0 = Math.min(b.c0, c);
        b.c1 = Math.max(b.c1, c);
      }
      let segs = paths.get(l);
      if (!segs) paths.set(l, (segs = []));
      if (at(r - 1, c) !== l) segs.push([c, r, c + 1, r]);
      if (at(r + 1, c) !== l) segs.push([c, r + 1, c + 1, r + 1]);
      if (at(r, c - 1) !== l) segs.push([c, r, c, r + 1]);
      if (at(r, c + 1) !== l) segs.push([c + 1, r, c + 1, r + 1]);
    }
  }
  ctx.lineWidth = 2;
  ctx.font = `bold 22px ${FONT_FAMILY}`;
  ctx.textBaseline = 'middle';
  for (const [l, segs] of [...paths].sort((a, b) => a[0] - b[0])) {
    const colour = LEVEL_COLOURS[(l - 1) % LEVEL_COLOURS.length]!;
    ctx.strokeStyle = colour;
    ctx.beginPath();
    for (const [c0, r0, c1, r1] of segs) {
      ctx.moveTo(ox + c0 * sx, oy + r0 * sy);
      ctx.lineTo(ox + c1 * sx, oy + r1 * sy);
    }
    ctx.stroke();
    const b = bbox.get(l)!;
    const name = l <= 5 ? `L${l}` : `#${l}`;
    const tx = Math.min(ox + (b.c1 + 1) * sx + 8, x0 + w - ctx.measureText(name).width - 2);
    const ty = oy + ((b.r0 + b.r1 + 1) / 2) * sy;
    ctx.lineWidth = 4;
    ctx.strokeStyle = 'black';
    ctx.strokeText(name, tx, ty);
    ctx.fillStyle = colour;
    ctx.fillText(name, tx, ty);
    ctx.lineWidth = 2;
  }
  ctx.textBaseline = 'alphabetic';
}

function resultColour(input: ReportInput): string {
  const r = input.result;
  if (r.kind === 'not-assessable') return '#ffb000';
  if (r.flag === null) return '#ffd21f';
  return r.flag ? '#ff5a4a' : '#3ddc84';
}

/** Render the summary panel of a report. */
export function renderSummary(input: ReportInput): RgbImage {
  ensureFonts();
  const W = SUMMARY_WIDTH;
  const H = SUMMARY_HEIGHT;
  const canvas = createCanvas(W, H);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, W, H);

  // Left: the image.
  const pad = 16;
  if (input.summary) drawSlice(ctx, input.summary, pad, pad, IMAGE_PANEL - 2 * pad, H - 2 * pad);
  else {
    ctx.fillStyle = '#808080';
    ctx.font = `22px ${FONT_FAMILY}`;
    ctx.fillText('No image available', pad + 20, H / 2);
  }
  ctx.fillStyle = '#404040';
  ctx.fillRect(IMAGE_PANEL, 0, 2, H);

  // Right: the text.
  const x = IMAGE_PANEL + 28;
  const maxW = W - x - 24;
  let y = 48;
  const put = (text: string, font: string, colour: string, lineH: number, gapAfter = 0) => {
    ctx.font = `${font} ${FONT_FAMILY}`;
    ctx.fillStyle = colour;
    for (const line of wrap(ctx, text, maxW)) {
      ctx.fillText(line, x, y);
      y += lineH;
    }
    y += gapAfter;
  };

  put(`${input.algorithm.name} bone mass screening`, 'bold 22px', '#ffffff', 30, 14);
  const r = input.result;
  if (r.kind === 'not-assessable') {
    put('Not assessable', 'bold 40px', resultColour(input), 48, 4);
    put(r.reason.length > 240 ? `${r.reason.slice(0, 239)}\u2026` : r.reason, '22px', '#ffffff', 28, 12);
  } else if (r.flag === null) put(resultPhrase(input).replace(/ \(score shown.*\)$/, ''), 'bold 32px', resultColour(input), 40, 12);
  else put(resultPhrase(input), 'bold 40px', resultColour(input), 48, 12);
  if (r.kind === 'scored' && r.flag === null) {
    // No verdict: the number for information only, no comparison with the cut-off, and every reason.
    const p = scoreVsCutoff(r.score, r.cutoff);
    put(`Radscore ${p.score} (information only, no flag)`, 'bold 26px', '#ffffff', 34);
    const reasons = noFlagReasons(input);
    for (const why of reasons.slice(0, 3)) put(why, '18px', '#ffd21f', 23, 4);
    if (reasons.length > 3) put(`and ${reasons.length - 3} more (see the SR)`, '19px', '#ffd21f', 25, 4);
    y += 6;
  } else if (r.kind === 'scored') {
    const p = scoreVsCutoff(r.score, r.cutoff);
    put(`Radscore ${p.score}${p.nearness ? ` (${p.nearness})` : ''}`, 'bold 32px', '#ffffff', 40);
    put(`cut-off: abnormal if > ${p.cutoff}`, '26px', '#e0e0e0', 36, 10);
  }
  const levels = r.levels ?? [];
  if (levels.length) {
    put('Segmented vertebral bodies (volume):', '20px', '#c0c0c0', 26);
    put(levels.map((l) => `${l.level}\u00a0${(l.volumeMm3 / 1000).toFixed(1)}\u00a0cm\u00b3`).join('  '), '20px', '#ffffff', 26, 10);
  }
  const m = input.model;
  put(`Model ${m.name} ${m.version} (${m.calibrated ? 'calibrated' : 'UNCALIBRATED'})`, '18px', '#c0c0c0', 24);
  put(`model hash ${m.hash.slice(0, 16)}`, '18px', '#c0c0c0', 24);
  if (input.modelChoice) put(input.modelChoice, '16px', '#c0c0c0', 21);
  put(`${input.algorithm.name} ${input.algorithm.version}`, '18px', '#c0c0c0', 24, 10);
  if (r.kind === 'scored' && !m.calibrated) put(UNCALIBRATED_TEXT, '19px', '#ffd21f', 25, 10);

  // Footer: always shown.
  y = Math.max(y + 8, H - 82);
  put(UNVERIFIED_TEXT, 'bold 22px', '#ffd21f', 30);
  put(DISCLAIMER_TEXT, 'bold 20px', '#ffffff', 28);

  const rgba = ctx.getImageData(0, 0, W, H).data;
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { rows: H, columns: W, rgb, png: canvas.toBuffer('image/png') };
}
