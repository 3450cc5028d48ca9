/**
 * Every feature of reference/<case>.json (1502 per case: Original, LoG 1–5 mm, 8 wavelet bands, box-sigma,
 * additive Gaussian noise × 7 classes) against our extractor run with reference/params.yaml.
 * Tolerances: original 1e-6 relative (absolute floor 1e-9), filtered images 1e-4 relative.
 * Prints the worst mismatch per class and per image type.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractFeatures, loadParams } from '../../src/radiomics/index.js';
import { readNrrdImage, readNrrdMask } from '../../src/volume/nrrd.js';
import { availableCases, BASE, referenceJson } from './baseline-data.js';

const settings = loadParams(join(BASE, 'reference', 'params.yaml'));

/** Relative error (0 when equal); `pass` applies the tolerance with an absolute floor of 1e-9. */
function errOf(ours: number | null | undefined, ref: number | null, tol: number): { rel: number; pass: boolean } {
  if (ours === undefined) return { rel: Infinity, pass: false };
  if (ref === null || ours === null) return { rel: ref === ours ? 0 : Infinity, pass: ref === ours };
  const d = Math.abs(ours - ref);
  const rel = d === 0 ? 0 : d / Math.abs(ref);
  return { rel, pass: d <= 1e-9 || rel <= tol };
}

interface Worst {
  err: number;
  name: string;
  ours: number | null | undefined;
  ref: number | null;
}

describe.each(availableCases())('reference/%s.json', (cs) => {
  it('reproduces all features (original 1e-6, filtered 1e-4 relative)', () => {
    const ref = referenceJson(cs);
    const img = readNrrdImage(join(BASE, 'data', `${cs}_image.nrrd`));
    const mask = readNrrdMask(join(BASE, 'data', `${cs}_label.nrrd`));
    const { features } = extractFeatures(img, mask, settings);
    const byClass = new Map<string, Worst>();
    const byImage = new Map<string, Worst>();
    const failures: string[] = [];
    let compared = 0;
    for (const [name, r] of Object.entries(ref)) {
      const parts = name.split('_');
      const feature = parts.pop()!;
      const cls = parts.pop()!;
      const image = parts.join('_');
      const ours = features[name];
      const tol = image === 'original' ? 1e-6 : 1e-4;
      const { rel: e, pass } = errOf(ours, r, tol);
      compared++;
      if (!pass) failures.push(`${name}: ours=${ours} ref=${r} rel=${e.toExponential(2)}`);
      for (const [map, key] of [[byClass, `${cls}${image === 'original' ? ' (original)' : ''}`], [byImage, image]] as const) {
        const w = map.get(key);
        if (!w || e > w.err) map.set(key, { err: e, name: `${cls}_${feature}`, ours, ref: r });
      }
    }
    const fmt = (m: Map<string, Worst>) =>
      [...m.entries()].map(([k, w]) => `  ${k.padEnd(30)} ${w.err.toExponential(2).padStart(9)}  ${w.name}`).join('\n');
    console.log(`${cs}: ${compared} features compared, ${Object.keys(features).length} computed\nworst per class:\n${fmt(byClass)}\nworst per image type:\n${fmt(byImage)}`);
    expect(compared).toBe(1502);
    expect(Object.keys(features).length).toBe(1502);
    expect(failures).toEqual([]);
  }, 120_000);
});
