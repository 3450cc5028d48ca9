#!/usr/bin/env node
// Synthetic labelled cohort for the research-mode demonstration: phantom lumbar MRI studies (86 low bone
// mass / 74 normal by default, like the reference study) plus a labels CSV (id, sex, age, t_score, z_score)
// whose DXA values are drawn to agree with each phantom's bone state under the reference study's rule.
// PHANTOMS ARE TEST FIXTURES: results on them say nothing about real patients.
//
//   npm ci
//   node scripts/synthetic-cohort.mjs --out /tmp/cohort [--abnormal 86] [--normal 74] [--seed 2024]
//   npx osteoscreen cohort --studies /tmp/cohort/studies --out /tmp/cohort/features.csv --jobs 2
//   npx osteoscreen train --features /tmp/cohort/features.csv --labels /tmp/cohort/labels.csv \
//       --out /tmp/cohort/model.json --report /tmp/cohort/report --seed 1
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writePhantomStudies } from '../dist/phantom/index.js';
import { Rng } from '../dist/phantom/index.js';
import { parseHeader } from '../dist/dicom/tags.js';

function firstDicom(dir) {
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) {
      const f = firstDicom(p);
      if (f) return f;
    } else if (p.endsWith('.dcm')) return p;
  }
  return null;
}

const { values } = parseArgs({
  options: { out: { type: 'string' }, abnormal: { type: 'string', default: '86' }, normal: { type: 'string', default: '74' }, seed: { type: 'string', default: '2024' } },
});
if (!values.out) {
  process.stderr.write('usage: node scripts/synthetic-cohort.mjs --out DIR [--abnormal 86] [--normal 74] [--seed 2024]\n');
  process.exit(2);
}
const nAbn = Number(values.abnormal);
const nNorm = Number(values.normal);
const seed = Number(values.seed);
const studiesDir = path.join(values.out, 'studies');
mkdirSync(studiesDir, { recursive: true });

// Interleave bone states deterministically so any prefix of the cohort is mixed.
const states = [];
for (let a = 0, n = 0; a < nAbn || n < nNorm; ) {
  if (a < nAbn && (n >= nNorm || a * nNorm <= n * nAbn)) (states.push('low'), a++);
  else (states.push('normal'), n++);
}
const rng = new Rng(seed * 7919 + 17);
const rows = [];
const t0 = Date.now();
for (let i = 0; i < states.length; i++) {
  const bone = states[i];
  const [m] = writePhantomStudies({ out: studiesDir, seed, count: 1, start: i, bone });
  // DXA values consistent with the label under the reference rule (women and > 50: T-score; others: Z-score).
  // Sex and age as written in the phantom's DICOM (patient module).
  const h = parseHeader(readFileSync(firstDicom(path.join(studiesDir, m.dir)))).dataset;
  const female = h.PatientSex === 'F';
  const age = parseInt(String(h.PatientAge ?? '065Y'), 10);
  const usesT = female || age > 50;
  let t, z;
  if (bone === 'low') {
    t = usesT ? -1.1 - rng.next() * 2.6 : -0.5 - rng.next() * 2;
    z = usesT ? t + 0.5 + rng.next() : -2.1 - rng.next() * 1.2;
  } else {
    t = usesT ? -0.9 + rng.next() * 2.4 : -0.5 + rng.next() * 2;
    z = t + 0.3 + rng.next() * 0.8;
  }
  rows.push([m.studyInstanceUID, female ? 'F' : 'M', age, t.toFixed(2), z.toFixed(2)]);
  process.stderr.write(`synthetic-cohort ${i + 1}/${states.length} ${bone} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
}
writeFileSync(path.join(values.out, 'labels.csv'), ['id,sex,age,t_score,z_score', ...rows.map((r) => r.join(','))].join('\n') + '\n');
process.stderr.write(`wrote ${states.length} studies to ${studiesDir} and ${path.join(values.out, 'labels.csv')} (${nAbn} abnormal / ${nNorm} normal)\n`);
