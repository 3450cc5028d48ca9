import { describe, expect, it } from 'vitest';
import { labelLevels } from '../../src/segmentation/levels/index.js';
import { buildColumn, findWaist } from '../../src/segmentation/levels/column.js';
import { decideS1 } from '../../src/segmentation/levels/decide.js';
import { sacrumClassEvidence } from '../../src/segmentation/levels/evidence/sacrum-class.js';
import { lumbosacralAngleEvidence } from '../../src/segmentation/levels/evidence/lumbosacral-angle.js';
import { discPatternEvidence } from '../../src/segmentation/levels/evidence/disc-pattern.js';
import { thecalSacEvidence } from '../../src/segmentation/levels/evidence/thecal-sac.js';
import { contrastContradiction, pairContradiction } from '../../src/segmentation/contrast.js';
import { cropInPlane } from '../../src/segmentation/evaluate.js';
import { CLASS } from '../../src/segmentation/segmenter.js';
import type { LabelMap } from '../../src/volume/types.js';
import { box, spine } from '../helpers/spine-labels.js';

/** Sets every voxel of class `from` in rows [j0, j1) to `to` (all columns, all slices). */
function paintRows(m: LabelMap, from: number, to: number, j0: number, j1: number): void {
  const [nx, ny, nz] = m.dims;
  for (let k = 0; k < nz; k++) for (let j = j0; j < j1; j++) for (let i = 0; i < nx; i++) if (m.data[i + j * nx + k * nx * ny] === from) m.data[i + j * nx + k * nx * ny] = to;
}

// In spine(): body b (0 = the lowest, L5) spans rows 237-35b .. 262-35b; the sacrum rows 270..305.
const L5_ROWS: [number, number] = [237, 262];

describe('the column (pieces of one vertebra merged before counting)', () => {
  it('measures elements, heights and disc gaps top to bottom', () => {
    const col = buildColumn(spine(6, { width: 110 }));
    expect(col.elements).toHaveLength(7);
    for (const e of col.elements.slice(0, 6)) expect(e.heightMm).toBeGreaterThan(20);
    // 10 mm discs between the 25 mm bodies (rows 35 apart)
    for (const l of col.links.slice(1, 6)) expect(l!.gapMm).toBeGreaterThan(7);
    expect(col.elements[6].sacFrac).toBe(1);
  });

  it('a body cut in two by a dark band (marrow focus, Schmorl node) stays one vertebra, and every level is right', () => {
    const m = spine(6, { width: 110 });
    paintRows(m, CLASS.body, 0, 262 - 2 * 35 - 14, 262 - 2 * 35 - 11); // a 3 mm dark band through L3
    const r = labelLevels(m);
    expect(r.debug!.join('\n')).toMatch(/merged .* one vertebra/);
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'S1']);
  });
});

/**
 * A lordotic column: six bodies (25 mm tall, 38 mm deep, every 35 mm) and S1 tilted by `deg` degrees, on a 1 mm
 * grid of 7 slices, with the sac behind them; the rows start `cut` mm below the top of a seventh body, so that only
 * its lower part is in the field of view (a tight field of view that cuts the vertebra above L1 at 3 T).
 */
function lordoticSpine(deg: number, cut: number): LabelMap {
  const m: LabelMap = { dims: [220, 300, 7], spacing: [1, 1, 5], origin: [-10, -100, 150], direction: [0, 0, 1, 1, 0, 0, 0, -1, 0], data: new Uint8Array(220 * 300 * 7) };
  const a = (deg * Math.PI) / 180;
  const u = [Math.sin(a), -Math.cos(a)]; // cranial along the column (i posterior, j inferior)
  const v = [Math.cos(a), Math.sin(a)]; // posterior across it
  const topCentre = 20.3 - cut; // row of the seventh body's centre: its top corner (20.3 mm above it) is `cut` mm above row 0
  const c0 = [40, topCentre + 7 * 35 * Math.cos(a)]; // S1's centre (b = 0), seven levels below
  const fill = (b: number, cls: number, half: [number, number], k0: number, k1: number, across = 0) => {
    const c = [c0[0] + b * 35 * u[0], c0[1] + b * 35 * u[1]];
    for (let k = k0; k < k1; k++)
      for (let j = 0; j < 300; j++)
        for (let i = 0; i < 220; i++) {
          const d = [i - c[0], j - c[1]];
          const t = d[0] * u[0] + d[1] * u[1];
          const w = d[0] * v[0] + d[1] * v[1] - across;
          if (Math.abs(t) <= half[0] && Math.abs(w) <= half[1]) m.data[i + j * 220 + k * 220 * 300] = cls;
        }
  };
  fill(0, CLASS.sacrum, [15, 19], 0, 7);
  for (let b = 1; b <= 7; b++) fill(b, CLASS.body, [12.5, 19], 1, 6);
  fill(4, CLASS.csf, [140, 3], 2, 5, 28); // the sac, 28 mm behind the bodies' centres, from S1 up
  return m;
}

describe('pieces are merged by their height along the column, not along z', () => {
  it('a partial vertebra at the top edge of a lordotic column is not merged into the whole body below it', () => {
    const m = lordoticSpine(30, 25);
    const r = labelLevels(m);
    expect(r.debug!.join('\n')).not.toMatch(/merged/);
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'S1']);
    const t12 = r.bodies.find((b) => b.level === 'T12')!;
    expect(t12.bbox.min[1]).toBeGreaterThan(0); // the whole body below the cut one does not reach row 0
  });

  it('a tilted body cut in two by a dark band is still merged into one vertebra', () => {
    const m = lordoticSpine(30, 25);
    // a 3 mm band across L3 (b = 3) at its centre, along the body's own axis
    const a = (30 * Math.PI) / 180;
    const c = [40 + 3 * 35 * Math.sin(a), 20.3 - 25 + 7 * 35 * Math.cos(a) - 3 * 35 * Math.cos(a)];
    for (let k = 0; k < 7; k++)
      for (let j = 0; j < 300; j++)
        for (let i = 0; i < 220; i++) {
          const t = (i - c[0]) * Math.sin(a) - (j - c[1]) * Math.cos(a);
          if (Math.abs(t) <= 1.5 && m.data[i + j * 220 + k * 220 * 300] === CLASS.body) m.data[i + j * 220 + k * 220 * 300] = 0;
        }
    const r = labelLevels(m);
    expect(r.debug!.join('\n')).toMatch(/merged .* one vertebra/);
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'S1']);
  });
});

describe('two vertebrae joined across a disc are cut at their waist', () => {
  it('the waist of a cross-section profile: a narrow bridge between two plateaus, not a shallow dip in one', () => {
    const two = [0, 40, 40, 40, 40, 40, 8, 6, 8, 30, 30, 30, 0];
    expect(findWaist(two, 50)).toEqual({ bin: 7, ratio: expect.closeTo(22 / 3 / 30, 3) });
    expect(findWaist([0, 40, 40, 40, 34, 32, 34, 40, 40, 40, 0], 50)).toBeUndefined(); // one body, 80 % at its waist
    expect(findWaist(two, 200)).toBeUndefined(); // too few voxels on one side to be a vertebra
  });

  /** a `width` mm wide bridge of body class across the disc between bodies b and b + 1 of lordoticSpine(30, 25), at
   * their posterior rim (an osteophyte, or partial volume the network drew as bone; the partial body at the top edge
   * keeps its posterior part only) */
  function bridge(m: LabelMap, b: number, width: number): void {
    const a = (30 * Math.PI) / 180;
    const u = [Math.sin(a), -Math.cos(a)];
    const v = [Math.cos(a), Math.sin(a)];
    const c = [40 + (b + 0.5) * 35 * u[0], 20.3 - 25 + 7 * 35 * Math.cos(a) + (b + 0.5) * 35 * u[1]];
    for (let k = 1; k < 6; k++)
      for (let j = 0; j < 300; j++)
        for (let i = 0; i < 220; i++) {
          const t = (i - c[0]) * u[0] + (j - c[1]) * u[1];
          const w = (i - c[0]) * v[0] + (j - c[1]) * v[1];
          if (Math.abs(t) <= 6 && w <= 19 && w >= 19 - width) m.data[i + j * 220 + k * 220 * 300] = CLASS.body;
        }
  }

  it('a partial vertebra at the top edge joined to the body below it through a bridge is cut off, and every level is right', () => {
    const m = lordoticSpine(30, 25);
    bridge(m, 6, 10);
    const r = labelLevels(m);
    expect(r.debug!.join('\n')).toMatch(/two vertebrae joined, cut at its waist/);
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'S1']);
    const t12 = r.bodies.find((b) => b.level === 'T12')!;
    expect(t12.bbox.min[1]).toBeGreaterThan(0); // the partial vertebra is not part of it
  });

  it('two whole lumbar bodies joined by a bridge are cut apart, so the count stays right', () => {
    const m = lordoticSpine(30, 25);
    bridge(m, 3, 10); // L3 and L2
    const r = labelLevels(m);
    expect(r.debug!.join('\n')).toMatch(/two vertebrae joined/);
    expect(r.ok).toBe(true);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'T11', 'S1']);
  });
});

describe('each piece of S1 evidence on its own', () => {
  it('sacrum class: strong when clean, weak for both neighbours when mixed', () => {
    const clean = sacrumClassEvidence(buildColumn(spine(6, { width: 110 })));
    expect(clean.votes).toEqual([expect.objectContaining({ s1: 6, support: 'for', strength: 'strong' })]);
    const mixed = sacrumClassEvidence(buildColumn(spine(6, { width: 110, mixed: true })));
    expect(mixed.votes.map((v) => [v.s1, v.strength]).sort()).toEqual([
      [5, 'weak'],
      [6, 'weak'],
    ]);
    expect(sacrumClassEvidence(buildColumn(spine(6, { noSacrum: true }))).votes).toEqual([]);
  });

  it('lumbosacral angle: a weak vote where the column turns back sharply, none on a straight column', () => {
    const tilted = lumbosacralAngleEvidence(buildColumn(spine(6, { width: 110 })));
    expect(tilted.votes).toEqual([expect.objectContaining({ s1: 6, support: 'for', strength: 'weak' })]);
    expect(lumbosacralAngleEvidence(buildColumn(spine(6, { tilt: 0 }))).votes).toEqual([]);
  });

  it('disc pattern: strong against an "S1" with a disc and a vertebra below it', () => {
    const m = spine(6, { sacrumAsBody: true, width: 110 });
    paintRows(m, CLASS.body, CLASS.sacrum, ...L5_ROWS); // the network calls L5 "sacrum"
    const col = buildColumn(m);
    const ev = discPatternEvidence(col);
    expect(ev.votes).toContainEqual(expect.objectContaining({ s1: 5, support: 'against', strength: 'strong' }));
    // on a normal column it speaks against every lumbar body as S1, never against S1
    const normal = discPatternEvidence(buildColumn(spine(6, { width: 110 })));
    expect(normal.votes.map((v) => v.s1).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('thecal sac: weak against an S1 whose L5 would lie below the end of the sac', () => {
    const m = spine(6, { width: 110 });
    paintRows(m, CLASS.csf, 0, 262 - 35 - 5, 320); // the sac ends at L4 (or a stenosis interrupts it)
    const ev = thecalSacEvidence(buildColumn(m));
    expect(ev.summary).toMatch(/the sac ends at/);
    expect(ev.votes).toContainEqual(expect.objectContaining({ s1: 6, support: 'against', strength: 'weak' }));
    expect(thecalSacEvidence(buildColumn(spine(6, { width: 110 }))).votes.filter((v) => v.s1 === 6)).toEqual([]);
  });
});

describe('the decision combines the evidence', () => {
  it('accepts a clean sacrum class with the angle agreeing; the debug output lists every candidate with its votes', () => {
    const r = labelLevels(spine(6, { width: 110 }));
    expect(r.ok).toBe(true);
    expect(r.debug!.join('\n')).toMatch(/S1 candidate z -?\d+ mm: total 4 \(sacrum class \+strong, lumbosacral angle \+weak\)/);
    expect(r.evidence!.filter((m) => m.chosen).map((m) => m.evidence)).toEqual(['sacrum class', 'lumbosacral angle']);
  });

  it('a strong sacrum class stands alone when nothing strong speaks against it (no lumbosacral angle)', () => {
    const r = labelLevels(spine(6, { tilt: 0 }));
    expect(r.reason).toBeUndefined();
    expect(r.bodies.find((b) => b.level === 'S1')).toBeDefined();
  });

  it('a tilted L5 (the angle points at L5) does not veto a clean sacrum class', () => {
    const m = spine(6, { width: 130 });
    // move L5 back by 14 mm: the column turns back at L5 already
    const [nx, ny] = m.dims;
    for (let k = 1; k < 6; k++) for (let j = L5_ROWS[0]; j < L5_ROWS[1]; j++) for (let i = 20; i < 50; i++) m.data[i + j * nx + k * nx * ny] = 0;
    box(m, CLASS.body, 34, 64, L5_ROWS[0], L5_ROWS[1], 1, 6);
    box(m, CLASS.csf, 62, 73, L5_ROWS[0] - 30, L5_ROWS[1] + 6, 2, 5); // the sac follows L5 back
    const col = buildColumn(m);
    const angle = lumbosacralAngleEvidence(col);
    const d = decideS1(col, [sacrumClassEvidence(col), angle, discPatternEvidence(col), thecalSacEvidence(col)]);
    expect(d.s1).toBe(6);
    expect(labelLevels(m).ok).toBe(true);
  });

  it('refuses when strong evidence conflicts: L5 called sacrum with a disc and S1 below it', () => {
    const m = spine(6, { sacrumAsBody: true, width: 110 });
    paintRows(m, CLASS.body, CLASS.sacrum, ...L5_ROWS);
    const r = labelLevels(m);
    expect(r.reason).toMatch(/^level identification ambiguous: /);
    expect(r.reason).toMatch(/sacrum class: the element at z -?\d+ mm is 100 % sacrum/);
    expect(r.reason).toMatch(/lumbosacral angle: the column turns back/);
    expect(r.debug!.join('\n')).toMatch(/S1 candidate z -?\d+ mm: total 0 \(sacrum class \+strong, disc pattern -strong\)/);
  });

  it('"one of two" from a mixed sacrum class is narrowed by strong evidence against one of them', () => {
    // L5 half sacrum, but a disc and a vertebra-sized sacral element lie below it: L5 is not S1, so S1 is the element below
    const r = labelLevels(spine(6, { mixed: true, width: 110 }));
    expect(r.reason).toBeUndefined();
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'S1']);
    expect(r.debug!.join('\n')).toMatch(/sacrum class: S1 is z -?\d+ mm or z -?\d+ mm; disc pattern excludes/);
  });

  it('refuses on weak evidence alone: S1 drawn as a body, only the angle points at it', () => {
    expect(labelLevels(spine(6, { sacrumAsBody: true, width: 110 })).reason).toMatch(/only weak evidence for S1 .*lumbosacral angle/);
    expect(labelLevels(spine(7, { sacrumAsBody: true, tilt: 0, width: 110 })).reason).toMatch(/sacrum \(S1\) not found/);
  });

  it('an S1 at the lower edge of a tight field of view is accepted when plainly S1, refused when it cannot be told from L5', () => {
    // the field of view ends 20 mm into the sacrum: the promontory and the L5/S1 disc are in view, the column turns back
    const tight = cropInPlane(spine(6, { width: 110 }), 1, 0, 290);
    const r = labelLevels(tight);
    expect(r.reason).toBeUndefined();
    expect(r.debug!.join('\n')).toMatch(/S1 at the lower edge of the field of view: plainly S1/);
    expect(r.bodies.map((b) => b.level)).toEqual(['L5', 'L4', 'L3', 'L2', 'L1', 'T12', 'S1']);
    // a field of view cut inside L5, whose lower part the network calls "sacrum", on a straight column: not S1
    const m = spine(6, { tilt: 0, noSacrum: true });
    box(m, CLASS.sacrum, 20, 50, 262 + 10, 262 + 35, 1, 6);
    const cut = cropInPlane(m, 1, 0, 262 + 38);
    expect(labelLevels(cut).reason).toMatch(/S1 at the lower edge of the field of view .* cannot be told apart from a cut L5: .*lumbosacral angle/);
  });
});

describe('the contrast check: the header decides, the image only refuses a clear contradiction', () => {
  it('accepts real-world T2 (fatty marrow, spin echo, stenosis) and T1 near the old bounds', () => {
    // conventional spin-echo T2 of an older patient: CSF/body 0.58, fat about as bright as marrow
    expect(contrastContradiction('T2', { csfToBody: 0.58, fatToBody: 1.1 })).toBeUndefined();
    expect(contrastContradiction('T2', { csfToBody: 0.82 })).toBeUndefined();
    // real T1: CSF/body 0.67-0.79, fat brighter than marrow
    expect(contrastContradiction('T1', { csfToBody: 0.79, fatToBody: 1.3 })).toBeUndefined();
  });

  it('refuses CSF as bright as fat on a T1, CSF much darker than fat on a T2, and a swapped pair', () => {
    expect(contrastContradiction('T1', { csfToBody: 1.6, fatToBody: 1.1 })).toMatch(/not T1-weighted: CSF is as bright as subcutaneous fat/);
    expect(contrastContradiction('T2', { csfToBody: 0.25, fatToBody: 1.2 })).toMatch(/not T2-weighted/);
    expect(contrastContradiction('T1', { csfToBody: 1.7 })).toMatch(/no subcutaneous fat in view/);
    expect(contrastContradiction('T2', {})).toMatch(/CSF not identified/);
    expect(pairContradiction({ csfToBody: 1.3 }, { csfToBody: 0.4 })).toMatch(/swapped/);
    expect(pairContradiction({ csfToBody: 0.7 }, { csfToBody: 0.7 })).toMatch(/same contrast twice/);
    expect(pairContradiction({ csfToBody: 0.7 }, { csfToBody: 0.9 })).toBeUndefined();
  });
});
