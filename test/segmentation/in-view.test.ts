import { describe, expect, it } from 'vitest';
import { inView } from '../../src/segmentation/real-eval.js';
import { box, geom, labelMap } from '../helpers/spine-labels.js';

/** an expert mask L1..L5 (labels 1..5): 25 mm bodies every 35 mm, rows `top` .. downwards, on `rows` rows */
function expertMask(rows: number, top: number) {
  const m = labelMap(geom([80, rows, 7], [1, 1, 5]));
  for (let l = 1; l <= 5; l++) {
    const j0 = top + (l - 1) * 35;
    box(m, l, 20, 50, Math.max(0, j0), Math.min(rows, j0 + 25), 1, 6);
  }
  return m;
}

describe('inView: L1 and S1 in the field of view, judged from the expert mask', () => {
  it('both in view when L1 is clear of the edge and S1 (one level below L5) lies inside the image', () => {
    expect(inView(expertMask(260, 10))).toEqual({ l1: true, s1: true });
  });
  it('L1 cut by the top edge', () => {
    expect(inView(expertMask(260, -8))).toEqual({ l1: false, s1: true });
  });
  it('S1 out of view when the image ends just below L5', () => {
    // L5 rows 150..175; S1's centre would be at row 197
    expect(inView(expertMask(185, 10))).toEqual({ l1: true, s1: false });
  });
  it('a mask without L1 or L5 has neither in view', () => {
    const m = expertMask(260, 10);
    m.data.forEach((v, i) => (v === 1 || v === 5 ? (m.data[i] = 0) : 0));
    expect(inView(m)).toEqual({ l1: false, s1: false });
  });
  it('S1 is judged from L4 and L5 even when the mask has no L1 (it was not, when bodies were taken by position)', () => {
    const m = expertMask(260, 10);
    m.data.forEach((v, i) => (v === 1 ? (m.data[i] = 0) : 0));
    expect(inView(m)).toEqual({ l1: false, s1: true });
  });
});
