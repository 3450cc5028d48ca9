// Data flows one way: dicom -> store -> pipeline -> segmentation -> radiomics -> model -> report/output. The
// numeric layers (segmentation, radiomics, model) and the writers (report, output) must not reach back into the
// service that drives them. This test reads every relative import under src/ and checks it against the layer map
// below: a new cross-layer import fails here until it is put in the map on purpose (README, "Architecture").
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

/** what each top-level folder of src/ may import from the others (its own files always) */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  volume: ['common'],
  config: ['common', 'dicom'], // dicom/keywords.ts: the schema checks DICOM keywords in selection rules
  dicom: ['common', 'config', 'store', 'volume'],
  store: ['common', 'dicom'],
  segmentation: ['common', 'config', 'volume'],
  radiomics: ['common', 'volume'],
  model: ['common', 'config', 'radiomics', 'segmentation', 'volume'],
  report: ['common', 'dicom', 'volume'],
  output: ['common', 'config', 'dicom', 'report', 'store'],
  pipeline: ['common', 'config', 'dicom', 'model', 'output', 'radiomics', 'report', 'segmentation', 'store', 'volume'],
  outcomes: ['common', 'config', 'model', 'output', 'store'],
  phantom: ['common', 'dicom', 'segmentation', 'volume'],
  // the service's drivers: the admin API, campaigns, the CLI and benches may use any layer
  backfill: ['*'],
  admin: ['*'],
  bench: ['*'],
  types: ['*'],
  '.': ['*'],
};

/** a layer's command-line entry points and their file input are drivers too: they read DICOM folders and make
 * phantoms for their evaluation modes (command.ts, *-command.ts, io.ts, evaluate.ts) */
const DRIVER = /(^|-)command\.ts$|^io\.ts$|^evaluate\.ts$/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : '.';
};

/** every import of `text` (a file at `file` under src/) that its layer may not make */
function violations(file: string, text: string): string[] {
  const from = layerOf(file);
  const allowed = MAY_IMPORT[from] ?? [];
  if (allowed.includes('*') || DRIVER.test(path.basename(file))) return [];
  const bad: string[] = [];
  for (const m of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
    const to = layerOf(path.resolve(path.dirname(file), m[1]));
    if (to !== from && !allowed.includes(to)) bad.push(`${path.relative(SRC, file)} imports ${m[1]} (${from} -> ${to})`);
  }
  return bad;
}

describe('architecture: imports follow the data flow', () => {
  const files = tsFiles(SRC);

  it('finds the source tree, every folder in the layer map', () => {
    expect(files.length).toBeGreaterThan(100);
    for (const f of files) expect(MAY_IMPORT, `src/ folder "${layerOf(f)}" is missing from the layer map`).toHaveProperty([layerOf(f)]);
  });

  it('no layer imports one it may not', () => {
    expect(files.flatMap((f) => violations(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('a reversed import is caught, static or dynamic; a command file is a driver', () => {
    const seg = path.join(SRC, 'segmentation', 'x.ts');
    expect(violations(seg, "import { a } from '../pipeline/runner.js';")).toHaveLength(1);
    expect(violations(seg, "const m = await import('../admin/api.js');")).toHaveLength(1);
    expect(violations(seg, "import { a } from './roi.js';\nimport { b } from '../volume/types.js';")).toEqual([]);
    expect(violations(path.join(SRC, 'segmentation', 'x-command.ts'), "import { a } from '../phantom/index.js';")).toEqual([]);
  });
});
