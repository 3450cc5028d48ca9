import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Segmenter } from '../../src/segmentation/segmenter.js';
import { evaluateHeldOut, reportTable } from '../../src/segmentation/evaluate.js';

// Held-out phantom generator studies: seed 777001 was never used for training (training: namespace "segtrain"
// and generator seed 424242). The larger run for the model card is scripts/segmentation/evaluate.mjs.
describe('held-out phantom studies', () => {
  it('meets Dice, level-label and QA-gate targets', { timeout: 1_200_000 } /* ~65 s on an idle 2-core machine; generous for a loaded one */, async () => {
    const seg = await Segmenter.load(path.resolve('models/vertebrae-seg.onnx'), { threads: 2 });
    const r = await evaluateHeldOut(seg, { seed: 777001, count: 6, badEvery: 2 });
    console.log(`held-out phantom studies (seed 777001, ${r.studies} studies, ${r.seconds.toFixed(0)} s)\n${reportTable(r)}`);
    if (r.good.reasons.length) console.log('rejected good studies:\n' + r.good.reasons.join('\n'));
    for (const l of ['L1', 'L2', 'L3', 'L4'] as const) expect(r.dice[l].mean).toBeGreaterThanOrEqual(0.9);
    expect(r.labels.total).toBeGreaterThan(0);
    expect(r.labels.accuracy).toBeGreaterThanOrEqual(0.98);
    expect(r.good.rejected / r.good.total).toBeLessThan(0.05);
    for (const k of ['truncated', 't2AsT1', 'blank'] as const) {
      expect(r.bad[k].total).toBeGreaterThan(0);
      expect(r.bad[k].rejected / r.bad[k].total).toBeGreaterThanOrEqual(0.95);
    }
  });
});
