#!/usr/bin/env node
// Sacrum pseudo-labels for the real training cases written by export-real.mjs (run `npm run build` first).
//
// The expert masks label T11-L5 only: S1 and the rest of the sacrum are background there, so a network trained on
// them alone learns "S1 is nothing" and the level labelling loses its anchor. The phantom-only model (the shipped
// model before real data was added) calls the real S1/S2 "vertebral body" reliably (shared/notes/real-mri-findings.md).
// This script runs that model on each exported real stack and turns its body/sacrum voxels below the expert L5 into
// the sacrum class (2) of the training target, where they form the column's continuation:
//   - not expert-labelled and not within 2 px of an expert body, below L5 (per model column: below its lowest L5
//     row; model rows grow inferiorly),
//   - within 70 mm below the lower end of L5 and within 25 mm laterally of L5's centre,
//   - not in front of L5 (no more than 5 mm anterior of L5's centre: bowel and bladder lie in front),
//   - and not more than 45 mm behind it (posterior elements and the sacral crest lie further back).
// Components of at least 0.5 cm^3 are kept whole, starting from the highest (S1) and only those touching it or
// each other (the sacrum is one chain; a bowel loop in front of it is a separate blob). Everything else keeps its partial label (250 / 255).
//
// Usage: git show 2a9dee9:models/vertebrae-seg.onnx > /tmp/phantom-seg.onnx   # the phantom-only model
//        node scripts/segmentation/pseudo-sacrum.mjs --data /tmp/segreal --model /tmp/phantom-seg.onnx [--png DIR]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Segmenter, MODEL_SPACING, N_CLASSES } from '../../dist/segmentation/segmenter.js';
import { connectedComponents } from '../../dist/segmentation/components.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, model: { type: 'string' }, png: { type: 'string' }, threads: { type: 'string', default: '2' } } });
if (!values.data || !values.model) throw new Error('--data DIR (export-real.mjs output) and --model F (phantom-only model) are required');
const SACRUM = 2;
const BODY = 1;
const index = JSON.parse(readFileSync(path.join(values.data, 'index.json'), 'utf8'));
const seg = await Segmenter.load(values.model, { threads: Number(values.threads) });
const mm = (x) => Math.round(x / MODEL_SPACING);
for (const s of index.studies) {
  const { nz, height: H, width: W } = s;
  const plane = H * W;
  const img = new Float32Array(readFileSync(path.join(values.data, s.images[0])).buffer.slice(0));
  const tpath = path.join(values.data, s.target);
  const target = new Uint8Array(readFileSync(tpath));
  // the phantom-only model's classes on the model grid
  const cls = new Uint8Array(nz * plane);
  for (let k = 0; k < nz; k++) {
    const input = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) input.set(img.subarray(Math.min(nz - 1, Math.max(0, k + c - 1)) * plane, (Math.min(nz - 1, Math.max(0, k + c - 1)) + 1) * plane), c * plane);
    const probs = await seg.runRaw(input, [1, 3, H, W]);
    for (let p = 0; p < plane; p++) {
      let best = 0;
      for (let c = 1; c < N_CLASSES; c++) if (probs[c * plane + p] > probs[best * plane + p]) best = c;
      cls[k * plane + p] = best;
    }
  }
  // L5 = the lowest expert body: the expert body voxels with the largest rows form it; find its extent from the
  // export's body label (1 for all levels): take the body component with the largest mean row.
  const bodyCc = connectedComponents(target, [W, H, nz], (v) => v === BODY);
  const l5 = bodyCc.list.filter((c) => c.voxels > 2000).reduce((a, b) => (b.centroidIndex[1] > a.centroidIndex[1] ? b : a));
  const [l5c, l5r, l5k] = l5.centroidIndex;
  const l5Bottom = l5.max[1];
  // Below L5 per model column (projection over the slices): where the column holds L5, below its lowest L5 row
  // (the L5/S1 disc is oblique); elsewhere below the centre of L5. The phantom model's surplus around the expert
  // bodies (within 2 px of one) is left out, so it cannot bridge L5 to S1.
  const colBottom = new Int32Array(W).fill(-1);
  const l5Ids = new Set([l5.id]);
  for (let v = 0; v < target.length; v++) {
    if (!l5Ids.has(bodyCc.ids[v])) continue;
    const c = v % W;
    const r = Math.floor((v % plane) / W);
    if (r > colBottom[c]) colBottom[c] = r;
  }
  const nearBody = (k, r, c) => {
    for (let dr = -2; dr <= 2; dr++)
      for (let dc = -2; dc <= 2; dc++) {
        const rr = r + dr;
        const cc2 = c + dc;
        if (rr >= 0 && rr < H && cc2 >= 0 && cc2 < W && target[k * plane + rr * W + cc2] === BODY) return true;
      }
    return false;
  };
  const cand = new Uint8Array(nz * plane);
  for (let v = 0; v < cand.length; v++) {
    if (!(cls[v] === BODY || cls[v] === SACRUM) || target[v] === BODY) continue;
    const k = Math.floor(v / plane);
    const r = Math.floor((v % plane) / W);
    const c = v % W;
    if (r <= (colBottom[c] >= 0 ? colBottom[c] : l5r)) continue;
    if (nearBody(k, r, c)) continue;
    cand[v] = 1;
  }
  const cc = connectedComponents(cand, [W, H, nz], (v) => v === 1);
  const keep = new Set();
  for (const c of cc.list) {
    const [ci, cj, ck] = c.centroidIndex;
    if (c.voxels * MODEL_SPACING * MODEL_SPACING * 2 < 500) continue; // slice spacing is ~2 mm in these cases
    if (c.min[1] > l5Bottom + mm(70)) continue;
    if (Math.abs(ck - l5k) * 2 > 25) continue;
    if (ci < l5c - mm(5) || ci > l5c + mm(45)) continue;
    keep.add(c.id);
  }
  // The sacrum is one chain from S1 down: start at the candidate that reaches highest (S1) and add only candidates
  // touching what is kept so far (within 2 px in-plane, same or next slice); a bowel loop in front is a separate blob.
  const order = cc.list.filter((c) => keep.has(c.id)).sort((a, b) => a.min[1] - b.min[1]);
  const chain = new Set(order.length ? [order[0].id] : []);
  for (let grown = true; grown; ) {
    grown = false;
    for (const c of order) {
      if (chain.has(c.id)) continue;
      let touches = false;
      for (let v = 0; v < cand.length && !touches; v++) {
        if (cc.ids[v] !== c.id) continue;
        const k = Math.floor(v / plane);
        const r = Math.floor((v % plane) / W);
        const col = v % W;
        for (let dk = -1; dk <= 1 && !touches; dk++)
          for (let dr = -2; dr <= 2 && !touches; dr++)
            for (let dc = -2; dc <= 2 && !touches; dc++) {
              const kk = k + dk;
              const rr = r + dr;
              const c2 = col + dc;
              if (kk < 0 || kk >= nz || rr < 0 || rr >= H || c2 < 0 || c2 >= W) continue;
              if (chain.has(cc.ids[kk * plane + rr * W + c2])) touches = true;
            }
      }
      if (touches) {
        chain.add(c.id);
        grown = true;
      }
    }
  }
  keep.clear();
  for (const id of chain) keep.add(id);
  let n = 0;
  for (let v = 0; v < cand.length; v++) {
    if (!keep.has(cc.ids[v])) continue;
    target[v] = SACRUM;
    n++;
  }
  writeFileSync(tpath, target);
  process.stderr.write(`${s.id}: ${keep.size} sacral components, ${n} voxels -> sacrum (L5 centre row ${l5r.toFixed(0)}, lower end ${l5Bottom})\n`);
  if (values.png) {
    const { createCanvas } = await import('@napi-rs/canvas');
    mkdirSync(values.png, { recursive: true });
    const k = Math.round(l5k);
    const cv = createCanvas(W, H);
    const ctx = cv.getContext('2d');
    const id = ctx.createImageData(W, H);
    for (let p = 0; p < plane; p++) {
      const g = Math.max(0, Math.min(255, img[k * plane + p] * 200));
      const t = target[k * plane + p];
      const rgb = t === BODY ? [g, g * 0.5, g * 0.5] : t === SACRUM ? [g * 0.4, g, g * 0.4] : t === 255 ? [g * 0.5, g * 0.5, g] : [g, g, g];
      id.data.set([...rgb, 255], p * 4);
    }
    ctx.putImageData(id, 0, 0);
    writeFileSync(path.join(values.png, `${s.id}.png`), cv.toBuffer('image/png'));
  }
}
