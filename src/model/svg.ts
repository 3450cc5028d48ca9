/** Minimal self-contained SVG line charts for the research report (no external fonts/scripts). */

export interface Series {
  x: number[];
  y: number[];
  label?: string;
  color: string;
  dash?: boolean;
  /** Draw as step function (ROC). */
  step?: boolean;
  points?: boolean;
  /** Symmetric error bars (same length as y). */
  errors?: number[];
  width?: number;
}

export interface ChartOptions {
  title: string;
  xlabel: string;
  ylabel: string;
  series: Series[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  vlines?: { x: number; label: string; color: string }[];
  diagonal?: boolean;
  width?: number;
  height?: number;
  legend?: boolean;
  legendPosition?: 'top' | 'bottom';
  /** Replace the numeric x ticks with these labels. */
  xTicks?: { x: number; label: string }[];
}

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
export const color = (i: number) => PALETTE[i % PALETTE.length]!;

function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, n);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** A chart label: 4 significant digits, exponent form (with `expDigits` decimals) for very small or large values. */
export function formatChartNumber(v: number, expDigits = 1): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(expDigits);
  return String(Number(v.toPrecision(4)));
}
const fmt = (v: number) => formatChartNumber(v);

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 520;
  const H = o.height ?? 380;
  const m = { l: 62, r: 16, t: 34, b: 48 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const allX = o.series.flatMap((s) => s.x).filter(Number.isFinite);
  const allY = o.series.flatMap((s) => s.y.map((v, i) => [v - (s.errors?.[i] ?? 0), v + (s.errors?.[i] ?? 0)]).flat()).filter(Number.isFinite);
  let [x0, x1] = o.xDomain ?? [Math.min(...allX), Math.max(...allX)];
  let [y0, y1] = o.yDomain ?? [Math.min(...allY), Math.max(...allY)];
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1];
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1];
  if (!o.yDomain) {
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11" role="img" aria-label="${escapeXml(o.title)}">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  parts.push(`<clipPath id="c${o.title.replace(/[^A-Za-z0-9]/g, '')}"><rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/></clipPath>`);
  for (const t of o.xTicks ?? ticks(x0, x1).map((x) => ({ x, label: fmt(x) }))) {
    parts.push(`<line x1="${sx(t.x)}" y1="${m.t}" x2="${sx(t.x)}" y2="${m.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t.x)}" y="${m.t + ph + 14}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" y1="${sy(t)}" x2="${m.l + pw}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 5}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(o.xlabel)}</text>`);
  parts.push(`<text transform="translate(14,${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.ylabel)}</text>`);
  const clip = `clip-path="url(#c${o.title.replace(/[^A-Za-z0-9]/g, '')})"`;
  if (o.diagonal) parts.push(`<line x1="${sx(x0)}" y1="${sy(y0)}" x2="${sx(x1)}" y2="${sy(y1)}" stroke="#999" stroke-dasharray="4,3" ${clip}/>`);
  (o.vlines ?? []).forEach((v, i) => {
    if (!Number.isFinite(v.x)) return;
    parts.push(`<line x1="${sx(v.x)}" y1="${m.t}" x2="${sx(v.x)}" y2="${m.t + ph}" stroke="${v.color}" stroke-dasharray="5,3"/>`);
    const right = sx(v.x) > m.l + pw - 60;
    parts.push(`<text x="${sx(v.x) + (right ? -3 : 3)}" y="${m.t + 12 + 13 * i}" fill="${v.color}" text-anchor="${right ? 'end' : 'start'}">${escapeXml(v.label)}</text>`);
  });
  for (const s of o.series) {
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (!Number.isFinite(s.x[i]!) || !Number.isFinite(s.y[i]!)) continue;
      if (s.step && pts.length) pts.push(`${sx(s.x[i]!).toFixed(2)},${sy(s.y[i - 1]!).toFixed(2)}`);
      pts.push(`${sx(s.x[i]!).toFixed(2)},${sy(s.y[i]!).toFixed(2)}`);
    }
    if (pts.length > 1)
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}" ${s.dash ? 'stroke-dasharray="6,4"' : ''} points="${pts.join(' ')}" ${clip}/>`);
    if (s.errors)
      s.x.forEach((x, i) => {
        const e = s.errors![i]!;
        parts.push(`<line x1="${sx(x)}" y1="${sy(s.y[i]! - e)}" x2="${sx(x)}" y2="${sy(s.y[i]! + e)}" stroke="${s.color}" stroke-opacity="0.45" ${clip}/>`);
      });
    if (s.points) s.x.forEach((x, i) => parts.push(`<circle cx="${sx(x)}" cy="${sy(s.y[i]!)}" r="3" fill="${s.color}" ${clip}/>`));
  }
  const labelled = o.series.filter((s) => s.label);
  if (o.legend !== false && labelled.length) {
    const lh = 15;
    const lw = Math.min(260, 16 + 6.4 * Math.max(...labelled.map((s) => s.label!.length)));
    const lx = m.l + pw - lw - 6;
    const ly = o.legendPosition === 'top' ? m.t + 6 : m.t + ph - lh * labelled.length - 8;
    parts.push(`<rect x="${lx}" y="${ly}" width="${lw}" height="${lh * labelled.length + 6}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`);
    labelled.forEach((s, i) => {
      const yy = ly + 12 + i * lh;
      parts.push(`<line x1="${lx + 4}" y1="${yy - 4}" x2="${lx + 18}" y2="${yy - 4}" stroke="${s.color}" stroke-width="2" ${s.dash ? 'stroke-dasharray="4,3"' : ''}/>`);
      parts.push(`<text x="${lx + 22}" y="${yy}">${escapeXml(s.label!)}</text>`);
    });
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Dot/strip plot of radscores by group with medians. */
export function stripChart(title: string, groups: { label: string; values: number[]; color: string }[], cutoff?: number): string {
  const series: Series[] = [];
  groups.forEach((g, gi) => {
    const xs = g.values.map((_, i) => gi + 1 + (((i * 0.618034) % 1) - 0.5) * 0.5);
    series.push({ x: xs, y: g.values, color: g.color, points: true, width: 0 });
    const s = [...g.values].sort((a, b) => a - b);
    const med = s.length ? (s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
    series.push({ x: [gi + 0.7, gi + 1.3], y: [med, med], color: '#000', width: 2.5 });
  });
  if (cutoff !== undefined) series.push({ x: [0.5, groups.length + 0.5], y: [cutoff, cutoff], color: '#888', dash: true, label: `cut-off ${cutoff.toFixed(3)}` });
  const svg = lineChart({
    title,
    xlabel: 'group (bar = median)',
    ylabel: 'radscore',
    series,
    xDomain: [0.5, groups.length + 0.5],
    xTicks: groups.map((g, i) => ({ x: i + 1, label: `${g.label} (n = ${g.values.length})` })),
  });
  return svg.replace(/<polyline fill="none" stroke="[^"]+" stroke-width="0"[^>]*\/>/g, '');
}
