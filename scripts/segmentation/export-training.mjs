#!/usr/bin/env node
// Export phantom training studies for scripts/segmentation/train.py (run `npm run build` first).
// Usage: node scripts/segmentation/export-training.mjs --out /tmp/segtrain [--train 160] [--val 8] [--first 0] [--part 0/1]
// Namespace "segtrain": study n uses Rng('segtrain', n); evaluation uses `osteoscreen phantom` seeds, never these.
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportStudies } from '../../dist/phantom/train-data.js';

const { values } = parseArgs({
  options: { out: { type: 'string' }, train: { type: 'string', default: '160' }, val: { type: 'string', default: '8' }, part: { type: 'string', default: '0/1' } },
});
if (!values.out) throw new Error('--out DIR is required');
const nTrain = Number(values.train);
const nVal = Number(values.val);
const [pi, pn] = values.part.split('/').map(Number);
const t0 = Date.now();
const entries = [];
const all = nTrain + nVal;
for (let n = 0; n < all; n++) {
  if (n % pn !== pi) continue;
  entries.push(...exportStudies(values.out, 'segtrain', n, 1, n < nTrain ? 'train' : 'val', (s) => process.stderr.write(`${s} ${((Date.now() - t0) / 1000).toFixed(0)}s\n`)));
}
const indexFile = path.join(values.out, pn === 1 ? 'index.json' : `index.part${pi}.json`);
writeFileSync(indexFile, JSON.stringify({ namespace: 'segtrain', studies: entries }, null, 1));
if (pn > 1) {
  // merge parts when all are present
  const parts = [];
  for (let i = 0; i < pn; i++) {
    const f = path.join(values.out, `index.part${i}.json`);
    if (!existsSync(f)) process.exit(0);
    parts.push(...JSON.parse(readFileSync(f, 'utf8')).studies);
  }
  parts.sort((a, b) => Number(a.id.split('-')[1]) - Number(b.id.split('-')[1]));
  writeFileSync(path.join(values.out, 'index.json'), JSON.stringify({ namespace: 'segtrain', studies: parts }, null, 1));
}
process.stderr.write(`exported ${entries.length} studies in ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
