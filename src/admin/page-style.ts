/**
 * The admin page's stylesheet (served as /assets/admin.css): the base styles, then the destination panel's and the
 * calibration tab's own rules.
 */
import { PAGE_CALIBRATION_CSS } from './page-calibration.js';
import { PAGE_PERFORMANCE_CSS } from './page-performance.js';
import { DESTINATIONS_CSS } from './page-destinations.js';
import { PAGE_BACKFILL_CSS } from '../backfill/page.js';

export const PAGE_CSS = `
:root { --fg:#1d232a; --muted:#5f6b77; --line:#d6dbe0; --bg:#f6f7f9; --ok:#1f7a3a; --bad:#b42318; --warn:#b54708; --info:#175cd3; --grey:#667085; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin:0; font: 14px/1.4 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:10px 16px; }
h1 { font-size:20px; margin:0 0 4px 0; }
h3 { margin:16px 0 6px; font-size:15px; }
.muted { color: var(--muted); font-weight: normal; }
.banner { color: var(--warn); font-size: 12px; margin-bottom: 6px; }
.overview { display:flex; flex-wrap:wrap; gap:8px; font-size:13px; }
.overview .chip { background: var(--bg); border:1px solid var(--line); border-radius: 12px; padding: 2px 10px; }
.overview .chip.warn { border-color: var(--warn); color: var(--warn); }
main, #login { padding: 10px 16px; }
nav { display:flex; gap:6px; align-items:center; border-bottom:1px solid var(--line); margin-bottom:10px; }
nav .spacer { flex:1; }
.tab { border:1px solid transparent; border-bottom:none; background:none; padding:6px 12px; cursor:pointer; font: inherit; border-radius:4px 4px 0 0; }
.tab.active { background:#fff; border-color: var(--line); margin-bottom:-1px; font-weight:bold; }
button { font: inherit; white-space: nowrap; padding: 3px 10px; border:1px solid var(--line); border-radius:4px; background:#fff; cursor:pointer; }
button:hover { border-color: var(--info); }
button.danger { color: var(--bad); }
button.link { border:none; background:none; color: var(--info); text-decoration: underline; }
button:disabled { opacity:.5; cursor: default; }
.filters { display:flex; gap:12px; align-items:center; margin-bottom:8px; }
table.grid { border-collapse: collapse; width:100%; background:#fff; }
.grid th, .grid td { border-bottom:1px solid var(--line); padding:5px 8px; text-align:left; vertical-align: top; }
.grid th { background:#eef1f4; font-size:12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
.grid tr.selected td { background:#eaf2ff; }
.grid tbody tr:hover td { background:#f3f7fc; cursor: default; }
.uid { font-family: "DejaVu Sans Mono", monospace; font-size: 11px; color: var(--muted); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:bold; color:#fff; background: var(--grey); white-space: nowrap; }
.badge[data-state=done] { background: var(--ok); }
.badge[data-state=failed] { background: var(--bad); }
.badge[data-state=not-assessable] { background: var(--warn); }
.badge[data-state=processing], .badge[data-state=queued] { background: var(--info); }
.badge[data-state=receiving], .badge[data-state=stable] { background: #7a5af8; }
.badge[data-state=sent] { background: var(--ok); }
.badge[data-state=pending] { background: var(--info); }
.badge[data-state=dead-letter] { background: var(--bad); }
.badge.warn { background: var(--warn); }
.badge.ok { background: var(--ok); }
.flag { font-weight:bold; }
.flag.yes { color: var(--bad); }
.flag.no { color: var(--ok); }
.reason { max-width: 320px; color: var(--muted); font-size: 13px; }
img.thumb { height: 64px; border:1px solid var(--line); background:#000; cursor: zoom-in; }
img.big { max-width: 100%; border:1px solid var(--line); }
.actions { display:flex; gap:4px; flex-wrap: wrap; }
.detail { background:#fff; border:1px solid var(--line); margin-top: 12px; padding: 10px 14px; }
dl { display:grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
.detail .grid td { font-size: 13px; }
td.feature { word-break: break-all; }
.cols { display:flex; gap: 24px; flex-wrap: wrap; }
.cols > div { flex: 1 1 420px; min-width: 0; }
.code { background:#fff; border:1px solid var(--line); padding:8px; overflow:auto; max-height: 420px; font-size: 12px; }
.message { padding:6px 10px; border-radius:4px; margin-bottom:8px; background:#eaf2ff; border:1px solid #b2ccff; }
.message.error, .error { color: var(--bad); }
.message.error { background:#fef3f2; border-color:#fda29b; }
.drift-card { background:#fff; border:1px solid var(--line); padding:8px 12px; margin-bottom:10px; }
.drift-card.warn { border-color: var(--warn); }
.model-card table { border-collapse: collapse; margin: 6px 0; } .model-card th, .model-card td { border: 1px solid var(--line); padding: 2px 6px; text-align: left; }
.model-card pre { background:#f4f6f8; padding:6px; overflow:auto; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.z-warn, span.z-warn { color: var(--warn); font-weight: bold; }
${DESTINATIONS_CSS}` + PAGE_CALIBRATION_CSS + PAGE_PERFORMANCE_CSS + PAGE_BACKFILL_CSS;
