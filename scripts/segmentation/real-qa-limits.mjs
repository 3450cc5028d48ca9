#!/usr/bin/env node
// Size/shape ranges of the expert L1-L5 bodies of a folder laid out like shared/real-lumbar-dev (run `npm run build` first):
// node scripts/segmentation/real-qa-limits.mjs [../shared/real-lumbar-dev]. The QA gate's limits (src/segmentation/qa-limits.ts) cite its output.
import { findCases } from '../../dist/segmentation/real-eval.js';
import { loadSeries } from '../../dist/segmentation/io.js';
import { readNiftiLabelMap } from '../../dist/volume/nifti.js';
import { bodyShape } from '../../dist/segmentation/roi.js';
import { indexToPoint } from '../../dist/volume/types.js';
const rows = [];
for (const c of findCases(process.argv[2] ?? '../shared/real-lumbar-dev')) {
  const vol = await loadSeries(c.series);
  const m = readNiftiLabelMap(c.mask);
  const truth = { ...vol, data: m.data };
  const [nx, ny, nz] = vol.dims;
  const info = {};
  for (const l of [11, 12, 1, 2, 3, 4, 5]) {
    let n=0, si=0,sj=0,sk=0;
    for (let v=0; v<m.data.length; v++) if (m.data[v]===l) { n++; const k=Math.floor(v/(nx*ny)); const r=v-k*nx*ny; const j=Math.floor(r/nx); si+=r-j*nx; sj+=j; sk+=k; }
    info[l] = { n, ci: [si/n, sj/n, sk/n], vol: n*vol.spacing[0]*vol.spacing[1]*vol.spacing[2] };
    info[l].p = indexToPoint(vol, ...info[l].ci);
  }
  const order = [11, 12, 1, 2, 3, 4, 5];
  const out = [];
  for (const l of [1,2,3,4,5]) {
    const idx = order.indexOf(l); const above = info[order[idx-1]], below = info[order[idx+1]] ?? info[l];
    const a = above.p, b = (l===5? info[l].p : below.p);
    const d = [a[0]-b[0], a[1]-b[1], a[2]-b[2]]; const len = Math.hypot(...d);
    const axis = d.map(x=>x/len);
    const s = bodyShape(truth, { label: l, midSlice: Math.round(info[l].ci[2]) }, axis, (i,j,k)=>indexToPoint(vol,i,j,k));
    out.push(`L${l} ${(info[l].vol/1000).toFixed(1)}cc h/d ${s.ratio.toFixed(2)} (${s.heightMm.toFixed(0)}/${s.depthMm.toFixed(0)})`);
    rows.push({ l, vol: info[l].vol/1000, r: s.ratio });
  }
  console.log(c.name, out.join('  '));
}
for (const l of [1,2,3,4,5]) { const v = rows.filter(r=>r.l===l); console.log(`L${l} vol ${Math.min(...v.map(r=>r.vol)).toFixed(1)}-${Math.max(...v.map(r=>r.vol)).toFixed(1)} ratio ${Math.min(...v.map(r=>r.r)).toFixed(2)}-${Math.max(...v.map(r=>r.r)).toFixed(2)}`); }
const l14 = rows.filter(r=>r.l<=4); console.log(`L1-L4 vol ${Math.min(...l14.map(r=>r.vol)).toFixed(1)}-${Math.max(...l14.map(r=>r.vol)).toFixed(1)} ratio ${Math.min(...l14.map(r=>r.r)).toFixed(2)}-${Math.max(...l14.map(r=>r.r)).toFixed(2)}`);
