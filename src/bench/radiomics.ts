/**
 * Radiomics benchmark (not a test): seconds per image type and in total for the full reference feature set
 * (Original, LoG ×5, wavelet ×8, box-sigma, noise × 7 classes = 1502 features) and for the 9 model terms only, on
 *  (a) the largest PyRadiomics baseline case (by ROI voxels),
 *  (b) a synthetic 320×320×15 image with a 3-slice ROI,
 *  (c) a phantom sagittal T1 with the L1–L4 label map (src/phantom), when available.
 * Sequential (one thread) and with a worker pool (default: one worker per CPU).
 * Options: --rounds N (default 2, best round reported), --workers N, --shared DIR (shared reference folder).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberOption, parseOptions } from '../common/command.js';
import { extractFeatures } from '../radiomics/extractor.js';
import { createRadiomicsPool } from '../radiomics/parallel.js';
import type { RImage, RMask } from '../radiomics/image.js';
import { defaultSettings } from '../radiomics/settings.js';
import type { Mat3, Vec3 } from '../volume/types.js';
import { readNrrdImage, readNrrdMask } from '../volume/nrrd.js';

interface Case {
  name: string;
  image: RImage;
  mask: RMask;
}

/** Deterministic texture: smooth structure + seeded noise, int16 range. */
export function syntheticCase(dims: Vec3 = [320, 320, 15], roiSlices = 3): Case {
  const [nx, ny, nz] = dims;
  const data = new Float64Array(nx * ny * nz);
  const mask = new Uint8Array(data.length);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const z0 = Math.floor(nz / 2) - Math.floor(roiSlices / 2);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const i = x + y * nx + z * nx * ny;
    data[i] = Math.round(400 + 150 * Math.sin(x / 9) * Math.cos(y / 13) + 60 * Math.sin((x + y + 3 * z) / 5) + 40 * rnd());
    const ex = (x - nx / 2) / 45, ey = (y - ny / 2) / 30;
    if (z >= z0 && z < z0 + roiSlices && ex * ex + ey * ey <= 1) mask[i] = 1;
  }
  const geo = { dims, spacing: [0.9, 0.9, 4] as Vec3, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3 };
  return { name: `synthetic ${nx}x${ny}x${nz}, ${roiSlices}-slice ROI`, image: { ...geo, data, pixelType: 'int16' }, mask: { ...geo, data: mask } };
}

function sharedDir(opt: string | undefined): string {
  if (opt) return opt;
  if (process.env.OSTEOSCREEN_SHARED_DIR) return process.env.OSTEOSCREEN_SHARED_DIR;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.resolve(root, '..', 'shared');
}

function largestBaselineCase(shared: string): Case | null {
  const dir = path.join(shared, 'radiomics-baseline', 'data');
  let best: Case | null = null;
  let bestN = -1;
  for (const cs of ['brain1', 'brain2', 'breast1']) {
    const ip = path.join(dir, `${cs}_image.nrrd`);
    if (!existsSync(ip)) continue;
    const mask = readNrrdMask(path.join(dir, `${cs}_label.nrrd`));
    let n = 0;
    for (let i = 0; i < mask.data.length; i++) if (mask.data[i] === 1) n++;
    if (n > bestN) {
      bestN = n;
      best = { name: `${cs} (${n} ROI voxels, image ${mask.dims.join('x')})`, image: readNrrdImage(ip), mask };
    }
  }
  return best;
}

async function phantomCase(): Promise<Case | null> {
  try {
    const ph = await import('../phantom/index.js');
    const st = ph.generateStudy({ seed: 1, roles: ['t1'] });
    const s = st.series.find((x) => x.role === 't1');
    if (!s || !s.geometry) return null;
    const data = Float64Array.from(s.image);
    const m = new Uint8Array(s.levels.length);
    let n = 0;
    for (let i = 0; i < m.length; i++) if (s.levels[i]! >= 1 && s.levels[i]! <= 4) { m[i] = 1; n++; }
    return { name: `phantom T1 ${s.geometry.dims.join('x')}, L1-L4 ROI (${n} voxels)`, image: { ...s.geometry, data, pixelType: 'float32' }, mask: { ...s.geometry, data: m } };
  } catch {
    return null;
  }
}

function modelTerms(shared: string): string[] {
  const p = path.join(shared, 'reference', 'paper-model.json');
  if (!existsSync(p)) return ['original_shape_SurfaceVolumeRatio', 'boxsigmaimage_glcm_Correlation', 'original_glszm_SmallAreaEmphasis'];
  const m = JSON.parse(readFileSync(p, 'utf8')) as { terms: { feature: string }[] };
  return [...new Set(m.terms.map((t) => t.feature))];
}

export async function benchRadiomics(args: string[]): Promise<void> {
  const { values } = parseOptions(args, { rounds: { type: 'string' }, shared: { type: 'string' }, workers: { type: 'string' } });
  const rounds = Math.max(1, Math.round(numberOption(values.rounds, '--rounds', 2)));
  const shared = sharedDir(values.shared);
  const settings = defaultSettings();
  const terms = modelTerms(shared);
  const cases: Case[] = [];
  const big = largestBaselineCase(shared);
  if (big) cases.push(big);
  cases.push(syntheticCase());
  const ph = await phantomCase();
  if (ph) cases.push(ph);
  const out = (s: string) => process.stdout.write(s + '\n');
  const pool = createRadiomicsPool({ workers: Math.max(1, Math.round(numberOption(values.workers, '--workers', os.cpus().length))) });
  out(`radiomics benchmark: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, best of ${rounds} round(s)`);
  out(`full set = ${Object.keys(settings.imageType).join(', ')}; 7 classes; model terms = ${terms.length}`);
  for (const c of cases) {
    let best: { total: number; per: Record<string, number>; n: number } | null = null;
    let bestOnly = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const res = extractFeatures(c.image, c.mask, settings);
      const total = (performance.now() - t0) / 1000;
      const per: Record<string, number> = {};
      for (const [k, v] of Object.entries(res.diagnostics)) {
        const m = /^diagnostics_Timing_(.+)_s$/.exec(k);
        if (m && m[1] !== 'total') per[m[1]!] = v as number;
      }
      if (!best || total < best.total) best = { total, per, n: Object.keys(res.features).length };
      const t1 = performance.now();
      extractFeatures(c.image, c.mask, settings, { only: terms });
      bestOnly = Math.min(bestOnly, (performance.now() - t1) / 1000);
    }
    out(`\n${c.name}`);
    out(`  ${'image type'.padEnd(24)} seconds`);
    for (const [k, v] of Object.entries(best!.per)) out(`  ${k.padEnd(24)} ${v.toFixed(3)}`);
    out(`  ${'total (full set)'.padEnd(24)} ${best!.total.toFixed(3)}   (${best!.n} features)`);
    out(`  ${'model terms only'.padEnd(24)} ${bestOnly.toFixed(3)}   (${terms.length} features)`);
    let par = Infinity;
    let parOnly = Infinity;
    for (let r = 0; r < rounds + 1; r++) {
      // first round warms the workers up
      const t0 = performance.now();
      await pool.extract(c.image, c.mask, settings);
      const t1 = performance.now();
      await pool.extract(c.image, c.mask, settings, { only: terms });
      const t2 = performance.now();
      if (r > 0 || rounds === 0) {
        par = Math.min(par, (t1 - t0) / 1000);
        parOnly = Math.min(parOnly, (t2 - t1) / 1000);
      }
    }
    out(`  ${`full set, ${pool.size} workers`.padEnd(24)} ${par.toFixed(3)}`);
    out(`  ${`model terms, ${pool.size} workers`.padEnd(24)} ${parOnly.toFixed(3)}`);
  }
  await pool.close();
}
