#!/usr/bin/env node
// Candidate changes of the ROI rule (issue 25), each applied to BOTH the expert mask and the automatic level map,
// measured on the shipped model's T2 terms (run `npm run build` first, from the repository root):
//   node scripts/segmentation/roi-rule-candidates.mjs [../shared/real-lumbar-dev]
// base            the shipped rule (L1-L4, mid slice +-1, 1.5 mm in-plane erosion)
// closeX          in-plane closing of each body (3x3 cross) before the erosion: fills one-pixel notches
// openClose       opening then closing (3x3 cross) before the erosion: one-pixel spurs and notches
// roiOpenX        opening (3x3 cross) of the eroded ROI
// roiCloseOpenX   closing then opening (3x3 cross) of the eroded ROI
// trimRoi50/70    ROI rim pixels (not in the ROI eroded by one pixel) darker than 0.5 / 0.7 x the median of that core dropped
// trimBody50      body-mask edge pixels darker than 0.5 x the body's core median (mask eroded by 3 px) dropped before the erosion
// prism           each body's ROI = the intersection of its three eroded slices (no slice-to-slice outline steps)
// models/vertebrae-seg.md ("Feature agreement of the automatic ROI") cites its output.
import { roiSetup } from './roi-setup.mjs';
import { findCases, evaluateCase } from '../../dist/segmentation/real-eval.js';
import { bodiesFromLevelMap, buildRoi, erodeSlice } from '../../dist/segmentation/roi.js';
import { roiFeatures, toRImage } from '../../dist/model/roi-eval.js';
import { iccA1, blandAltman, sampleSd } from '../../dist/model/stats/icc.js';
const trained = new Set(['case02', 'case08', 'case13', 'case19']);
const dir = process.argv[2] ?? '../shared/real-lumbar-dev';
const { spec, settings, only, seg, pool, extract } = await roiSetup();
const cross = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]];
const sq = [];
for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) sq.push([a, b]);
// per-slice binary morphology on a label map (all labels), structuring element offs
function morph(map, offs, op) {
  const [nx, ny, nz] = map.dims;
  const out = new Uint8Array(map.data.length);
  const d = map.data;
  for (let k = 0; k < nz; k++) {
    const base = k * nx * ny;
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (op === 'erode') {
          const l = d[base + j * nx + i];
          if (!l) continue;
          let keep = true;
          for (const [di, dj] of offs) {
            const a = i + di, b = j + dj;
            if (a < 0 || b < 0 || a >= nx || b >= ny || d[base + b * nx + a] !== l) { keep = false; break; }
          }
          if (keep) out[base + j * nx + i] = l;
        } else {
          // dilate: pixel takes a label present in its neighbourhood (the own label first; else the first found if unique)
          const own = d[base + j * nx + i];
          if (own) { out[base + j * nx + i] = own; continue; }
          let lab = 0, conflict = false;
          for (const [di, dj] of offs) {
            const a = i + di, b = j + dj;
            if (a < 0 || b < 0 || a >= nx || b >= ny) continue;
            const l = d[base + b * nx + a];
            if (l) { if (lab && l !== lab) conflict = true; lab = l; }
          }
          if (lab && !conflict) out[base + j * nx + i] = lab;
        }
      }
  }
  return { ...map, data: out };
}
const close = (m, o) => morph(morph(m, o, 'dilate'), o, 'erode');
const open = (m, o) => morph(morph(m, o, 'erode'), o, 'dilate');
// keep only labels 1..4 restricted ROI ops: ROI maps have labels 1..4
function trim(roi, vol, frac) {
  // drop ROI pixels on the ROI's edge (4-neighbour outside) darker than frac x the body's core median (ROI eroded by 1 px)
  const [nx, ny, nz] = roi.dims;
  const core = morph(roi, sq, 'erode');
  const med = {};
  for (const l of [1, 2, 3, 4]) {
    const v = [];
    for (let x = 0; x < roi.data.length; x++) if (core.data[x] === l) v.push(vol.data[x]);
    v.sort((a, b) => a - b);
    med[l] = v.length ? v[v.length >> 1] : NaN;
  }
  const out = Uint8Array.from(roi.data);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const x = k * nx * ny + j * nx + i;
    const l = roi.data[x];
    if (!l || core.data[x]) continue;
    if (vol.data[x] < frac * med[l]) out[x] = 0;
  }
  return { ...roi, data: out };
}
function trimBody(map, vol, frac) {
  // drop pixels on the body mask's in-plane edge (a 4-neighbour outside the body) darker than frac x the median of the body's core (mask eroded by 3 px) on that slice range
  const [nx, ny, nz] = map.dims;
  const core = morph(morph(morph(map, sq, 'erode'), sq, 'erode'), sq, 'erode');
  const vals = new Map();
  for (let x = 0; x < map.data.length; x++) { const l = core.data[x]; if (!l) continue; if (!vals.has(l)) vals.set(l, []); vals.get(l).push(vol.data[x]); }
  const med = new Map([...vals].map(([l, v]) => (v.sort((a, b) => a - b), [l, v[v.length >> 1]])));
  const out = Uint8Array.from(map.data);
  let n = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const x = k * nx * ny + j * nx + i; const l = map.data[x]; if (!l) continue;
    let edge = false;
    for (const [di, dj] of cross) { const a = i + di, b = j + dj; if (a < 0 || b < 0 || a >= nx || b >= ny || map.data[k * nx * ny + b * nx + a] !== l) { edge = true; break; } }
    if (edge && med.has(l) && vol.data[x] < frac * med.get(l)) { out[x] = 0; n++; }
  }
  return { ...map, data: out };
}
function prism(roi, b, spec) {
  // each body's ROI = the intersection of its eroded outline over its slices, on each of them
  const [nx, ny, nz] = roi.dims; const out = Uint8Array.from(roi.data);
  for (const body of b) {
    const lab = ['L1','L2','L3','L4'].indexOf(body.level) + 1; if (!lab) continue;
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      let all = true; for (let dk = -1; dk <= 1; dk++) { const k = body.midSlice + dk; if (roi.data[k * nx * ny + j * nx + i] !== lab) all = false; }
      if (!all) for (let dk = -1; dk <= 1; dk++) { const k = body.midSlice + dk; if (roi.data[k * nx * ny + j * nx + i] === lab) out[k * nx * ny + j * nx + i] = 0; }
    }
  }
  return { ...roi, data: out };
}
const variants = {
  base: (m, b) => buildRoi(m, b, spec).roi,
  closeX: (m, b) => buildRoi(close(m, cross), b, spec).roi,
  openClose: (m, b) => buildRoi(close(open(m, cross), cross), b, spec).roi,
  roiOpenX: (m, b) => open(buildRoi(m, b, spec).roi, cross),
  roiCloseOpenX: (m, b) => open(close(buildRoi(m, b, spec).roi, cross), cross),
  trimRoi50: (m, b, vol) => trim(buildRoi(m, b, spec).roi, vol, 0.5),
  trimRoi70: (m, b, vol) => trim(buildRoi(m, b, spec).roi, vol, 0.7),
  trimBody50: (m, b, vol) => buildRoi(trimBody(m, vol, 0.5), b, spec).roi,
  prism: (m, b) => prism(buildRoi(m, b, spec).roi, b, spec),
};
const rows = [];
for (const c of findCases(dir)) {
  const e = await evaluateCase(c, seg, { roi: spec });
  if (!e.analysis.ok) { console.log(`${c.name}: refused (${e.analysis.reason})`); continue; }
  const E = e.truth, A = e.analysis.levels;
  // restrict both to labels 1..4 = L1..L4 only? keep maps as they are (buildRoi uses body labels)
  const eb = bodiesFromLevelMap(E), ab = e.analysis.bodies;
  const img = toRImage(e.vol);
  const f = {};
  const jobs = [];
  for (const [name, fn] of Object.entries(variants)) {
    jobs.push((async () => { f[`E.${name}`] = await roiFeatures(img, fn(E, eb, e.vol), settings, only, extract); })());
    jobs.push((async () => { f[`A.${name}`] = await roiFeatures(img, fn(A, ab, e.vol), settings, only, extract); })());
  }
  await Promise.all(jobs);
  const cnt = (r) => r.data.reduce((s, x) => s + (x ? 1 : 0), 0);
  const roiE = buildRoi(E, eb, spec).roi, roiA = buildRoi(A, ab, spec).roi;
  const gone = (r0, r1) => cnt(r0) - cnt(r1);
  console.log(`${c.name}: ROI voxels expert ${cnt(roiE)} / auto ${cnt(roiA)}; dropped by trimRoi50 ${gone(roiE, variants.trimRoi50(E, eb, e.vol))} / ${gone(roiA, variants.trimRoi50(A, ab, e.vol))}, by trimBody50 ${gone(roiE, variants.trimBody50(E, eb, e.vol))} / ${gone(roiA, variants.trimBody50(A, ab, e.vol))}`);
  rows.push({ name: c.name, f });
  process.stderr.write(`${c.name} ${new Date().toISOString()}\n`);
}
await pool.close();
for (const [subset, rs] of [['held-out', rows.filter((r) => !trained.has(r.name))], ['all', rows]]) {
  console.log(`\n${subset} (n ${rs.length})`);
  for (const v of Object.keys(variants)) {
    const cells = only.map((t) => {
      const pairs = rs.map((r) => [r.f[`E.${v}`][t], r.f[`A.${v}`][t]]);
      const ic = iccA1(pairs);
      const ba = blandAltman(pairs.map((p) => p[1]), pairs.map((p) => p[0]));
      return `${t.split('_').pop().slice(0, 14)} ${ic.icc.toFixed(2)} [${ic.lower.toFixed(2)},${ic.upper.toFixed(2)}] b/SD ${(ba.bias / sampleSd(pairs.map((p) => p[0]))).toFixed(2)}`;
    });
    console.log(`${v.padEnd(14)} ${cells.join(' | ')}`);
  }
}
