/**
 * PyRadiomics' own regression baselines (baseline/baseline_<class>.csv): every column whose case is available,
 * i.e. the plain column (voxelArrayShift 2000) and the variants _2d, _FBN, _combined, _flatRegion, _normalization,
 * _resampling, _resegmentation. The settings of each column are taken from its own
 * `diagnostics_Configuration_Settings` row. Tolerance 1e-6 relative (absolute floor 1e-9).
 *
 * The plain shape column's mesh values were produced by an older PyRadiomics for one case (see the baseline README);
 * reference/<case>.json holds current values for the same settings (voxelArrayShift does not affect shape), so plain
 * shape features are checked against the JSON, and the CSV is reported next to it.
 * baseline_shape2D.csv needs single-slice masks that are not shipped, so it is not used here.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFeatures, loadParams } from '../../src/radiomics/index.js';
import type { RImage, RMask } from '../../src/radiomics/image.js';
import { readNrrdImage, readNrrdMask } from '../../src/volume/nrrd.js';
import { BASE, baselineColumns, referenceJson, type BaselineColumn } from './baseline-data.js';

const CLASSES = ['shape', 'firstorder', 'glcm', 'glrlm', 'glszm', 'gldm', 'ngtdm'];

const cache = new Map<string, { img: RImage; mask: RMask }>();
function load(cs: string) {
  let v = cache.get(cs);
  if (!v) {
    v = { img: readNrrdImage(join(BASE, 'data', `${cs}_image.nrrd`)), mask: readNrrdMask(join(BASE, 'data', `${cs}_label.nrrd`)) };
    cache.set(cs, v);
  }
  return v;
}

/** PyRadiomics settings dict of a column → our parameter object (None values mean "default"). */
function paramsFor(col: BaselineColumn, cls: string) {
  const setting: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(col.settings)) if (v !== null) setting[k] = v;
  return loadParams({ imageType: { Original: {} }, featureClass: { [cls]: null }, setting });
}

const columns = CLASSES.flatMap((cls) => baselineColumns(cls).map((col) => ({ cls, col })));
const summary = new Map<string, { err: number; name: string }>();

describe('PyRadiomics baseline CSV columns', () => {
  it.each(columns.map(({ cls, col }) => [`${col.column} ${cls}`, cls, col] as const))('%s', (_label, cls, col) => {
    const { img, mask } = load(col.cs);
    const { features } = extractFeatures(img, mask, paramsFor(col, cls));
    const json = col.variant === '' && cls === 'shape' ? referenceJson(col.cs) : null;
    const failures: string[] = [];
    let n = 0;
    for (const [name, csvValue] of Object.entries(col.values)) {
      const ref = json ? (json[name] as number) : csvValue;
      const ours = features[name];
      const d = ours === null || ours === undefined ? Infinity : Math.abs(ours - ref);
      const rel = d === 0 ? 0 : d / Math.abs(ref);
      n++;
      if (!(d <= 1e-9 || rel <= 1e-6)) failures.push(`${name}: ours=${ours} ref=${ref} rel=${rel.toExponential(2)}`);
      if (json && Math.abs(csvValue - ref) > 1e-6 * Math.abs(ref)) {
        console.log(`${col.column} ${name}: CSV ${csvValue} differs from current PyRadiomics (JSON) ${ref}; ours ${ours}`);
      }
      const key = `${col.variant || 'plain'}/${cls}`;
      const w = summary.get(key);
      if (!w || rel > w.err) summary.set(key, { err: rel, name: `${col.column} ${name}` });
    }
    expect(n).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  it('summary (worst relative error per variant/class)', () => {
    const lines = [...summary.entries()].sort().map(([k, w]) => `  ${k.padEnd(28)} ${w.err.toExponential(2).padStart(9)}  ${w.name}`);
    console.log(`baseline CSV: ${columns.length} column/class combinations\n${lines.join('\n')}`);
    expect(summary.size).toBeGreaterThan(0);
  });
});
