#!/usr/bin/env node
// Why do the automatic and the expert ROI give different features? (issue 25; run `npm run build` first)
//   node scripts/segmentation/roi-agreement-causes.mjs [../shared/real-lumbar-dev] [--trained case02,case08,case13,case19]
// For every case it builds ROIs that swap one factor at a time between the expert mask (E) and the automatic
// level map (A), all with the shipped model's ROI rule, and measures the model's T2 terms on each:
//   EE expert boundary + expert mid slices (the expert ROI)    AA automatic boundary + automatic mid slices (ours)
//   EA expert boundary + automatic mid slices                  AE automatic boundary + expert mid slices
//   E@x / A@x both with erosion x mm (1.5, 2.5, 3.5)           P1 automatic mask minus one in-plane pixel layer
// and the in-plane distance between the two boundaries on each body's expert mid slice (+ = automatic outside).
// models/vertebrae-seg.md ("Feature agreement of the automatic ROI") cites its output.
import { roiSetup } from './roi-setup.mjs';
import { findCases, evaluateCase } from '../../dist/segmentation/real-eval.js';
import { bodiesFromLevelMap, buildRoi, erodeSlice } from '../../dist/segmentation/roi.js';
import { roiFeatures, toRImage } from '../../dist/model/roi-eval.js';
import { iccA1, blandAltman, sampleSd } from '../../dist/model/stats/icc.js';

const args = process.argv.slice(2);
const ti = args.indexOf('--trained');
const trained = new Set(ti >= 0 ? args.splice(ti, 2)[1].split(',') : ['case02', 'case08', 'case13', 'case19']);
const dir = args[0] ?? '../shared/real-lumbar-dev';
const { spec, settings, only, seg, pool, extract } = await roiSetup();
const peel = (map) => {
  const out = { ...map, data: new Uint8Array(map.data.length) };
  for (let k = 0; k < map.dims[2]; k++) for (const l of [1, 2, 3, 4]) erodeSlice(map, l, k, 1.0, out.data, l);
  return out;
};
const rows = [];
const dists = [];
for (const c of findCases(dir)) {
  const e = await evaluateCase(c, seg, { roi: spec });
  if (!e.analysis.ok) {
    console.log(`${c.name}: refused (${e.analysis.reason})`);
    continue;
  }
  const E = e.truth;
  const A = e.analysis.levels;
  const eb = bodiesFromLevelMap(E);
  const ab = bodiesFromLevelMap(A);
  const withMid = (bodies, from) => bodies.map((b) => ({ ...b, midSlice: from.find((x) => x.label === b.label).midSlice }));
  const [nx, ny] = E.dims;
  for (const b of eb) {
    const base = b.midSlice * nx * ny;
    const inA = (i, j) => i >= 0 && j >= 0 && i < nx && j < ny && A.data[base + j * nx + i] === b.label;
    const inE = (i, j) => i >= 0 && j >= 0 && i < nx && j < ny && E.data[base + j * nx + i] === b.label;
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (!inE(i, j) || (inE(i + 1, j) && inE(i - 1, j) && inE(i, j + 1) && inE(i, j - 1))) continue;
        const s = inA(i, j);
        let best = 99;
        for (let dj = -8; dj <= 8; dj++) for (let di = -8; di <= 8; di++) if (inA(i + di, j + dj) !== s) best = Math.min(best, Math.hypot(di * E.spacing[0], dj * E.spacing[1]));
        // pixel-edge distance from the expert's edge to ours: 0 where the edges coincide, +1 one pixel layer outside
        dists.push(s ? best - 1 : -best);
      }
  }
  const rois = {
    EE: buildRoi(E, eb, spec).roi,
    AA: buildRoi(A, ab, spec).roi,
    EA: buildRoi(E, withMid(eb, ab), spec).roi,
    AE: buildRoi(A, withMid(ab, eb), spec).roi,
    P1: buildRoi(peel(A), ab, spec).roi,
  };
  for (const x of [2.5, 3.5]) {
    rois[`E@${x}`] = buildRoi(E, eb, { ...spec, erosionMm: x }).roi;
    rois[`A@${x}`] = buildRoi(A, ab, { ...spec, erosionMm: x }).roi;
  }
  const img = toRImage(e.vol);
  const f = {};
  await Promise.all(Object.entries(rois).map(async ([k, r]) => (f[k] = await roiFeatures(img, r, settings, only, extract))));
  rows.push({ name: c.name, f });
  process.stderr.write(`${c.name}\n`);
}
await pool.close();
dists.sort((a, b) => a - b);
const q = (p) => dists[Math.floor(p * (dists.length - 1))].toFixed(2);
console.log(`boundary of the automatic mask relative to the expert's (mm, + = outside), ${dists.length} expert boundary pixels on the mid slices: mean ${(dists.reduce((s, x) => s + x, 0) / dists.length).toFixed(2)}, 5/25/50/75/95 % ${q(0.05)} ${q(0.25)} ${q(0.5)} ${q(0.75)} ${q(0.95)}`);
const comparisons = [
  ['EE', 'AA', 'expert ROI vs ours (both factors)'],
  ['EE', 'EA', 'mid-slice choice only'],
  ['EE', 'AE', 'boundary only'],
  ['E@2.5', 'A@2.5', 'both, erosion 2.5 mm'],
  ['E@3.5', 'A@3.5', 'both, erosion 3.5 mm'],
  ['EE', 'P1', 'ours minus one pixel layer'],
];
for (const [subset, rs] of [['all', rows], ['held-out', rows.filter((r) => !trained.has(r.name))]]) {
  console.log(`\n${subset} cases (n ${rs.length})`);
  for (const [a, b, what] of comparisons) {
    const cells = only.map((t) => {
      const pairs = rs.map((r) => [r.f[a][t], r.f[b][t]]);
      const ic = iccA1(pairs);
      const ba = blandAltman(pairs.map((p) => p[1]), pairs.map((p) => p[0]));
      return `${t.split('_').pop()} ICC ${ic.icc.toFixed(2)} bias/SD ${(ba.bias / sampleSd(pairs.map((p) => p[0]))).toFixed(2)}`;
    });
    console.log(`${`${a} vs ${b}`.padEnd(14)} ${what.padEnd(36)} ${cells.join(' | ')}`);
  }
}
