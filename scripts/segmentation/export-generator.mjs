#!/usr/bin/env node
// Export studies of the phantom generator (generateStudy: all vendors, both bone states) for train.py and
// merge them into DIR/index.json. Usage: node scripts/segmentation/export-generator.mjs --out DIR [--seed 424242] [--count 96]
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportGeneratorStudies } from '../../dist/phantom/train-data.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, seed: { type: 'string', default: '424242' }, count: { type: 'string', default: '96' } } });
if (!values.out) throw new Error('--out DIR is required');
const t0 = Date.now();
const entries = await exportGeneratorStudies(values.out, Number(values.seed), 0, Number(values.count), 'train', (s) => process.stderr.write(`${s} ${((Date.now() - t0) / 1000).toFixed(0)}s\n`));
const idxFile = path.join(values.out, 'index.json');
const idx = existsSync(idxFile) ? JSON.parse(readFileSync(idxFile, 'utf8')) : { studies: [] };
idx.studies = idx.studies.filter((s) => !s.id.startsWith(`gen${values.seed}-`)).concat(entries);
idx.generatorSeed = Number(values.seed);
writeFileSync(idxFile, JSON.stringify(idx, null, 1));
process.stderr.write(`exported ${entries.length} generator studies in ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
