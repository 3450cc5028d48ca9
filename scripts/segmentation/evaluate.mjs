#!/usr/bin/env node
// Held-out evaluation of models/vertebrae-seg.onnx on phantom generator studies (run `npm run build` first).
// Usage: node scripts/segmentation/evaluate.mjs [--model models/vertebrae-seg.onnx] [--seed 20261126] [--count 40] [--bad-every 1]
// Training never used these seeds (training: namespace "segtrain" + generator seed 424242).
import { parseArgs } from 'node:util';
import { Segmenter } from '../../dist/segmentation/segmenter.js';
import { evaluateHeldOut, reportTable } from '../../dist/segmentation/evaluate.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/vertebrae-seg.onnx' },
    seed: { type: 'string', default: '20261126' },
    first: { type: 'string', default: '0' },
    count: { type: 'string', default: '40' },
    'bad-every': { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
  },
});
const seg = await Segmenter.load(values.model, { threads: Number(values.threads) });
const r = await evaluateHeldOut(seg, {
  seed: Number(values.seed),
  first: Number(values.first),
  count: Number(values.count),
  badEvery: Number(values['bad-every']),
  log: (s) => process.stderr.write(s + '\n'),
});
process.stdout.write(reportTable(r) + '\n');
process.stdout.write(JSON.stringify({ ...r, good: { ...r.good } }, null, 1) + '\n');
