import { describe, expect, it } from 'vitest';
import type { Geometry, LabelMap, Mat3, Volume } from '../../src/volume/types.js';
import { planeFrame, modelGrid, toModelGrid, argmaxToNative, labelsToModelGrid } from '../../src/segmentation/slices.js';
import { normStats, normalise } from '../../src/segmentation/normalise.js';
import { connectedComponents, splitComponents } from '../../src/segmentation/components.js';
import { labelLevels } from '../../src/segmentation/levels/index.js';
import { buildRoi, DEFAULT_ROI_SPEC, erodeSlice, roiMask } from '../../src/segmentation/roi.js';
import { crossGridDice } from '../../src/segmentation/analyse.js';
import { CLASS } from '../../src/segmentation/segmenter.js';
import { cropInPlane, diceByLabel, labelAgreement } from '../../src/segmentation/evaluate.js';
import { box, geom, labelMap, SAG, spine } from '../helpers/spine-labels.js';

describe('slice geometry', () => {
  it('finds the canonical frame of a sagittal stack and refuses an axial one', () => {
    expect(planeFrame(geom([10, 10, 3], [1, 1, 5]))).toEqual({ colAxis: 0, colSign: 1, rowAxis: 1, rowSign: 1 });
    // i -> anterior (-y), j -> superior (+z): both flipped
    expect(planeFrame(geom([10, 10, 3], [1, 1, 5], [0, 0, 1, -1, 0, 0, 0, 1, 0]))).toEqual({ colAxis: 0, colSign: -1, rowAxis: 1, rowSign: -1 });
    // i -> inferior, j -> posterior: axes swapped
    expect(planeFrame(geom([10, 10, 3], [1, 1, 5], [0, 0, 1, 0, 1, 0, -1, 0, 0]))).toEqual({ colAxis: 1, colSign: 1, rowAxis: 0, rowSign: 1 });
    const axial = planeFrame(geom([10, 10, 3], [1, 1, 5], [1, 0, 0, 0, 1, 0, 0, 0, 1]));
    expect('error' in axial && axial.error).toMatch(/not a sagittal/);
  });

  it('model grid round trip preserves a labelled region (resample to 1.25 mm and back)', () => {
    for (const dir of [SAG, [0, 0, 1, -1, 0, 0, 0, 1, 0] as Mat3, [0, 0, 1, 0, 1, 0, -1, 0, 0] as Mat3]) {
      const g = geom([150, 130, 2], [0.9, 0.8, 5], dir);
      const lab = labelMap(g);
      box(lab, 1, 30, 90, 40, 100, 0, 2);
      const fr = planeFrame(g);
      if ('error' in fr) throw new Error(fr.error);
      const grid = modelGrid(g, fr, 1.25, 16);
      expect(grid.width % 16).toBe(0);
      expect(grid.height % 16).toBe(0);
      const ind: Volume = { ...g, data: Float32Array.from(lab.data) };
      const stack = toModelGrid(ind, grid, 0, 2, 0);
      const plane = grid.width * grid.height;
      const out = new Uint8Array(lab.data.length);
      for (let k = 0; k < 2; k++) {
        const probs = new Float32Array(2 * plane);
        for (let p = 0; p < plane; p++) {
          probs[plane + p] = stack[k * plane + p];
          probs[p] = 1 - stack[k * plane + p];
        }
        argmaxToNative(probs, 2, grid, g.dims, k, out);
      }
      const d = diceByLabel({ ...g, data: out }, lab, [1]);
      expect(d[1]).toBeGreaterThan(0.97);
      // nearest-neighbour label export covers the same area (in mm^2) within 3 %
      const nn = labelsToModelGrid(lab.data, g, grid);
      let cnt = 0;
      for (let p = 0; p < plane; p++) cnt += nn[p];
      expect(Math.abs(cnt * 1.25 * 1.25 - 60 * 0.9 * 60 * 0.8) / (60 * 0.9 * 60 * 0.8)).toBeLessThan(0.03);
    }
  });
});

describe('normalisation', () => {
  it('maps the 1st/99th percentiles of the foreground to 0/1 and ignores air', () => {
    const d = new Float32Array(20000);
    for (let i = 10000; i < 20000; i++) d[i] = 100 + ((i - 10000) / 10000) * 100;
    const st = normStats(d);
    expect(st.lo).toBeCloseTo(101, 0);
    expect(st.hi).toBeCloseTo(199, 0);
    expect(st.foreground).toBeCloseTo(0.5, 2);
    const n = normalise(d, st);
    expect(n[0]).toBe(-1); // clipped
    expect(n[10000]).toBeCloseTo(-1 / 98, 2);
    expect(n[19999]).toBeCloseTo(1 + 1 / 98, 2);
  });
});

describe('connected components', () => {
  it('separates boxes and reports voxel counts, centroids and bounding boxes', () => {
    const m = labelMap(geom([20, 20, 4], [1, 1, 1]));
    box(m, 1, 1, 5, 1, 5, 0, 2);
    box(m, 1, 10, 12, 10, 15, 1, 4);
    box(m, 2, 5, 6, 1, 5, 0, 2); // touching but other class
    const cc = connectedComponents(m.data, m.dims, (v) => v === 1);
    expect(cc.list.map((c) => c.voxels).sort((a, b) => a - b)).toEqual([30, 32]);
    const b = cc.list.find((c) => c.voxels === 30)!;
    expect(b.centroidIndex).toEqual([10.5, 12, 2]);
    expect(b.min).toEqual([10, 10, 1]);
    expect(b.max).toEqual([11, 14, 3]);
  });
});

describe('bridge splitting', () => {
  it('separates two bodies joined by a thin bridge and keeps every body voxel', () => {
    const m = labelMap(geom([60, 80, 3], [1, 1, 5]));
    box(m, 1, 10, 40, 5, 30, 0, 3);
    box(m, 1, 10, 40, 40, 65, 0, 3);
    box(m, 1, 20, 22, 30, 40, 1, 2); // 2 mm wide bridge across the "disc" on one slice
    expect(connectedComponents(m.data, m.dims, (v) => v === 1).list.length).toBe(1);
    const sc = splitComponents(m.data, m.dims, m.spacing, (v) => v === 1, 2.5);
    expect(sc.list.length).toBe(2);
    const total = sc.list.reduce((a, c) => a + c.voxels, 0);
    expect(total).toBe(2 * 30 * 25 * 3 + 20);
    expect(sc.list.map((c) => Math.round(c.centroidIndex[1])).sort((a, b) => a - b)).toEqual([17, 52]);
  });
});

describe('level labelling', () => {
  it('counts up from the sacrum: L5..L1, T12', () => {
    const r = labelLevels(spine(6));
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'S1']);
    const L1 = r.bodies.find((b) => b.level === 'L1')!;
    expect(L1.label).toBe(1);
    expect(L1.volumeMm3).toBe(30 * 25 * 5 * 5);
    expect(L1.midSlice).toBe(3);
    // the level map carries the labels on the body voxels
    const [nx, ny] = r.levels.dims;
    expect(r.levels.data[30 + (262 - 4 * 35 - 10) * nx + 3 * nx * ny]).toBe(1);
    expect(r.levels.data[50 + 280 * nx + 3 * nx * ny]).toBe(20);
  });

  it('refuses instead of guessing', () => {
    expect(labelLevels(spine(6, { noSacrum: true })).reason).toMatch(/sacrum \(S1\) not found/);
    expect(labelLevels(spine(4)).reason).toMatch(/only 4 vertebral bodies/);
    expect(labelLevels(spine(7, { skip: 2 })).reason).toMatch(/irregular spacing/);
  });

  it('keeps only the spinal column: drops a bowel loop in front of it and posterior elements behind the canal', () => {
    const m = spine(6, { shift: 60, width: 160 });
    box(m, CLASS.body, 0, 22, 150, 178, 1, 6); // "bowel loop" ~ 85 mm in front of the canal
    box(m, CLASS.body, 128, 145, 190, 215, 1, 6); // behind the canal
    const r = labelLevels(m);
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'S1']);
    expect(r.debug!.join('\n')).toMatch(/mm in front of the spinal canal: not a vertebral body/);
    expect(r.debug!.join('\n')).toMatch(/behind the spinal canal/);
    // without the canal the column is fitted through the body centroids: the bowel loop is still dropped
    for (let v = 0; v < m.data.length; v++) if (m.data[v] === CLASS.csf) m.data[v] = 0;
    const noCanal = labelLevels(m);
    expect(noCanal.ok).toBe(true);
    expect(noCanal.debug!.join('\n')).toMatch(/no spinal canal .* found[\s\S]*mm in front of the vertebral column/);
  });

  it('label agreement finds a shifted labelling', () => {
    const r = labelLevels(spine(6));
    const shifted: LabelMap = { ...r.levels, data: r.levels.data.map((v) => (v >= 1 && v <= 5 ? v + 1 : v)) };
    const la = labelAgreement(shifted, r.levels, [1, 2, 3, 4, 5]);
    expect(la.total).toBe(5);
    expect(la.correct).toBe(0);
    expect(labelAgreement(r.levels, r.levels, [1, 2, 3, 4, 5]).correct).toBe(5);
  });
});

describe('ROI', () => {
  it('takes the mid-sagittal slice +-1 of L1-L4, eroded in-plane', () => {
    const r = labelLevels(spine(6));
    const roi = buildRoi(r.levels, r.bodies, DEFAULT_ROI_SPEC);
    expect(roi.problems).toEqual([]);
    // 30 x 25 body, 3x3 structuring element (1 mm pixels, r = 1.5 mm) -> 28 x 23, on 3 slices
    for (const l of ['L1', 'L2', 'L3', 'L4'] as const) expect(roi.voxels[l]).toBe(3 * 28 * 23);
    const [nx, ny] = r.levels.dims;
    for (let k = 0; k < 7; k++) {
      let n = 0;
      for (let v = k * nx * ny; v < (k + 1) * nx * ny; v++) if (roi.roi.data[v]) n++;
      expect(n).toBe(k >= 2 && k <= 4 ? 4 * 28 * 23 : 0);
    }
    const all = roiMask(roi.roi, 'all');
    expect(all.data.reduce((a, b) => a + b, 0)).toBe(4 * 3 * 28 * 23);
    const l2 = roiMask(roi.roi, 'L2');
    expect(l2.data.reduce((a, b) => a + b, 0)).toBe(3 * 28 * 23);
    expect(all.data.reduce((a, b) => Math.max(a, b), 0)).toBe(1);
  });

  it('follows the RoiSpec: slices per body, the bodies chosen and the erosion', () => {
    const r = labelLevels(spine(6));
    // bodies lie on slices 1-5, mid slice 3: five slices fit, seven do not
    const five = buildRoi(r.levels, r.bodies, { vertebrae: ['L2', 'L4'], slicesPerBody: 5, erosionMm: 0 });
    expect(five.problems).toEqual([]);
    expect(five.voxels).toEqual({ L1: 0, L2: 5 * 30 * 25, L3: 0, L4: 5 * 30 * 25 });
    expect(roiMask(five.roi, 'L1').data.some((v) => v)).toBe(false);
    expect(roiMask(five.roi, 'L4').data.reduce((a, b) => a + b, 0)).toBe(5 * 30 * 25);
    const seven = buildRoi(r.levels, r.bodies, { ...DEFAULT_ROI_SPEC, slicesPerBody: 7 });
    expect(seven.problems).toContain('L1: no ROI voxels on slice 0 after erosion');
    expect(() => buildRoi(r.levels, r.bodies, { ...DEFAULT_ROI_SPEC, slicesPerBody: 2 })).toThrow(/odd/);
  });

  it('erosion radius follows the pixel spacing', () => {
    const m = labelMap(geom([40, 40, 1], [0.5, 1, 5]));
    box(m, 7, 5, 35, 5, 35, 0, 1);
    const out = new Uint8Array(m.data.length);
    // r = 1.5 mm: 3 pixels along i (0.5 mm), 1 along j (1 mm)
    expect(erodeSlice(m, 7, 0, 1.5, out, 1)).toBe((30 - 6) * (30 - 2));
    expect(erodeSlice(m, 7, 0, 0, new Uint8Array(m.data.length), 1)).toBe(900);
  });
});

describe('cross-grid agreement', () => {
  it('Dice across grids via physical space', () => {
    const r = labelLevels(spine(6));
    expect(crossGridDice(r.levels, r.levels, 3)).toBe(1);
    // same anatomy on a cropped grid (different origin/dims) agrees exactly
    const crop = cropInPlane(r.levels, 1, 10, 310);
    expect(crossGridDice(r.levels, crop, 3)).toBe(1);
    // a 5 mm shift of the second map lowers the Dice
    const moved: LabelMap = { ...r.levels, origin: [r.levels.origin[0], r.levels.origin[1], r.levels.origin[2] + 5] };
    expect(crossGridDice(r.levels, moved, 3)).toBeCloseTo(0.8, 2);
  });
});
