#!/usr/bin/env node
// Export real sagittal cases with expert vertebral-body masks for scripts/segmentation/train.py (run `npm run build`
// first). Each case folder holds `dicom/` (one sagittal series) and `*_vertebrae_dicomgrid.nii.gz` (expert mask on
// the DICOM grid: L1..L5 = 1..5, T12 = 12, T11 = 11; the sacrum and thoracic bodies above T11 are NOT labelled).
//
// Usage: node scripts/segmentation/export-real.mjs --out /tmp/segreal --root ../shared/real-lumbar-dev \
//          --cases case02,case08,case13,case19 [--val case19] [--margin-mm 4]
//
// Written exactly like the phantom export (index.json + raw arrays on the model grid of src/segmentation/slices.ts,
// image normalised by src/segmentation/normalise.ts as inference does, mask nearest-neighbour), with partial-label
// targets instead of the five classes:
//   1   = expert vertebral body (any of T11..L5)
//   250 = known "not a T11-L5 body" (everything from the superior end of T11 down, except the expert bodies;
//         the sacrum/S1, bowel, posterior elements, discs ... all fall here; train.py uses -log(1 - p_body))
//   255 = ignore (above the superior end of T11 minus a margin: unlabelled thoracic bodies are visible there)
// No tissue map (tissue: null): train.py uses the real image only (no SynthSeg re-synthesis).
import { writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadSeries } from '../../dist/segmentation/io.js';
import { readNiftiLabelMap } from '../../dist/volume/nifti.js';
import { normStats, normalise } from '../../dist/segmentation/normalise.js';
import { labelsToModelGrid, modelGrid, planeFrame, toModelGrid } from '../../dist/segmentation/slices.js';
import { MODEL_MULTIPLE, MODEL_SPACING } from '../../dist/segmentation/segmenter.js';

export const REAL_BODY = 1;
export const REAL_NOT_BODY = 250;
export const REAL_IGNORE = 255;

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    root: { type: 'string', default: '../shared/real-lumbar-dev' },
    cases: { type: 'string' },
    val: { type: 'string', default: '' },
    'margin-mm': { type: 'string', default: '4' },
  },
});
if (!values.out || !values.cases) throw new Error('--out DIR and --cases caseNN,... are required');
const marginPx = Math.ceil(Number(values['margin-mm']) / MODEL_SPACING);
const valSet = new Set(values.val.split(',').filter(Boolean));
mkdirSync(values.out, { recursive: true });

const entries = [];
for (const name of values.cases.split(',').filter(Boolean)) {
  const dir = path.join(values.root, name);
  const vol = await loadSeries(path.join(dir, 'dicom'));
  const maskFile = readdirSync(dir).find((f) => /_vertebrae_dicomgrid\.nii(\.gz)?$/.test(f));
  if (!maskFile) throw new Error(`${dir}: no *_vertebrae_dicomgrid.nii.gz`);
  const mask = readNiftiLabelMap(path.join(dir, maskFile));
  if (mask.dims.join() !== vol.dims.join()) throw new Error(`${name}: mask dims ${mask.dims} != series dims ${vol.dims}`);
  const frame = planeFrame(vol);
  if ('error' in frame) throw new Error(`${name}: ${frame.error}`);
  const grid = modelGrid(vol, frame, MODEL_SPACING, MODEL_MULTIPLE);
  const nz = vol.dims[2];
  const W = grid.width;
  const H = grid.height;
  const plane = W * H;
  // image: exactly the product's inference path (segmenter.ts)
  const st = normStats(vol.data);
  const norm = normalise(vol.data, st);
  const fill = Math.max(-1, Math.min(3, (0 - st.lo) / (st.hi - st.lo)));
  const stack = toModelGrid({ ...vol, data: norm }, grid, 0, nz, fill);
  // mask: the mask shares the series' voxel order, so use the series' geometry (identical grid)
  const lab = labelsToModelGrid(mask.data, vol, grid);
  // valid pixels (inside the native field of view): labelsToModelGrid leaves outside pixels 0, find them with a
  // probe of ones
  const inside = labelsToModelGrid(new Uint8Array(mask.data.length).fill(1), vol, grid);
  // superior end of the labelled column, per model column (projection over all slices), and globally
  const colTop = new Int32Array(W).fill(-1);
  let top = H;
  for (let k = 0; k < nz; k++)
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++) {
        if (!lab[k * plane + r * W + c]) continue;
        if (colTop[c] < 0 || r < colTop[c]) colTop[c] = r;
        if (r < top) top = r;
      }
  if (top >= H) throw new Error(`${name}: empty mask`);
  // below this row (per column) is "known": in labelled columns the column's own top (a T10 corner can never lie
  // below T11 in the same column), elsewhere the global top plus a margin
  const bound = new Int32Array(W);
  for (let c = 0; c < W; c++) bound[c] = colTop[c] >= 0 ? colTop[c] : top + marginPx;
  const target = new Uint8Array(nz * plane);
  let nBody = 0;
  let nNot = 0;
  for (let k = 0; k < nz; k++)
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++) {
        const i = k * plane + r * W + c;
        if (lab[i]) {
          target[i] = REAL_BODY;
          nBody++;
        } else if (!inside[i]) target[i] = REAL_NOT_BODY; // padding outside the field of view: background
        else if (r >= bound[c]) {
          target[i] = REAL_NOT_BODY;
          nNot++;
        } else target[i] = REAL_IGNORE;
      }
  const base = `real-${name}`;
  writeFileSync(path.join(values.out, `${base}_target.u8`), target);
  const f = `${base}_image.f32`;
  writeFileSync(path.join(values.out, f), Buffer.from(stack.buffer, stack.byteOffset, stack.byteLength));
  entries.push({
    id: base,
    split: valSet.has(name) ? 'val' : 'train',
    kind: 'real',
    nz,
    height: H,
    width: W,
    tissue: null,
    target: `${base}_target.u8`,
    images: [f],
    topRow: top,
  });
  process.stderr.write(`${name} ${vol.dims.join('x')} -> ${W}x${H}: body ${nBody}, not-body ${nNot}, top row ${top}\n`);
}
writeFileSync(path.join(values.out, 'index.json'), JSON.stringify({ namespace: 'real', studies: entries }, null, 1));
