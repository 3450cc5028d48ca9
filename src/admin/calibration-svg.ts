/**
 * Small self-contained SVG histogram for a calibration proposal: the site's values of one model term (bars)
 * against the model's normalisation (shaded mean ± 1 SD, dashed mean) and the proposed robust centre (solid line).
 * Shown on the admin page as an <img> (data: URI), so it can carry no script.
 */
import { escapeXml, formatChartNumber } from '../model/svg.js';

export interface HistogramInput {
  values: number[];
  modelMean: number;
  modelSd: number;
  proposedMean: number;
  proposedSd: number;
  title: string;
  width?: number;
  height?: number;
  bins?: number;
}

const fmt = (v: number) => formatChartNumber(v, 2);

export function histogramSvg(o: HistogramInput): string {
  const W = o.width ?? 260;
  const H = o.height ?? 96;
  const nb = o.bins ?? 20;
  const padL = 4;
  const padR = 4;
  const top = 14;
  const bottom = H - 16;
  const lo0 = Math.min(...o.values, o.modelMean - 2 * o.modelSd, o.proposedMean - 2 * o.proposedSd);
  const hi0 = Math.max(...o.values, o.modelMean + 2 * o.modelSd, o.proposedMean + 2 * o.proposedSd);
  const span = hi0 - lo0 || Math.abs(lo0) || 1;
  const lo = lo0 - span * 0.02;
  const hi = hi0 + span * 0.02;
  const x = (v: number) => padL + ((v - lo) / (hi - lo)) * (W - padL - padR);
  const counts = new Array<number>(nb).fill(0);
  for (const v of o.values) counts[Math.min(nb - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * nb)))]!++;
  const max = Math.max(1, ...counts);
  const bw = (W - padL - padR) / nb;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  const bandL = x(o.modelMean - o.modelSd);
  const bandR = x(o.modelMean + o.modelSd);
  parts.push(`<rect x="${bandL.toFixed(1)}" y="${top}" width="${Math.max(1, bandR - bandL).toFixed(1)}" height="${bottom - top}" fill="#f2b8b5" fill-opacity="0.45"/>`);
  counts.forEach((c, i) => {
    if (!c) return;
    const h = ((bottom - top) * c) / max;
    parts.push(`<rect x="${(padL + i * bw + 0.5).toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#175cd3"/>`);
  });
  parts.push(`<line x1="${x(o.modelMean).toFixed(1)}" y1="${top}" x2="${x(o.modelMean).toFixed(1)}" y2="${bottom}" stroke="#b42318" stroke-width="1.5" stroke-dasharray="3,2"/>`);
  parts.push(`<line x1="${x(o.proposedMean).toFixed(1)}" y1="${top}" x2="${x(o.proposedMean).toFixed(1)}" y2="${bottom}" stroke="#1f7a3a" stroke-width="1.5"/>`);
  parts.push(`<line x1="${padL}" y1="${bottom}" x2="${W - padR}" y2="${bottom}" stroke="#5f6b77" stroke-width="1"/>`);
  const text = (tx: number, ty: number, s: string, anchor = 'start', colour = '#1d232a') =>
    `<text x="${tx.toFixed(1)}" y="${ty}" font-family="DejaVu Sans, sans-serif" font-size="9" fill="${colour}" text-anchor="${anchor}">${escapeXml(s)}</text>`;
  parts.push(text(padL, H - 4, fmt(lo)));
  parts.push(text(W - padR, H - 4, fmt(hi), 'end'));
  parts.push(text(W / 2, H - 4, `n = ${o.values.length}`, 'middle', '#5f6b77'));
  parts.push(text(padL, 10, o.title.length > 52 ? o.title.slice(0, 51) + '\u2026' : o.title));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${parts.join('')}</svg>`;
}
